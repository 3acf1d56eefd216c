using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace PromptVault.Core.Contracts;

/// <summary>
/// Enums as <see cref="JsonStringEnumConverter"/> reads and writes them (their wire names, no numbers), keeping on its refusal
/// the string or number that was sent (<see cref="SentIn"/>), so the refusal can name it beside the names allowed. Only a
/// refusal does more work than the framework's converter.
/// </summary>
internal sealed class SentValueEnumConverter : JsonConverterFactory
{
    private const string SentKey = "PromptVault.SentValue";

    private readonly JsonStringEnumConverter _names = new(namingPolicy: null, allowIntegerValues: false);

    public override bool CanConvert(Type typeToConvert) => _names.CanConvert(typeToConvert);

    public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
        (JsonConverter)Activator.CreateInstance(typeof(Keeping<>).MakeGenericType(typeToConvert), _names.CreateConverter(typeToConvert, options))!;

    /// <summary>The value an enum refused, as a JSON literal (<c>"Minor"</c>, <c>2</c>) shortened and with control characters escaped; null for any other error.</summary>
    public static string? SentIn(JsonException json) => json.Data[SentKey] as string;

    private sealed class Keeping<T>(JsonConverter<T> names) : JsonConverter<T> where T : struct, Enum
    {
        public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            try
            {
                return names.Read(ref reader, typeToConvert, options);
            }
            catch (JsonException e) when (reader.TokenType is JsonTokenType.String or JsonTokenType.Number)
            {
                e.Data[SentKey] = Literal(ref reader);
                throw;
            }
        }

        public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) => names.Write(writer, value, options);

        public override T ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            names.ReadAsPropertyName(ref reader, typeToConvert, options);

        public override void WriteAsPropertyName(Utf8JsonWriter writer, T value, JsonSerializerOptions options) =>
            names.WriteAsPropertyName(writer, value, options);
    }

    private static string Literal(ref Utf8JsonReader reader)
    {
        var raw = reader.HasValueSequence ? Encoding.UTF8.GetString(reader.ValueSequence) : Encoding.UTF8.GetString(reader.ValueSpan);
        if (reader.TokenType == JsonTokenType.Number) return Prompts.PromptRules.Shorten(raw);
        string text;
        try { text = reader.GetString()!; }
        catch (InvalidOperationException) { text = raw; } // not valid text: named as it was written
        return $"\"{JsonEncodedText.Encode(Prompts.PromptRules.Shorten(text), JavaScriptEncoder.UnsafeRelaxedJsonEscaping)}\"";
    }
}
