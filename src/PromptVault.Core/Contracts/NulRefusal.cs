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
    /// Refuses an in-process .NET value holding U+0000 or a lone surrogate in a string or key, read as the JSON it would serialize to (a
    /// dictionary as an object, any other enumerable as an array, as <see cref="Templates.VariableContract"/> reads it),
    /// naming where as <see cref="TextCheckedJsonElementConverter"/> does for JSON (which also checks a JSON value inside).
    /// </summary>
    internal static void EnsureText(object? value) => InvalidJsonTextException.ThrowIfFound(FindIn(value));

    private static (string At, TextFault Fault)? FindIn(object? value)
    {
        switch (value)
        {
            case string text:
                return InvalidJsonTextException.FaultIn(text) is { } inText ? ("", inText) : null;
            case JsonElement json:
                return TextCheckedJsonElementConverter.FindInvalidText(json, refuseNul: true);
            case IReadOnlyDictionary<string, object?> map:
                return FindInEntries(map);
            case IDictionary<string, object?> map:
                return FindInEntries(map);
            case IDictionary map:
                foreach (DictionaryEntry entry in map)
                {
                    if (entry.Key is string key && FindInEntry(key, entry.Value) is { } found) return found;
                }
                return null;
            case IEnumerable items:
                var index = 0;
                foreach (var item in items)
                {
                    if (FindIn(item) is var (inItem, fault)) return ($"[{index}]{inItem}", fault);
                    index++;
                }
                return null;
            default:
                return null;
        }
    }

    private static (string At, TextFault Fault)? FindInEntries(IEnumerable<KeyValuePair<string, object?>> entries)
    {
        foreach (var (key, item) in entries)
        {
            if (FindInEntry(key, item) is { } found) return found;
        }
        return null;
    }

    private static (string At, TextFault Fault)? FindInEntry(string key, object? item) =>
        InvalidJsonTextException.FaultIn(key) is { } inKey ? ("", inKey) : FindIn(item) is var (inItem, fault) ? ($".{key}{inItem}", fault) : null;

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
