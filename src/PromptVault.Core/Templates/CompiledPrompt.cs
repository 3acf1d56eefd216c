using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using HandlebarsDotNet;
using PromptVault.Core.Prompts;

namespace PromptVault.Core.Templates;

/// <summary>A version's template compiled once, with its variables' patterns compiled once; safe to use from many threads.</summary>
public sealed class CompiledPrompt
{
    private readonly HandlebarsTemplate<TextWriter, object, object> _template;
    private readonly Slot[] _variables;

    internal CompiledPrompt(HandlebarsTemplate<TextWriter, object, object> template, IReadOnlyList<VariableDefinition> variables)
    {
        _template = template;
        _variables = variables.Select(Slot.For).ToArray();
    }

    /// <summary>Validates <paramref name="inputs"/> against the contract and renders the template with them.</summary>
    /// <exception cref="InvalidInputException">A required variable is missing, or a value has the wrong type or fails its pattern.</exception>
    public string Render(IReadOnlyDictionary<string, JsonElement>? inputs)
    {
        var context = new Dictionary<string, object?>(_variables.Length, StringComparer.Ordinal);
        foreach (var slot in _variables)
        {
            var variable = slot.Variable;
            if (inputs is not null && inputs.TryGetValue(variable.Name, out var value) && value.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined))
            {
                VariableContract.CheckValue(variable, value, slot.Field, slot.Pattern);
                context[variable.Name] = JsonContainer.ToTemplateValue(value);
            }
            else if (variable.HasDefault)
            {
                context[variable.Name] = slot.Default;
            }
            else if (variable.Required)
            {
                throw new InvalidInputException("missing_variable", $"variable '{variable.Name}' is required.", slot.Field);
            }
        }

        using var writer = ReusableStringWriter.Get(CultureInfo.InvariantCulture);
        try
        {
            _template(writer, context);
        }
        catch (HandlebarsException e)
        {
            throw new InvalidInputException("render_failed", $"the template could not be rendered with these variables: {e.Message}", "variables");
        }
        return Trimmed(writer.GetStringBuilder());
    }

    /// <summary>The output without surrounding white space, copied out once.</summary>
    private static string Trimmed(StringBuilder output)
    {
        var start = 0;
        var end = output.Length;
        while (start < end && char.IsWhiteSpace(output[start])) start++;
        while (end > start && char.IsWhiteSpace(output[end - 1])) end--;
        return output.ToString(start, end - start);
    }

    /// <summary>A variable with what rendering needs of it prepared once: its error field, its pattern, its default as the template sees it.</summary>
    private sealed record Slot(VariableDefinition Variable, string Field, Regex? Pattern, object? Default)
    {
        public static Slot For(VariableDefinition variable)
        {
            var field = $"variables.{variable.Name}";
            return new Slot(
                variable,
                field,
                variable.Validation is null ? null : VariableContract.CompilePattern(variable.Name, variable.Validation, field),
                variable.HasDefault ? JsonContainer.ToTemplateValue(variable.DefaultValue!.Value) : null);
        }
    }
}
