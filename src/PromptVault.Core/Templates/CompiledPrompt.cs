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
    private readonly TimeProvider _time;

    internal CompiledPrompt(HandlebarsTemplate<TextWriter, object, object> template, IReadOnlyList<VariableDefinition> variables, TimeProvider time)
    {
        _template = template;
        _time = time;
        _variables = variables.Select(Slot.For).ToArray();
    }

    /// <summary>Validates JSON <paramref name="inputs"/> (the HTTP path) against the contract and renders the template with them.</summary>
    /// <exception cref="InvalidInputException">
    /// A required variable is missing, a value has the wrong type or fails its pattern, or the render passes a
    /// <see cref="TemplateLimits">limit</see> on output size or time.
    /// </exception>
    public string Render(IReadOnlyDictionary<string, JsonElement>? inputs)
    {
        var context = new Dictionary<string, object?>(_variables.Length, StringComparer.Ordinal);
        foreach (var slot in _variables)
        {
            if (inputs is not null && inputs.TryGetValue(slot.Variable.Name, out var value) && value.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined))
            {
                VariableContract.CheckValue(slot.Variable, value, slot.Field, slot.Pattern);
                context[slot.Variable.Name] = JsonContainer.ToTemplateValue(value);
            }
            else
            {
                slot.Absent(context);
            }
        }
        return Render(context);
    }

    /// <summary>
    /// Validates in-process .NET <paramref name="values"/> against the contract and renders the template with them, as
    /// <see cref="Render(IReadOnlyDictionary{string, JsonElement})"/> does with the JSON they would serialize to. A string
    /// is a <see cref="string"/>; a number any CLR numeric type; a boolean a <see cref="bool"/>; an object an
    /// <see cref="IReadOnlyDictionary{TKey, TValue}"/>, <see cref="IDictionary{TKey, TValue}"/> (string keys) or
    /// <see cref="System.Collections.IDictionary"/>; an array any other <see cref="System.Collections.IEnumerable"/>.
    /// Values reach the template as they are; a null value counts as absent.
    /// </summary>
    /// <exception cref="InvalidInputException">
    /// A required variable is missing, a value has the wrong type or fails its pattern, or the render passes a
    /// <see cref="TemplateLimits">limit</see> on output size or time.
    /// </exception>
    public string RenderValues(IReadOnlyDictionary<string, object?>? values)
    {
        var context = new Dictionary<string, object?>(_variables.Length, StringComparer.Ordinal);
        foreach (var slot in _variables)
        {
            if (values is not null && values.TryGetValue(slot.Variable.Name, out var value) && value is not null)
            {
                VariableContract.CheckValue(slot.Variable, value, slot.Field, slot.Pattern);
                context[slot.Variable.Name] = value;
            }
            else
            {
                slot.Absent(context);
            }
        }
        return Render(context);
    }

    private string Render(Dictionary<string, object?> context)
    {
        using var output = new RenderOutput(_time);
        try
        {
            _template(output, context);
        }
        catch (HandlebarsException e)
        {
            throw new InvalidInputException("render_failed", $"the template could not be rendered with these variables: {e.Message}", "variables");
        }
        return Trimmed(output.GetStringBuilder());
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

        /// <summary>The variable was not given (or given null): use its default, refuse it if required, else leave it out.</summary>
        public void Absent(Dictionary<string, object?> context)
        {
            if (Variable.HasDefault)
                context[Variable.Name] = Default;
            else if (Variable.Required)
                throw new InvalidInputException("missing_variable", $"variable '{Variable.Name}' is required.", Field);
        }
    }
}
