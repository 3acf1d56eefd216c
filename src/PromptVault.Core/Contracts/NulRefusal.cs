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
