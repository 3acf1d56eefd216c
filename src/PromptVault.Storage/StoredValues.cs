using System.Globalization;
using System.Text.Json;
using PromptVault.Core;
using PromptVault.Core.Contracts;

namespace PromptVault.Storage;

/// <summary>How values are written to columns: UTC ISO 8601 text, enum wire names, the API's JSON.</summary>
/// <remarks>The SQLite and the PostgreSQL store hold the same values, so a registry reads back the same from either.</remarks>
internal static class StoredValues
{
    /// <summary>How times are stored: ISO 8601, UTC, to the tick (sorting as text sorts by time).</summary>
    public const string TimeFormat = "O";

    public static string ToText(DateTimeOffset value) => value.ToUniversalTime().ToString(TimeFormat, CultureInfo.InvariantCulture);

    public static string? ToText(DateTimeOffset? value) => value is { } v ? ToText(v) : null;

    public static DateTimeOffset ToTime(string text) => DateTimeOffset.ParseExact(text, TimeFormat, CultureInfo.InvariantCulture);

    public static DateTimeOffset? ToTimeOrNull(string? text) => text is null ? null : ToTime(text);

    public static string ToName<TEnum>(TEnum value) where TEnum : struct, Enum => Names.Of(value);

    public static TEnum ToEnum<TEnum>(string text) where TEnum : struct, Enum =>
        Names.TryParse(text, out TEnum value) ? value
            : throw new InvalidOperationException($"The database holds '{text}', which is not a {typeof(TEnum).Name}.");

    // T is a concrete type: List<...>, Dictionary<...>, PromptMetadata (PromptVaultJsonContext), or List<Variant>, List<Guardrail>.
    public static string ToJson<T>(T value) => JsonSerializer.Serialize(value, PromptVaultJson.Options);

    public static T FromJson<T>(string json) =>
        JsonSerializer.Deserialize<T>(json, PromptVaultJson.Options)
            ?? throw new InvalidOperationException($"The database holds JSON null where a {typeof(T).Name} was expected.");
}
