using System.Collections;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace PromptVault.Core.Contracts;

/// <summary>
/// Refuses a request's plain strings (names, ids, content; lists of them) holding U+0000 (NUL), once their object is
/// read: PostgreSQL's text cannot store it, and on SQLite it would be stored text the other engine (an export moved to
/// PostgreSQL) could not take. Refused for both engines alike, so a request means the same on each. Requests only
/// (<see cref="PromptVaultJson.Requests"/>): what was stored before the rule still reads back. A check after reading
/// rather than a converter for strings, which would hide every string's type from the OpenAPI document's generator.
/// </summary>
internal static class NulRefusal
{
    /// <summary>A type-info modifier: objects with text properties check them after they are read.</summary>
    public static void Modify(JsonTypeInfo typeInfo)
    {
        if (typeInfo.Kind != JsonTypeInfoKind.Object) return;
        var texts = typeInfo.Properties.Where(p => p.Get is not null && (p.PropertyType == typeof(string) || typeof(IEnumerable<string>).IsAssignableFrom(p.PropertyType))).ToArray();
        if (texts.Length == 0) return;
        var after = typeInfo.OnDeserialized;
        typeInfo.OnDeserialized = value =>
        {
            foreach (var property in texts)
                Check(property.Get!(value), property.Name);
            after?.Invoke(value);
        };
    }

    /// <summary>Whether <paramref name="text"/> holds U+0000.</summary>
    internal static bool HoldsNul(string? text) => text is not null && text.Contains('\0');

    /// <summary>
    /// Refuses the in-process .NET value of the variable <paramref name="name"/> (what the SDK renders with, read as the JSON it
    /// would serialize to: a dictionary as an object, any other enumerable as an array, as <see cref="Templates.VariableContract"/>
    /// reads it) when a string or key in it is not text the server takes (<see cref="InvalidJsonTextException.FaultIn"/>; 400
    /// <c>invalid_text</c>), or when it nests deeper than <see cref="Templates.TemplateLimits.MaxValueDepth"/> (<c>invalid_variable</c>):
    /// a list that holds itself would otherwise take the stack here, before the render's own depth guard. Each names where,
    /// as <see cref="TextCheckedJsonElementConverter"/> does for JSON (which also checks a JSON value inside).
    /// </summary>
    internal static void EnsureVariable(string name, object? value)
    {
        if (FindIn(value, depth: 0) is not var (at, fault)) return;
        if (fault is not { } textFault) throw Templates.TemplateLimits.ValueTooDeep($"variables.{name}{at}…");
        throw new InvalidJsonTextException(at.StartsWith('.') ? at[1..] : at, textFault).Refusal($"variables.{name}");
    }

    /// <summary>What <see cref="FindIn"/> finds at an array or object nested too deep.</summary>
    private static readonly TextFault? TooDeep = null;

    /// <summary>The levels of a value too deep that its path names: the rest repeat, as a value that holds itself does.</summary>
    private const int LevelsNamedTooDeep = 4;

    /// <summary>Where in an array or object <paramref name="depth"/> deep a fault is: the item's <paramref name="segment"/>, then where in the item.</summary>
    private static (string At, TextFault? Fault) Within(string segment, (string At, TextFault? Fault) inItem, int depth) =>
        inItem.Fault is null && depth >= LevelsNamedTooDeep ? ("", TooDeep) : (segment + inItem.At, inItem.Fault);

    /// <summary>Where in <paramref name="value"/>, itself <paramref name="depth"/> arrays and objects deep, the first fault is; null when none is.</summary>
    private static (string At, TextFault? Fault)? FindIn(object? value, int depth)
    {
        switch (value)
        {
            case string text:
                return InvalidJsonTextException.FaultIn(text) is { } inText ? ("", inText) : null;
            case JsonElement json:
                return TextCheckedJsonElementConverter.FindInvalidText(json, refuseNul: true) is var (inJson, jsonFault) ? (inJson, jsonFault) : null;
            case IEnumerable when depth == Templates.TemplateLimits.MaxValueDepth:
                return ("", TooDeep);
            case IReadOnlyDictionary<string, object?> map:
                return FindInEntries(map, depth);
            case IDictionary<string, object?> map:
                return FindInEntries(map, depth);
            case IDictionary map:
                foreach (DictionaryEntry entry in map)
                {
                    if (entry.Key is string key && FindInEntry(key, entry.Value, depth) is { } found) return found;
                }
                return null;
            case IEnumerable items:
                var index = 0;
                foreach (var item in items)
                {
                    if (FindIn(item, depth + 1) is { } inItem) return Within($"[{index}]", inItem, depth);
                    index++;
                }
                return null;
            default:
                return null;
        }
    }

    private static (string At, TextFault? Fault)? FindInEntries(IEnumerable<KeyValuePair<string, object?>> entries, int depth)
    {
        foreach (var (key, item) in entries)
        {
            if (FindInEntry(key, item, depth) is { } found) return found;
        }
        return null;
    }

    private static (string At, TextFault? Fault)? FindInEntry(string key, object? item, int depth) =>
        InvalidJsonTextException.FaultIn(key) is { } inKey ? ("", inKey) : FindIn(item, depth + 1) is { } inItem ? Within($".{key}", inItem, depth) : null;

    private static void Check(object? value, string name)
    {
        if (value is string text)
        {
            if (HoldsNul(text)) throw new InvalidJsonTextException(name, TextFault.Nul);
            return;
        }
        var index = 0;
        foreach (var item in (IEnumerable<string>?)value ?? [])
        {
            if (HoldsNul(item)) throw new InvalidJsonTextException($"{name}[{index}]", TextFault.Nul);
            index++;
        }
    }
}
