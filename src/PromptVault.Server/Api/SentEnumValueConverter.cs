using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace PromptVault.Server.Api;

/// <summary>
/// The bodies ASP.NET Core binds read their enums with the framework's converter (<paramref name="names"/>, as
/// <see cref="Core.Contracts.PromptVaultJson.Configure"/> sets it), which keeps, when it refuses a string, that string as it was sent
/// (<see cref="SentIn"/>): by the time the exception handler describes the refusal the body is gone, and System.Text.Json's
/// exception has only the path. A name it knows costs one call more. Only <paramref name="bound"/>, the options it was put in, read
/// through it: a copy of them (the OpenAPI document's) gets the framework's converter itself, whose enums System.Text.Json's schema
/// export lists by name (for a converter of ours it lists nothing, and the document's enums became <c>{}</c>).
/// </summary>
internal sealed class SentEnumValueConverter(JsonStringEnumConverter names, JsonSerializerOptions bound) : JsonConverterFactory
{
    private const string SentKey = "PromptVault.SentEnumValue";

    /// <summary>Puts the converter in place of <paramref name="options"/>' <see cref="JsonStringEnumConverter"/>, wrapping it.</summary>
    public static void ReplaceIn(JsonSerializerOptions options)
    {
        var index = options.Converters.IndexOf(options.Converters.OfType<JsonStringEnumConverter>().Single());
        options.Converters[index] = new SentEnumValueConverter((JsonStringEnumConverter)options.Converters[index], options);
    }

    public override bool CanConvert(Type typeToConvert) => names.CanConvert(typeToConvert);

    public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options)
    {
        var framework = names.CreateConverter(typeToConvert, options);
        return ReferenceEquals(options, bound) ? (JsonConverter)Activator.CreateInstance(typeof(Keeping<>).MakeGenericType(typeToConvert), framework)! : framework;
    }

    /// <summary>The string an enum refused as it was sent, a JSON literal with its escapes (<c>"nmber"</c>); null for any other error.</summary>
    public static string? SentIn(JsonException json) => json.Data[SentKey] as string;

    private sealed class Keeping<T>(JsonConverter<T> names) : JsonConverter<T> where T : struct, Enum
    {
        public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            try
            {
                return names.Read(ref reader, typeToConvert, options);
            }
            catch (JsonException e) when (reader.TokenType == JsonTokenType.String)
            {
                var raw = reader.HasValueSequence ? Encoding.UTF8.GetString(reader.ValueSequence) : Encoding.UTF8.GetString(reader.ValueSpan);
                e.Data[SentKey] = $"\"{raw}\"";
                throw;
            }
        }

        public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) => names.Write(writer, value, options);

        public override T ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            names.ReadAsPropertyName(ref reader, typeToConvert, options);

        public override void WriteAsPropertyName(Utf8JsonWriter writer, T value, JsonSerializerOptions options) =>
            names.WriteAsPropertyName(writer, value, options);
    }
}
