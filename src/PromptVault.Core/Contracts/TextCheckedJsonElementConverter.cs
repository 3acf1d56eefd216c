using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Unicode;

namespace PromptVault.Core.Contracts;

/// <summary>
/// Reads a free-form JSON value (render variables, a default value, metric metadata) and refuses it when a string or
/// property name in it is not valid text: JSON escapes can spell a lone surrogate (<c>"\ud800"</c>), and raw bytes can
/// be invalid UTF-8, neither of which a .NET string read from the value later could hold. Refusing here, while the
/// request is read, gives the caller a 400 naming the field instead of a failure wherever the value is first used.
/// </summary>
internal sealed class TextCheckedJsonElementConverter : JsonConverter<JsonElement>
{
    public override JsonElement Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => ReadChecked(ref reader);

    /// <summary>Reads the value at <paramref name="reader"/> and refuses it when it holds invalid text (<see cref="InvalidJsonTextException"/>).</summary>
    internal static JsonElement ReadChecked(ref Utf8JsonReader reader)
    {
        var element = JsonElement.ParseValue(ref reader);
        EnsureText(element);
        return element;
    }

    /// <summary>Refuses <paramref name="element"/> when it holds invalid text (<see cref="InvalidJsonTextException"/>).</summary>
    internal static void EnsureText(JsonElement element)
    {
        if (FindInvalidText(element) is { } at)
            throw new InvalidJsonTextException(at.StartsWith('.') ? at[1..] : at);
    }

    public override void Write(Utf8JsonWriter writer, JsonElement value, JsonSerializerOptions options) => value.WriteTo(writer);

    /// <summary>
    /// Where in <paramref name="element"/> the first invalid string or property name is (relative to it, each step
    /// <c>.name</c> or <c>[index]</c>), or null. Built only on the way out of a refusal, so a valid value costs no strings.
    /// </summary>
    private static string? FindInvalidText(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                return IsText(JsonMarshal.GetRawUtf8Value(element), element, static e => e.GetString()) ? null : "";
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    if (FindInvalidText(item) is { } inItem) return $"[{index}]{inItem}";
                    index++;
                }
                return null;
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (!IsText(JsonMarshal.GetRawUtf8PropertyName(property), property, static p => p.Name)) return "";
                    if (FindInvalidText(property.Value) is { } inValue) return $".{property.Name}{inValue}";
                }
                return null;
            default:
                return null;
        }
    }

    // Text without escapes is valid when its UTF-8 is, which needs no string; escapes (\ud800) are decoded to tell.
    // Static reads with their state, so checking a valid value allocates no closure.
    private static bool IsText<T>(ReadOnlySpan<byte> raw, T value, Func<T, string?> read)
    {
        if (!raw.Contains((byte)'\\')) return Utf8.IsValid(raw);
        try
        {
            read(value);
            return true;
        }
        catch (InvalidOperationException)
        {
            return false; // what JsonElement throws for a lone surrogate or invalid UTF-8
        }
    }
}

/// <summary>
/// A string or property name in a request is not valid text (<see cref="TextCheckedJsonElementConverter"/>).
/// System.Text.Json sets <see cref="JsonException.Path"/> to the value that holds it; <see cref="Location"/> is where
/// inside that value (<c>[0].role</c>, <c>name</c>), empty when it is the value itself.
/// </summary>
public sealed class InvalidJsonTextException(string location)
    : JsonException($"{Describe("it")}{(location.Length == 0 ? "" : $" at '{location}'")}.")
{
    public string Location { get; } = location;

    /// <summary>Throws when a string or property name in <paramref name="element"/> is not valid text; for a value read without the API's options.</summary>
    public static void ThrowIfIn(JsonElement element) => TextCheckedJsonElementConverter.EnsureText(element);

    /// <summary>The refusal, said of <paramref name="subject"/>: "'unitId' holds text that is not valid UTF-16 (…)".</summary>
    public static string Describe(string subject) =>
        $"{subject} holds text that is not valid UTF-16 (a lone surrogate such as \\ud800, or bytes that are not UTF-8)";
}
