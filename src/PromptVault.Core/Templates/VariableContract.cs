using System.Text.Json;
using System.Text.RegularExpressions;
using PromptVault.Core.Prompts;

namespace PromptVault.Core.Templates;

/// <summary>Checks a version's declared variables when it is saved, and a caller's values when it is rendered (SPEC §2).</summary>
public static class VariableContract
{
    /// <summary>How long one validation pattern may run on one value.</summary>
    public static readonly TimeSpan PatternTimeLimit = TimeSpan.FromMilliseconds(100);

    public static void ValidateDefinitions(IReadOnlyList<VariableDefinition> variables)
    {
        if (variables.Count > PromptRules.MaxVariables)
            throw new InvalidInputException("too_many", $"variables has {variables.Count} entries; the limit is {PromptRules.MaxVariables}.", "variables");

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < variables.Count; i++)
        {
            var variable = variables[i];
            var field = $"variables[{i}]";
            if (variable is null)
                throw new InvalidInputException("invalid_variable", $"{field} is null.", field);
            if (string.IsNullOrEmpty(variable.Name) || !PromptRules.IsValidVariableName(variable.Name))
                throw new InvalidInputException("invalid_variable",
                    $"{field}.name '{PromptRules.Shorten(variable.Name ?? "")}' is invalid: use a letter or '_' followed by letters, digits or '_' (at most 100).",
                    $"{field}.name");
            if (!seen.Add(variable.Name))
                throw new InvalidInputException("duplicate_variable", $"variable '{variable.Name}' is declared twice.", $"{field}.name");
            PromptRules.ValidateLength(variable.Description, PromptRules.MaxDescriptionLength, $"{field}.description");

            if (variable.Validation is not null)
            {
                if (variable.Type != VariableType.String)
                    throw new InvalidInputException("invalid_validation",
                        $"variable '{variable.Name}' has a validation pattern, but patterns apply only to strings.", $"{field}.validation");
                PromptRules.ValidateLength(variable.Validation, PromptRules.MaxPatternLength, $"{field}.validation");
                CompilePattern(variable.Name, variable.Validation, $"{field}.validation");
            }
            if (variable.HasDefault)
                CheckValue(variable, variable.DefaultValue!.Value, $"{field}.defaultValue", pattern: variable.Validation is null ? null : CompilePattern(variable.Name, variable.Validation, $"{field}.validation"));
        }
    }

    /// <summary>
    /// Compiles a validation pattern for the non-backtracking engine, whose matching time is linear in the input,
    /// and gives it a time limit as well.
    /// </summary>
    public static Regex CompilePattern(string variable, string pattern, string field)
    {
        try
        {
            return new Regex(pattern, RegexOptions.NonBacktracking | RegexOptions.CultureInvariant, PatternTimeLimit);
        }
        catch (ArgumentException e)
        {
            throw new InvalidInputException("invalid_validation",
                $"variable '{variable}' has a validation pattern that does not compile: {e.Message}", field);
        }
        catch (NotSupportedException e)
        {
            throw new InvalidInputException("invalid_validation",
                $"variable '{variable}' has a validation pattern that uses a construct without a linear-time guarantee (backreferences, lookarounds, atomic groups): {e.Message}", field);
        }
    }

    /// <summary>Checks one value against its variable's type and pattern.</summary>
    public static void CheckValue(VariableDefinition variable, JsonElement value, string field, Regex? pattern)
    {
        var matches = variable.Type switch
        {
            VariableType.String => value.ValueKind == JsonValueKind.String,
            VariableType.Number => value.ValueKind == JsonValueKind.Number,
            VariableType.Boolean => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
            VariableType.Array => value.ValueKind == JsonValueKind.Array,
            VariableType.Object => value.ValueKind == JsonValueKind.Object,
            _ => false,
        };
        if (!matches)
            throw new InvalidInputException("invalid_variable",
                $"variable '{variable.Name}' must be {Article(variable.Type)}, but the value is {Describe(value.ValueKind)}.", field);

        if (pattern is null) return;
        bool accepted;
        try
        {
            accepted = pattern.IsMatch(value.GetString()!);
        }
        catch (RegexMatchTimeoutException)
        {
            throw new InvalidInputException("validation_timeout",
                $"variable '{variable.Name}' could not be validated within {PatternTimeLimit.TotalMilliseconds:0} ms.", field);
        }
        if (!accepted)
            throw new InvalidInputException("invalid_variable",
                $"variable '{variable.Name}' does not match its validation pattern {variable.Validation}.", field);
    }

    private static string Article(VariableType type) => type switch
    {
        VariableType.Array or VariableType.Object => $"an {Names.Of(type)}",
        _ => $"a {Names.Of(type)}",
    };

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        _ => "null",
    };
}
