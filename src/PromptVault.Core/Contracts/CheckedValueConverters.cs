using System.Globalization;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace PromptVault.Core.Contracts;

/// <summary>
/// Reads an integer of a request as System.Text.Json does, but says what is wrong with a number it cannot take
/// (<c>1e2</c>, <c>1.5</c>, one beyond the type's range) instead of its generic conversion error, which the API words
/// as "a value of the wrong JSON type". A value of another JSON type keeps that generic error. Used for every request
/// body (<see cref="PromptVaultJson.Configure"/>), so all routes give the same message.
/// </summary>
internal sealed class WholeNumberConverter<T> : JsonConverter<T> where T : struct, IBinaryInteger<T>, IMinMaxValue<T>
{
    public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.Number) throw new JsonException(); // the serializer words it, as for any type
        if (reader.TryGetInt64(out var value) && value >= long.CreateTruncating(T.MinValue) && value <= long.CreateTruncating(T.MaxValue))
            return T.CreateTruncating(value);
        throw new NotAWholeNumberException(System.Text.Encoding.UTF8.GetString(reader.ValueSpan), T.MinValue, T.MaxValue);
    }

    /// <summary>A query or route parameter's integer that <typeparamref name="T"/> cannot take (the server's <c>invalid_parameter</c>).</summary>
    internal static string NotAWholeNumber(string value) => NotAWholeNumberException.Describe(value, T.MinValue, T.MaxValue);

    public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) =>
        writer.WriteNumberValue(long.CreateTruncating(value));
}

/// <summary>
/// A request's integer that is not one (<c>1e2</c>, <c>1.5</c>) or beyond its type's range. <see cref="Sent"/> is kept so the
/// API can word it with the range the field documents (a <see cref="System.ComponentModel.DataAnnotations.RangeAttribute"/>
/// on the contract's property) rather than the type's.
/// </summary>
internal sealed class NotAWholeNumberException(string sent, object min, object max) : JsonException(Describe(sent, min, max))
{
    public string Sent { get; } = sent;

    /// <summary>The one wording of a request's integer that is not a whole number from <paramref name="min"/> to <paramref name="max"/>.</summary>
    internal static string Describe(string sent, object min, object max) => string.Create(CultureInfo.InvariantCulture,
        $"{Prompts.PromptRules.Shorten(sent)} is not a whole number from {min} to {max} written in digits (100, not 1e2 or 100.0).");
}

/// <summary>
/// Reads a number of a request as System.Text.Json does, but refuses one beyond a double's range (<c>1e400</c>), which it
/// reads as infinity: every range check then answered "got Infinity", a value the sender never wrote.
/// </summary>
internal sealed class FiniteNumberConverter : JsonConverter<double>
{
    public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.Number) throw new JsonException(); // the serializer words it, as for any type
        if (reader.TryGetDouble(out var value) && double.IsFinite(value)) return value;
        throw BeyondRange(ref reader, double.MaxValue);
    }

    public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options) => writer.WriteNumberValue(value);

    internal static JsonException BeyondRange(ref Utf8JsonReader reader, double largest) => new(string.Create(CultureInfo.InvariantCulture,
        $"{Prompts.PromptRules.Shorten(System.Text.Encoding.UTF8.GetString(reader.ValueSpan))} is beyond the range of a number (±{largest:G3})."));
}

/// <summary>
/// Reads a decimal of a request (a variant's weight) as System.Text.Json does, but says that a number beyond a decimal's
/// range (<c>1e400</c>, <c>1e29</c>) is that, not "a value of the wrong JSON type" as its generic conversion error is worded.
/// </summary>
internal sealed class FiniteDecimalConverter : JsonConverter<decimal>
{
    public override decimal Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.Number) throw new JsonException(); // the serializer words it, as for any type
        if (reader.TryGetDecimal(out var value)) return value;
        throw FiniteNumberConverter.BeyondRange(ref reader, (double)decimal.MaxValue);
    }

    public override void Write(Utf8JsonWriter writer, decimal value, JsonSerializerOptions options) => writer.WriteNumberValue(value);
}

/// <summary>
/// Reads a date and time of a request as System.Text.Json does, but says what is wrong with a string it cannot take:
/// not ISO 8601, or outside years 1 to 9999 once turned to UTC (<c>0001-01-01T00:00:00+01:00</c>), instead of its
/// generic conversion error. A value of another JSON type keeps that generic error.
/// </summary>
internal sealed class CheckedDateTimeOffsetConverter : JsonConverter<DateTimeOffset>
{
    private const string Example = "2026-01-31T12:00:00Z";

    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String) throw new JsonException(); // the serializer words it, as for any type
        // System.Text.Json reads a time without an offset in the server's time zone.
        if (reader.TryGetDateTime(out var time) && time.Kind == DateTimeKind.Unspecified) return RequestTime.WithoutOffset(time);
        if (reader.TryGetDateTimeOffset(out var value)) return value;
        var text = reader.GetString()!;
        throw new JsonException(RequestTime.OutOfRange(text, IsIso8601)
            ? $"{Prompts.PromptRules.Shorten(text)} {RequestTime.OutOfRangeRule}"
            : $"{Prompts.PromptRules.Shorten(text)} is not an ISO 8601 date and time such as {Example}.");
    }

    private static bool IsIso8601(string text) =>
        DateTimeOffset.TryParseExact(text, "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK", CultureInfo.InvariantCulture, DateTimeStyles.None, out _);

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) => writer.WriteStringValue(value);
}

/// <summary>
/// The one reading of a date and time a request gives without an offset, on every route (a metric event's or an exposure's
/// <c>timestamp</c>, the audit's <c>from</c> and <c>to</c>): UTC. The server's time zone must not change what is stored or matched.
/// </summary>
internal static class RequestTime
{
    public static DateTimeOffset WithoutOffset(DateTime time) => new(DateTime.SpecifyKind(time, DateTimeKind.Unspecified), TimeSpan.Zero);

    /// <summary>What is wrong with a date and time <see cref="OutOfRange"/>, after the text itself.</summary>
    public const string OutOfRangeRule = "is out of range: a date and time must fall within the years 1 to 9999 in UTC.";

    /// <summary>
    /// A date and time that is well formed (<paramref name="reads"/>, the caller's formats) but outside years 1 to 9999: its year
    /// is 0 or has more than four digits, or its offset moves it out of the range of UTC. Either way it reads once the year is a
    /// common one, or the offset is dropped. The one rule for a body's date and time and a query's (the audit's from and to).
    /// </summary>
    public static bool OutOfRange(string text, Func<string, bool> reads)
    {
        var yearDigits = text.TakeWhile(char.IsAsciiDigit).Count();
        if (yearDigits > 4 || (yearDigits == 4 && text.StartsWith("0000", StringComparison.Ordinal)))
            return reads("2000" + text[yearDigits..]);
        return text.Length > 6 && text[^6] is '+' or '-' && text[^3] == ':' && reads(text[..^6] + "Z");
    }
}
