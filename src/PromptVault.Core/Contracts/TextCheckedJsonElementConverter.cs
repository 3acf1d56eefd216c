using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Unicode;

namespace PromptVault.Core.Contracts;

/// <summary>
/// Reads a free-form JSON value (render variables, a default value, metric metadata) and refuses it when a string or
/// property name in it is not valid text: JSON escapes can spell a lone surrogate (<c>"\ud800"</c>), and raw bytes can
/// be invalid UTF-8, neither of which a .NET string read from the value later could hold; or it holds the character
/// U+0000, which PostgreSQL's text and jsonb cannot store (<see cref="NulRefusal"/> refuses it in plain fields) — in requests only (<paramref name="refuseNul"/>), so text stored before the rule can still be read back.
/// Refusing here, while the request is read, gives the caller a 400 naming the field instead of a failure wherever the
/// value is first used or stored.
/// </summary>
internal sealed class TextCheckedJsonElementConverter(bool refuseNul) : JsonConverter<JsonElement>
{
    public override JsonElement Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var element = ReadChecked(ref reader, refuseNul);
        // A free-form value a request stores (a default value, a response format, a tool's parameters, metadata) must mean one
        // thing to every reader: with a name given twice the API reads the last and other JSON readers may read the first.
        // Requests only, as for U+0000: values stored before the rule still read back.
        if (refuseNul && RepeatedName(element) is { } repeated) throw new JsonException(repeated);
        return element;
    }

    /// <summary>What is wrong when an object in <paramref name="element"/> gives a property name twice; null when none does.</summary>
    internal static string? RepeatedName(JsonElement element) =>
        FindRepeatedName(element) is var (at, name)
            ? $"the property name '{Prompts.PromptRules.Shorten(name)}' is given twice{(at.Length == 0 ? "" : $" in '{at[1..]}'")}; a name may appear once in an object."
            : null;

    /// <summary>
    /// The first property name that an object in <paramref name="element"/> gives twice, and where that object is (each step
    /// <c>.name</c> or <c>[index]</c>, empty for the value itself); null when none is. Names are compared as read, escapes decoded.
    /// </summary>
    internal static (string At, string Name)? FindRepeatedName(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    if (FindRepeatedName(item) is var (inItem, itemName)) return ($"[{index}]{inItem}", itemName);
                    index++;
                }
                return null;
            case JsonValueKind.Object:
                // A few names are compared in place; many through a set, so a large object costs linear time, not quadratic.
                var seen = element.GetPropertyCount() > 8 ? new HashSet<string>(StringComparer.Ordinal) : null;
                var position = 0;
                foreach (var property in element.EnumerateObject())
                {
                    if (seen is null ? NamedBefore(element, property, position++) : !seen.Add(property.Name)) return ("", property.Name);
                    if (FindRepeatedName(property.Value) is var (inValue, valueName)) return ($".{property.Name}{inValue}", valueName);
                }
                return null;
            default:
                return null;
        }
    }

    // Compared as UTF-8, allocating nothing, unless the name has escapes (NameEquals decodes the earlier name's own).
    private static bool NamedBefore(JsonElement element, JsonProperty property, int position)
    {
        var raw = JsonMarshal.GetRawUtf8PropertyName(property);
        var escaped = raw.Contains((byte)'\\');
        foreach (var earlier in element.EnumerateObject())
        {
            if (position-- == 0) return false;
            if (escaped ? earlier.NameEquals(property.Name) : earlier.NameEquals(raw)) return true;
        }
        return false;
    }

    /// <summary>Reads the value at <paramref name="reader"/> and refuses it when it holds invalid text (<see cref="InvalidJsonTextException"/>).</summary>
    internal static JsonElement ReadChecked(ref Utf8JsonReader reader, bool refuseNul)
    {
        var element = JsonElement.ParseValue(ref reader);
        EnsureText(element, refuseNul);
        return element;
    }

    /// <summary>Refuses <paramref name="element"/> when it holds invalid text (<see cref="InvalidJsonTextException"/>).</summary>
    /// <remarks>
    /// A value whose raw JSON has no escape holds only valid text when its bytes are valid UTF-8 (<see cref="CheckText{T}"/>),
    /// so most values (a render's variables, a batch of 500 metric events) are checked in one pass over their bytes; only a
    /// value with an escape somewhere, or with bytes that are not UTF-8, is searched value by value for where the fault is.
    /// </remarks>
    internal static void EnsureText(JsonElement element, bool refuseNul)
    {
        var raw = JsonMarshal.GetRawUtf8Value(element);
        if (!raw.Contains((byte)'\\') && Utf8.IsValid(raw)) return;
        InvalidJsonTextException.ThrowIfFound(FindInvalidText(element, refuseNul));
    }

    public override void Write(Utf8JsonWriter writer, JsonElement value, JsonSerializerOptions options) => value.WriteTo(writer);

    /// <summary>
    /// Where in <paramref name="element"/> the first invalid string or property name is (relative to it, each step
    /// <c>.name</c> or <c>[index]</c>), and what is wrong with it; null when nothing is. Built only on the way out of a
    /// refusal, so a valid value costs no strings.
    /// </summary>
    internal static (string At, TextFault Fault)? FindInvalidText(JsonElement element, bool refuseNul)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                return CheckText(JsonMarshal.GetRawUtf8Value(element), element, static e => e.GetString(), refuseNul) is { } fault ? ("", fault) : null;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    if (FindInvalidText(item, refuseNul) is var (inItem, itemFault)) return ($"[{index}]{inItem}", itemFault);
                    index++;
                }
                return null;
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (CheckText(JsonMarshal.GetRawUtf8PropertyName(property), property, static p => p.Name, refuseNul) is { } nameFault) return ("", nameFault);
                    if (FindInvalidText(property.Value, refuseNul) is var (inValue, valueFault)) return ($".{property.Name}{inValue}", valueFault);
                }
                return null;
            default:
                return null;
        }
    }

    /// <summary>
    /// As <see cref="FindInvalidText(JsonElement, bool)"/>, for a parsed <see cref="JsonNode"/> (the MCP SDK's request params):
    /// values read from JSON are checked raw, so a lone surrogate is found before anything reads it as a string.
    /// </summary>
    internal static (string At, TextFault Fault)? FindInvalidText(JsonNode? node, bool refuseNul)
    {
        switch (node)
        {
            case JsonObject json:
                KeyValuePair<string, JsonNode?>[] properties;
                try
                {
                    properties = [.. json];
                }
                catch (InvalidOperationException)
                {
                    return ("", TextFault.NotUtf16); // a property name that JsonElement cannot read as a string
                }
                foreach (var (name, value) in properties)
                {
                    if (CheckText(name, refuseNul) is { } nameFault) return ("", nameFault);
                    if (FindInvalidText(value, refuseNul) is var (inValue, valueFault)) return ($".{name}{inValue}", valueFault);
                }
                return null;
            case JsonArray array:
                for (var index = 0; index < array.Count; index++)
                {
                    if (FindInvalidText(array[index], refuseNul) is var (inItem, itemFault)) return ($"[{index}]{inItem}", itemFault);
                }
                return null;
            case JsonValue value when value.TryGetValue<JsonElement>(out var element):
                return FindInvalidText(element, refuseNul);
            case JsonValue value when value.TryGetValue<string>(out var text):
                return CheckText(text, refuseNul) is { } fault ? ("", fault) : null;
            default:
                return null;
        }
    }

    private static TextFault? CheckText(string text, bool refuseNul) =>
        InvalidJsonTextException.FaultIn(text) is { } fault && (refuseNul || fault != TextFault.Nul) ? fault : null;

    // Text without escapes is valid when its UTF-8 is, which needs no string: JSON spells U+0000 only as an escape.
    // Escapes (\ud800, \u0000) are decoded to tell. Static reads with their state, so checking a valid value allocates no closure.
    private static TextFault? CheckText<T>(ReadOnlySpan<byte> raw, T value, Func<T, string?> read, bool refuseNul)
    {
        if (!raw.Contains((byte)'\\')) return Utf8.IsValid(raw) ? null : TextFault.NotUtf16;
        try
        {
            return NulRefusal.HoldsNul(read(value)) && refuseNul ? TextFault.Nul : null;
        }
        catch (InvalidOperationException)
        {
            return TextFault.NotUtf16; // what JsonElement throws for a lone surrogate or invalid UTF-8
        }
    }
}

/// <summary>What is wrong with text a request holds.</summary>
public enum TextFault
{
    /// <summary>Not valid UTF-16: a lone surrogate, or bytes that are not UTF-8.</summary>
    NotUtf16,

    /// <summary>It holds U+0000, which no store keeps.</summary>
    Nul,
}

/// <summary>
/// A string or property name in a request is not valid text (<see cref="TextCheckedJsonElementConverter"/>,
/// <see cref="NulRefusal"/>). System.Text.Json sets <see cref="JsonException.Path"/> to the value that
/// holds it; <see cref="Location"/> is where inside that value (<c>[0].role</c>, <c>name</c>), empty when it is the value itself.
/// </summary>
public sealed class InvalidJsonTextException(string location, TextFault fault = TextFault.NotUtf16)
    : JsonException($"{Describe("it", fault)}{(location.Length == 0 ? "" : $" at '{location}'")}.")
{
    public string Location { get; } = location;

    public TextFault Fault { get; } = fault;

    /// <summary>Throws when a string or property name in <paramref name="element"/>, a request's, is not valid text; for a value read without the API's options.</summary>
    public static void ThrowIfIn(JsonElement element) => TextCheckedJsonElementConverter.EnsureText(element, refuseNul: true);

    /// <summary>Throws when a string or property name in <paramref name="node"/>, a request's parsed JSON, is not valid text.</summary>
    public static void ThrowIfIn(JsonNode? node) => ThrowIfFound(TextCheckedJsonElementConverter.FindInvalidText(node, refuseNul: true));

    /// <summary>Throws for what a search for invalid text found (<c>.name</c>, <c>[0]</c> steps from the value searched), if anything.</summary>
    internal static void ThrowIfFound((string At, TextFault Fault)? found)
    {
        if (found is var (at, fault)) throw new InvalidJsonTextException(at.StartsWith('.') ? at[1..] : at, fault);
    }

    /// <summary>
    /// What is wrong with an in-process string as text a request may carry: U+0000, or a lone surrogate (which the JSON
    /// writer escapes as <c>\ud800</c> and the server refuses); null when nothing is.
    /// </summary>
    public static TextFault? FaultIn(string? text)
    {
        if (text is null) return null;
        if (text.Contains('\0')) return TextFault.Nul;
        var span = text.AsSpan();
        for (var i = span.IndexOfAnyInRange('\uD800', '\uDFFF'); i >= 0 && i < span.Length; i++)
        {
            if (!char.IsSurrogate(span[i])) continue;
            if (char.IsHighSurrogate(span[i]) && i + 1 < span.Length && char.IsLowSurrogate(span[i + 1])) i++;
            else return TextFault.NotUtf16;
        }
        return null;
    }

    /// <summary>Where the text is when <see cref="JsonException.Path"/> (or the caller) names the value holding it as <paramref name="field"/>: <c>variables.s</c>, <c>variables.s[0].role</c>.</summary>
    public string? At(string? field) =>
        Location.Length == 0 ? field : field is null ? Location : Location[0] == '[' ? field + Location : $"{field}.{Location}";

    /// <summary>The API's refusal (400 <c>invalid_text</c>) of this text, inside the value named <paramref name="field"/> (the request body when null).</summary>
    public InvalidInputException Refusal(string? field)
    {
        var at = At(field);
        return new InvalidInputException("invalid_text", Describe(at is null ? "The request body" : $"'{at}'", Fault) + ".", at);
    }

    /// <summary>The refusal, said of <paramref name="subject"/>: "'unitId' holds text that is not valid UTF-16 (…)".</summary>
    public static string Describe(string subject, TextFault fault = TextFault.NotUtf16) => fault == TextFault.Nul
        ? $"{subject} holds the character U+0000 (\\u0000), which PromptVault does not store"
        : $"{subject} holds text that is not valid UTF-16 (a lone surrogate such as \\ud800, or bytes that are not UTF-8)";
}
