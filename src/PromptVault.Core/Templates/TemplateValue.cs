using System.Collections;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace PromptVault.Core.Templates;

/// <summary>
/// A value as a template sees it, without copying: a JSON input read in place, an in-process .NET value as it was given
/// (string, CLR number, bool, dictionary, other enumerable; a <see cref="JsonElement"/> inside one reads as JSON), the
/// root (the variables), or nothing. The rules are Handlebars.Net's, which rendered templates before: see
/// <see cref="IsTruthy"/>, <see cref="Write(RenderOutput)"/> and <see cref="Member"/>.
/// </summary>
internal readonly struct TemplateValue
{
    private readonly object? _value;
    private readonly JsonElement _json;
    private readonly Kind _kind;

    // Read once: each JsonElement.ValueKind looks the value up in its document again.
    private readonly JsonValueKind _jsonKind;

    // Known to hold no JSON escape, so its strings are written as they are without looking for one (see Scanned).
    private readonly bool _unescaped;

    private enum Kind : byte { Undefined, Json, Clr, Root }

    private TemplateValue(Kind kind, object? value, JsonElement json, bool unescaped = false)
        : this(kind, value, json, kind == Kind.Json ? json.ValueKind : default, unescaped)
    {
    }

    private TemplateValue(Kind kind, object? value, JsonElement json, JsonValueKind jsonKind, bool unescaped)
    {
        _kind = kind;
        _value = value;
        _json = json;
        _jsonKind = jsonKind;
        _unescaped = unescaped;
    }

    public static TemplateValue Undefined => default;

    public static TemplateValue Of(JsonElement json) => new(Kind.Json, null, json);

    /// <summary>A JSON value whose kind was read already.</summary>
    public static TemplateValue Of(JsonElement json, JsonValueKind kind) => new(Kind.Json, null, json, kind, unescaped: false);

    /// <summary>
    /// This value, its JSON text looked through once for escapes: a loop writes many strings from one array, and one scan of
    /// it costs less than one per string.
    /// </summary>
    public TemplateValue Scanned() =>
        _kind != Kind.Json || _unescaped || _json.ValueSpan().Contains((byte)'\\') ? this : new(Kind.Json, null, _json, unescaped: true);

    /// <summary>An item or member of this JSON value, which holds no escape when this holds none.</summary>
    public TemplateValue Inner(JsonElement json) => new(Kind.Json, null, json, _unescaped);

    public static TemplateValue Of(object? value) => value is JsonElement json ? Of(json) : new(Kind.Clr, value, default);

    public static TemplateValue Of(int value) => new(Kind.Clr, value, default);

    public static TemplateValue Of(bool value) => new(Kind.Clr, value ? BoxedTrue : BoxedFalse, default);

    public static TemplateValue Of(RootValues root) => new(Kind.Root, root, default);

    private static readonly object BoxedTrue = true;
    private static readonly object BoxedFalse = false;

    public bool IsUndefined => _kind == Kind.Undefined;

    /// <summary>Falsy: nothing, null, false, "", a zero, an empty array or object (Handlebars.Net counts an empty object too).</summary>
    public bool IsTruthy => _kind switch
    {
        Kind.Json => _jsonKind switch
        {
            JsonValueKind.String => _json.ValueSpan().Length > 2,
            JsonValueKind.Number => _json.GetDouble() != 0,
            JsonValueKind.True => true,
            JsonValueKind.Array => _json.GetArrayLength() > 0,
            JsonValueKind.Object => _json.GetPropertyCount() > 0,
            _ => false,
        },
        Kind.Clr => _value switch
        {
            null => false,
            bool flag => flag,
            string text => text.Length > 0,
            sbyte or byte or short or ushort or int or uint or long or ulong or float or double or decimal => Convert.ToDouble(_value, CultureInfo.InvariantCulture) != 0,
            ICollection collection => collection.Count > 0,
            IEnumerable sequence => sequence.GetEnumerator().MoveNext(),
            _ => true,
        },
        Kind.Root => ((RootValues)_value!).Count > 0,
        _ => false,
    };

    public bool IsTrue => _kind switch
    {
        Kind.Json => _jsonKind == JsonValueKind.True,
        Kind.Clr => _value is true,
        _ => false,
    };

    /// <summary>Whether <c>#each</c> and sections iterate it (an array or an object) rather than take it as one value.</summary>
    public bool IsIterable => _kind switch
    {
        Kind.Json => _jsonKind is JsonValueKind.Array or JsonValueKind.Object,
        Kind.Clr => _value is not string and IEnumerable,
        Kind.Root => true,
        _ => false,
    };

    /// <summary>
    /// A member by exact name (an object's; the last one, if JSON repeats it), an array's item by index or its
    /// <c>count</c> (any case), a string's <c>length</c> (any case).
    /// </summary>
    public TemplateValue Member(in PathSegment segment)
    {
        switch (_kind)
        {
            case Kind.Json:
                switch (_jsonKind)
                {
                    case JsonValueKind.Object:
                        return _json.TryGetProperty(segment.Utf8Name, out var member) ? Inner(member) : default;
                    case JsonValueKind.Array:
                        if (segment.Index >= 0) return segment.Index < _json.GetArrayLength() ? Inner(_json[segment.Index]) : default;
                        return segment.IsCount ? Of(_json.GetArrayLength()) : default;
                    case JsonValueKind.String:
                        return segment.IsLength ? Of(_json.GetString()!.Length) : default;
                    default:
                        return default;
                }
            case Kind.Clr:
                return _value switch
                {
                    // The shapes in-process callers build most, matched by class before the interfaces.
                    Dictionary<string, object?> map => map.TryGetValue(segment.Name, out var value) ? Of(value) : default,
                    string text => segment.IsLength ? Of(text.Length) : default,
                    IReadOnlyDictionary<string, object?> map => map.TryGetValue(segment.Name, out var value) ? Of(value) : default,
                    IDictionary<string, object?> map => map.TryGetValue(segment.Name, out var value) ? Of(value) : default,
                    IDictionary map => map.Contains(segment.Name) ? Of(map[segment.Name]) : default,
                    IList list when segment.Index >= 0 => segment.Index < list.Count ? Of(list[segment.Index]) : default,
                    IEnumerable sequence when segment.Index >= 0 => ElementAt(sequence, segment.Index),
                    ICollection collection when segment.IsCount => Of(collection.Count),
                    _ => default,
                };
            case Kind.Root:
                return ((RootValues)_value!).Get(segment.Name);
            default:
                return default;
        }
    }

    /// <summary><c>lookup</c>'s key: its text as a member name (a number reads an array's item).</summary>
    public string? AsKey() => _kind switch
    {
        Kind.Json => _jsonKind switch
        {
            JsonValueKind.String => _json.GetString(),
            JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => _json.GetRawText(),
            _ => null,
        },
        Kind.Clr when _value is not null and not IEnumerable or string => Format(_value),
        _ => null,
    };

    private static TemplateValue ElementAt(IEnumerable sequence, int index)
    {
        foreach (var item in sequence)
            if (index-- == 0) return Of(item);
        return default;
    }

    /// <summary>Writes the value as Handlebars.Net did: JSON's literals for booleans, invariant numbers, arrays and objects written out.</summary>
    /// <exception cref="InvalidInputException">Arrays nest more than <see cref="TemplateLimits.MaxValueDepth"/> deep in the value.</exception>
    public void Write(RenderOutput output) => Write(output, depth: 0);

    /// <summary>Writes the value, <paramref name="depth"/> arrays deep in the value written.</summary>
    private void Write(RenderOutput output, int depth)
    {
        // Strings first: they are what templates write most.
        if (_kind == Kind.Json && _jsonKind == JsonValueKind.String)
        {
            WriteJsonString(_json, _json.ValueSpan(), output);
        }
        else if (_value is string text)
        {
            output.Write(text);
        }
        else if (IsIterable)
        {
            // An array's items are written out in turn, so a deep .NET value (or a list that holds itself) would take the stack.
            if (depth == TemplateLimits.MaxValueDepth)
                throw TemplateLimits.ValueTooDeep("variables");
            var first = true;
            foreach (var (name, item) in Items())
            {
                if (!first) output.Write(',');
                first = false;
                if (name is null) item.Write(output, depth + 1);
                else WriteEntry(name, item, output);
            }
        }
        else if (_kind == Kind.Json)
        {
            switch (_jsonKind)
            {
                case JsonValueKind.Number:
                    if (_json.TryGetInt64(out var whole)) output.Write(whole);
                    else output.Write(_json.GetDouble());
                    break;
                case JsonValueKind.True:
                    output.Write("true");
                    break;
                case JsonValueKind.False:
                    output.Write("false");
                    break;
            }
        }
        else if (_kind == Kind.Clr && _value is not null)
        {
            output.Write(Format(_value));
        }
    }

    /// <summary>
    /// Writes this JSON object's member as <see cref="Member"/> and then <see cref="Write(RenderOutput)"/> would, without making a value
    /// of a string first (a loop's body writes its items' members most); false when this is not a JSON object.
    /// </summary>
    public bool TryWriteJsonMember(PathSegment segment, RenderOutput output)
    {
        if (_kind != Kind.Json || _jsonKind != JsonValueKind.Object) return false;
        if (!_json.TryGetProperty(segment.Utf8Name, out var member)) return true;
        var raw = member.ValueSpan();
        // Only a string's JSON text starts with a quote.
        if (raw[0] == (byte)'"') WriteJsonString(member, raw, output);
        else Inner(member).Write(output);
        return true;
    }

    /// <summary>A JSON string whose text, quotes included, is <paramref name="raw"/>, written as it is when it holds no escape.</summary>
    private void WriteJsonString(JsonElement json, ReadOnlySpan<byte> raw, RenderOutput output)
    {
        if (_unescaped || !raw.Contains((byte)'\\')) output.WriteUtf8(raw[1..^1]);
        else output.Write(json.GetString());
    }

    /// <summary>
    /// One member of an object written out, as .NET writes a KeyValuePair: <c>[name, value]</c>, the value by its own
    /// ToString (so <c>True</c>, and a type name for an array or object), which is what Handlebars.Net wrote.
    /// </summary>
    private static void WriteEntry(string name, TemplateValue value, RenderOutput output)
    {
        output.Write('[');
        output.Write(name);
        output.Write(", ");
        output.Write(value.ToEntryText());
        output.Write(']');
    }

    private string? ToEntryText() => _kind switch
    {
        Kind.Json => _jsonKind switch
        {
            JsonValueKind.String => _json.GetString(),
            JsonValueKind.Number => _json.TryGetInt64(out var whole) ? whole.ToString(CultureInfo.InvariantCulture) : _json.GetDouble().ToString(CultureInfo.InvariantCulture),
            JsonValueKind.True => bool.TrueString,
            JsonValueKind.False => bool.FalseString,
            JsonValueKind.Array => "System.Collections.Generic.List`1[System.Object]",
            JsonValueKind.Object => "System.Collections.Generic.Dictionary`2[System.String,System.Object]",
            _ => "",
        },
        // A boolean as .NET writes it (True); a number, a decimal included, as Format writes it alone, so as its JSON would.
        Kind.Clr => _value switch
        {
            null => null,
            bool flag => flag.ToString(),
            _ => Format(_value),
        },
        _ => "",
    };

    /// <summary>A scalar CLR value's text: booleans as JSON writes them, a decimal as its JSON would render, other numbers invariant.</summary>
    private static string? Format(object value) => value switch
    {
        string text => text,
        bool flag => flag ? "true" : "false",
        decimal number => FormatDecimal(number),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };

    /// <summary>As <see cref="Of(JsonElement)"/> renders the JSON number: a long when the text is whole, else a double (2.50m writes 2.5).</summary>
    private static string FormatDecimal(decimal number)
    {
        var text = number.ToString(CultureInfo.InvariantCulture);
        return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var whole)
            ? whole.ToString(CultureInfo.InvariantCulture)
            : double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>A JSON array's items, which a loop walks in place; false for anything else.</summary>
    public bool TryGetJsonArray(out JsonElement json)
    {
        json = _json;
        return _kind == Kind.Json && _jsonKind == JsonValueKind.Array;
    }

    /// <summary>A JSON object's members, which a loop walks in place; false for anything else.</summary>
    public bool TryGetJsonObject(out JsonElement json)
    {
        json = _json;
        return _kind == Kind.Json && _jsonKind == JsonValueKind.Object;
    }

    /// <summary>A .NET list (not a dictionary), which a loop reads by index rather than copying.</summary>
    public bool TryGetList([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IList? list)
    {
        list = _kind == Kind.Clr ? _value as List<object?> ?? (_value is IList items and not IDictionary ? items : null) : null;
        return list is not null;
    }

    /// <summary>
    /// The items of a .NET collection (names null) or the members of a dictionary or the root, in order, copied for a
    /// loop; JSON is walked in place instead (<see cref="TryGetJsonArray"/>).
    /// </summary>
    public (string? Name, TemplateValue Value)[] CopyItems() => Items().ToArray();

    /// <summary>The items of an array (names null) or the members of an object, a dictionary or the root, in order.</summary>
    private IEnumerable<(string? Name, TemplateValue Value)> Items() => _kind switch
    {
        Kind.Json when _jsonKind == JsonValueKind.Array => _json.EnumerateArray().Select(item => ((string?)null, Of(item))),
        Kind.Json when _jsonKind == JsonValueKind.Object => _json.EnumerateObject().Select(p => ((string?)p.Name, Of(p.Value))),
        Kind.Clr when _value is IDictionary<string, object?> or IReadOnlyDictionary<string, object?> or IDictionary
            => Entries(_value).Select(e => ((string?)e.Name, e.Value)),
        Kind.Clr when _value is IEnumerable sequence and not string => sequence.Cast<object?>().Select(item => ((string?)null, Of(item))),
        Kind.Root => ((RootValues)_value!).Entries().Select(e => ((string?)e.Name, e.Value)),
        _ => [],
    };

    private static IEnumerable<(string Name, TemplateValue Value)> Entries(object map)
    {
        switch (map)
        {
            case IReadOnlyDictionary<string, object?> readOnly:
                foreach (var (name, value) in readOnly) yield return (name, Of(value));
                break;
            case IDictionary<string, object?> generic:
                foreach (var (name, value) in generic) yield return (name, Of(value));
                break;
            case IDictionary plain:
                foreach (DictionaryEntry entry in plain) yield return (Convert.ToString(entry.Key, CultureInfo.InvariantCulture) ?? "", Of(entry.Value));
                break;
        }
    }
}

/// <summary>One step of a path (<c>name</c>, <c>[0]</c>), with what reading it needs prepared when the template is compiled.</summary>
internal sealed class PathSegment
{
    public PathSegment(string name)
    {
        Name = name;
        Utf8Name = System.Text.Encoding.UTF8.GetBytes(name);
        Index = int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var index) ? index : -1;
        IsCount = name.Equals("count", StringComparison.OrdinalIgnoreCase);
        IsLength = name.Equals("length", StringComparison.OrdinalIgnoreCase);
    }

    public string Name { get; }

    public byte[] Utf8Name { get; }

    /// <summary>The item index the name reads on an array, or -1.</summary>
    public int Index { get; }

    public bool IsCount { get; }

    public bool IsLength { get; }
}

/// <summary>The variables of one render: the root context, read by slot (the variable's position in the contract).</summary>
internal sealed class RootValues(string[] names)
{
    private readonly TemplateValue[] _values = new TemplateValue[names.Length];

    public TemplateValue this[int slot]
    {
        get => _values[slot];
        set => _values[slot] = value;
    }

    /// <summary>How many variables have a value (absent optional ones are left out, as they were from the dictionary).</summary>
    public int Count => _values.Count(v => !v.IsUndefined);

    public TemplateValue Get(string name)
    {
        var slot = Array.IndexOf(names, name);
        return slot < 0 ? default : _values[slot];
    }

    /// <summary>The variables that have a value, in the contract's order.</summary>
    public IEnumerable<(string Name, TemplateValue Value)> Entries()
    {
        for (var slot = 0; slot < _values.Length; slot++)
            if (!_values[slot].IsUndefined) yield return (names[slot], _values[slot]);
    }
}

internal static class JsonElementExtensions
{
    /// <summary>The value's UTF-8 text as it is in the document (a string with its quotes).</summary>
    public static ReadOnlySpan<byte> ValueSpan(this JsonElement element) => JsonMarshal.GetRawUtf8Value(element);
}
