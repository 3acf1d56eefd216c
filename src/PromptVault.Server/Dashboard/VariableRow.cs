using System.Text.Json;
using PromptVault.Core;
using PromptVault.Core.Prompts;

namespace PromptVault.Server.Dashboard;

/// <summary>One row of the editor's variable contract form; values are typed as text and read as JSON unless the type is string.</summary>
public sealed class VariableRow
{
    public string Name { get; set; } = "";
    public VariableType Type { get; set; }
    public bool Required { get; set; }
    public string? Default { get; set; }
    public string? Pattern { get; set; }
    public string? Description { get; set; }
    public string? TestValue { get; set; }

    public static VariableRow Of(VariableDefinition variable) => new VariableRow().Describing(variable);

    /// <summary>This row, now describing <paramref name="variable"/>; its test value is kept.</summary>
    public VariableRow Describing(VariableDefinition variable)
    {
        Name = variable.Name;
        Type = variable.Type;
        Required = variable.Required;
        Default = variable.HasDefault ? Text(variable.DefaultValue!.Value) : null;
        Pattern = variable.Validation;
        Description = variable.Description;
        return this;
    }

    /// <exception cref="InvalidInputException">The default is not valid JSON for a non-string type.</exception>
    public VariableDefinition ToDefinition() => new(Name.Trim(), Type, Blank(Description), Required,
        Value(Default, $"variables.{Name}.defaultValue"), Blank(Pattern));

    /// <summary>The test value as the render request would send it; null when left empty.</summary>
    /// <exception cref="InvalidInputException">The value is not valid JSON for a non-string type.</exception>
    public JsonElement? TestElement() => Value(TestValue, $"test value of {Name}");

    private JsonElement? Value(string? text, string field)
    {
        if (string.IsNullOrEmpty(text)) return null;
        if (Type == VariableType.String) return JsonSerializer.SerializeToElement(text);
        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            throw new InvalidInputException("invalid_json", $"{field} must be a JSON {Names.Of(Type)} (for example {Example(Type)}).", field);
        }
    }

    private static string Example(VariableType type) => type switch
    {
        VariableType.Number => "42",
        VariableType.Boolean => "true",
        VariableType.Array => "[\"a\", \"b\"]",
        _ => "{\"key\": \"value\"}",
    };

    private static string Text(JsonElement value) => value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText();

    private static string? Blank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text;
}
