using System.Text.Json;
using System.Text.Json.Serialization;

namespace PromptVault.Core.Contracts;

/// <summary>Reads and writes enums as their wire names (<see cref="Names"/>); an unknown name is refused with the allowed ones listed.</summary>
internal sealed class WireEnumConverterFactory : JsonConverterFactory
{
    public override bool CanConvert(Type typeToConvert) => typeToConvert.IsEnum;

    public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
        (JsonConverter)Activator.CreateInstance(typeof(WireEnumConverter<>).MakeGenericType(typeToConvert))!;

    private sealed class WireEnumConverter<TEnum> : JsonConverter<TEnum> where TEnum : struct, Enum
    {
        public override TEnum Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType != JsonTokenType.String)
                throw new JsonException($"expected a string, one of {Names.AllOf<TEnum>()}.");
            var text = reader.GetString();
            return Names.TryParse<TEnum>(text, out var value)
                ? value
                : throw new JsonException($"'{Prompts.PromptRules.Shorten(text ?? "")}' is not one of {Names.AllOf<TEnum>()}.");
        }

        public override void Write(Utf8JsonWriter writer, TEnum value, JsonSerializerOptions options) =>
            writer.WriteStringValue(Names.Of(value));
    }
}
