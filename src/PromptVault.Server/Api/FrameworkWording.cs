using System.Resources;
using System.Text.Json;

namespace PromptVault.Server.Api;

/// <summary>
/// System.Text.Json's wording of the failures no type tells apart, read from its own resources by key: a later System.Text.Json
/// that rewords them is still recognised, where a copy of today's text would turn its 400s into other answers. A key it no
/// longer has recognises nothing (FrameworkWordingTests fails first).
/// </summary>
internal static class FrameworkWording
{
    private static readonly ResourceManager Resources = new("FxResources.System.Text.Json.SR", typeof(JsonException).Assembly);

    /// <summary>"The JSON value could not be converted to {0}.": a converter refused a value's JSON type.</summary>
    internal static readonly string? ConversionStart = StartOf("DeserializeUnableToConvertValue");

    /// <summary>
    /// "Cannot read incomplete UTF-16 JSON text as string with missing low surrogate." and "Cannot read invalid UTF-16 JSON text
    /// as string. Invalid surrogate value: '{0}'.": a lone high or low surrogate in a string.
    /// </summary>
    internal static readonly string?[] InvalidUtf16Starts = [StartOf("CannotReadIncompleteUTF16"), StartOf("CannotReadInvalidUTF16")];

    /// <summary>
    /// "Duplicate properties not allowed during deserialization." (a dictionary's key), "Duplicate property '{0}' encountered
    /// during deserialization." and "… of type '{1}'." (an object's member): a name given twice where
    /// <see cref="JsonSerializerOptions.AllowDuplicateProperties"/> is off.
    /// </summary>
    internal static readonly string?[] DuplicateStarts =
        [StartOf("DuplicatePropertiesNotAllowed"), StartOf("DuplicatePropertiesNotAllowed_NameSpan"), StartOf("DuplicatePropertiesNotAllowed_JsonPropertyInfo")];

    public static bool IsDuplicate(JsonException json) => DuplicateStarts.Any(start => StartsWith(json.Message, start));

    public static bool IsConversion(JsonException json) => StartsWith(json.Message, ConversionStart);

    public static bool IsInvalidUtf16(InvalidOperationException reading) => InvalidUtf16Starts.Any(start => StartsWith(reading.Message, start));

    private static bool StartsWith(string message, string? start) => start is { Length: > 0 } && message.StartsWith(start, StringComparison.Ordinal);

    /// <summary>The message's text before its first placeholder (all of it when it has none).</summary>
    private static string? StartOf(string key) =>
        Resources.GetString(key) is { } format ? format[..(format.IndexOf('{', StringComparison.Ordinal) is >= 0 and var hole ? hole : format.Length)] : null;
}
