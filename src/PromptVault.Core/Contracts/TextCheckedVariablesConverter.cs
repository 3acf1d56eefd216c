using System.Text.Json;
using System.Text.Json.Serialization;

namespace PromptVault.Core.Contracts;

/// <summary>
/// Reads a render's <c>variables</c> object as one JSON document whose top-level members become the dictionary's values,
/// checked for invalid text like any free-form value (<see cref="TextCheckedJsonElementConverter"/>). The dictionary converter
/// System.Text.Json would use parses each value into a document of its own, which a render request pays for on every call.
/// </summary>
internal sealed class TextCheckedVariablesConverter(bool refuseNul) : JsonConverter<IReadOnlyDictionary<string, JsonElement>>
{
    public override IReadOnlyDictionary<string, JsonElement> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
            throw new JsonException(); // System.Text.Json words it, with the path: "could not be converted to …".
        var variables = TextCheckedJsonElementConverter.ReadChecked(ref reader, refuseNul);
        var values = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var property in variables.EnumerateObject())
        {
            // In a request a variable named twice is refused, as a repeated name in any free-form value is; a stored value
            // keeps its last, as System.Text.Json's own reading does.
            if (values.TryAdd(property.Name, property.Value)) continue;
            if (refuseNul) throw new JsonException(TextCheckedJsonElementConverter.RepeatedName(variables));
            values[property.Name] = property.Value;
        }
        return values;
    }

    public override void Write(Utf8JsonWriter writer, IReadOnlyDictionary<string, JsonElement> value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        foreach (var (name, element) in value)
        {
            writer.WritePropertyName(name);
            element.WriteTo(writer);
        }
        writer.WriteEndObject();
    }
}
