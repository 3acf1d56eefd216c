using System.Text.Json;
using System.Text.RegularExpressions;
using HandlebarsDotNet;
using PromptVault.Core.Prompts;

namespace PromptVault.Core.Templates;

/// <summary>A version's template compiled once, with its variables' patterns compiled once; safe to use from many threads.</summary>
public sealed class CompiledPrompt
{
    private readonly HandlebarsTemplate<object, object> _template;
    private readonly IReadOnlyList<(VariableDefinition Variable, Regex? Pattern)> _variables;

    internal CompiledPrompt(HandlebarsTemplate<object, object> template, IReadOnlyList<VariableDefinition> variables)
    {
        _template = template;
        _variables = variables
            .Select(v => (v, v.Validation is null ? null : VariableContract.CompilePattern(v.Name, v.Validation, $"variables.{v.Name}")))
            .ToList();
    }

    /// <summary>Validates <paramref name="inputs"/> against the contract and renders the template with them.</summary>
    /// <exception cref="InvalidInputException">A required variable is missing, or a value has the wrong type or fails its pattern.</exception>
    public string Render(IReadOnlyDictionary<string, JsonElement>? inputs)
    {
        var context = new Dictionary<string, object?>(_variables.Count, StringComparer.Ordinal);
        foreach (var (variable, pattern) in _variables)
        {
            var field = $"variables.{variable.Name}";
            if (inputs is not null && inputs.TryGetValue(variable.Name, out var value) && value.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined))
            {
                VariableContract.CheckValue(variable, value, field, pattern);
                context[variable.Name] = ToTemplateValue(value);
            }
            else if (variable.HasDefault)
            {
                context[variable.Name] = ToTemplateValue(variable.DefaultValue!.Value);
            }
            else if (variable.Required)
            {
                throw new InvalidInputException("missing_variable", $"variable '{variable.Name}' is required.", field);
            }
        }
        try
        {
            return _template(context).Trim();
        }
        catch (HandlebarsException e)
        {
            throw new InvalidInputException("render_failed", $"the template could not be rendered with these variables: {e.Message}", "variables");
        }
    }

    private static object? ToTemplateValue(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Number => value.TryGetInt64(out var whole) ? whole : value.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Array => value.EnumerateArray().Select(ToTemplateValue).ToList(),
        JsonValueKind.Object => value.EnumerateObject().ToDictionary(p => p.Name, p => ToTemplateValue(p.Value), StringComparer.Ordinal),
        _ => null,
    };
}
