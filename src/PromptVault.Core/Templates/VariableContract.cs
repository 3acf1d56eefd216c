using System.Collections;
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
                    $"{field}.name '{PromptRules.Shorten(variable.Name ?? "")}' is invalid: use a-z, A-Z or '_', then a-z, A-Z, 0-9 or '_' (at most 100 characters; no accented or other non-ASCII letters).",
                    $"{field}.name");
            if (!seen.Add(variable.Name))
                throw new InvalidInputException("duplicate_variable", $"variable '{variable.Name}' is declared twice.", $"{field}.name");
            PromptRules.ValidateDescription(variable.Description, $"{field}.description");

            if (variable.Validation is not null)
            {
                if (variable.Type != VariableType.String)
                    throw new InvalidInputException("invalid_validation",
                        $"variable '{variable.Name}' has a validation pattern, but patterns apply only to strings.", $"{field}.validation");
                PromptRules.ValidateLength(variable.Validation, PromptRules.MaxPatternLength, $"{field}.validation");
            }
            var pattern = variable.Validation is null ? null : CompilePattern(variable.Name, variable.Validation, $"{field}.validation");
            if (variable.HasDefault)
            {
                // Said as the default's fault: at save time no caller has sent a value, so "the value" would mislead.
                var value = variable.DefaultValue!.Value;
                CheckValue(variable, value, value.ValueKind, $"{field}.defaultValue", pattern, CheckedValue.OwnDefault);
            }
        }
    }

    /// <summary>
    /// Compiles a validation pattern for the non-backtracking engine, whose matching time is linear in the input,
    /// and gives it a time limit as well.
    /// </summary>
    public static Regex CompilePattern(string variable, string pattern, string field) =>
        CompilePattern(pattern, "invalid_validation", $"variable '{variable}' has a validation pattern", field);

    /// <summary>
    /// A variable's validation pattern compiled (<see cref="CompilePattern(string, string, string)"/>) for checking its values,
    /// whose refusals name <c>variables.{name}</c>; null when it has none. Compiled once for every value checked against it:
    /// a compiled prompt's renders, a version's test cases.
    /// </summary>
    public static Regex? PatternOf(VariableDefinition variable)
    {
        ArgumentNullException.ThrowIfNull(variable);
        return variable.Validation is null ? null : CompilePattern(variable.Name, variable.Validation, $"variables.{variable.Name}");
    }

    /// <summary>The same for any pattern a user writes (test cases' <c>regex</c> checks too).</summary>
    /// <param name="subject">What holds the pattern, for the message: <c>variable 'x' has a validation pattern</c>.</param>
    /// <param name="timeLimit">How long one match may run; default <see cref="PatternTimeLimit"/>.</param>
    public static Regex CompilePattern(string pattern, string code, string subject, string field, TimeSpan? timeLimit = null)
    {
        try
        {
            return new Regex(pattern, RegexOptions.NonBacktracking | RegexOptions.CultureInvariant, timeLimit ?? PatternTimeLimit);
        }
        catch (ArgumentException e)
        {
            throw new InvalidInputException(code, $"{subject} that does not compile: {e.Message}", field);
        }
        catch (NotSupportedException e)
        {
            throw new InvalidInputException(code,
                $"{subject} that uses a construct without a linear-time guarantee (backreferences, lookarounds, atomic groups): {e.Message}", field);
        }
    }

    /// <summary>Checks one JSON value against its variable's type and pattern.</summary>
    public static void CheckValue(VariableDefinition variable, JsonElement value, string field, Regex? pattern) =>
        CheckValue(variable, value, value.ValueKind, field, pattern);

    /// <summary>The same, with the value's kind already read.</summary>
    /// <param name="checkedValue">Whose value it is, for the message: a caller's by default.</param>
    internal static void CheckValue(VariableDefinition variable, JsonElement value, JsonValueKind kind, string field, Regex? pattern,
        CheckedValue checkedValue = CheckedValue.Given) =>
        Check(variable, kind, pattern is not null && kind == JsonValueKind.String ? value.GetString() : null, field, pattern, checkedValue);

    /// <summary>
    /// Checks one .NET value against its variable's type and pattern, reading it as the JSON value it would serialize to
    /// (see <see cref="KindOf(object)"/>), so both paths refuse the same values with the same errors.
    /// </summary>
    internal static void CheckValue(VariableDefinition variable, object value, string field, Regex? pattern) =>
        Check(variable, KindOf(value), value as string, field, pattern);

    /// <summary>
    /// The JSON kind a .NET value stands for: <c>string</c>; any CLR number; <c>bool</c>; a dictionary as an object;
    /// any other enumerable as an array. Anything else is <see cref="JsonValueKind.Undefined"/>, which no type accepts.
    /// </summary>
    internal static JsonValueKind KindOf(object value) => value switch
    {
        string => JsonValueKind.String,
        sbyte or byte or short or ushort or int or uint or long or ulong or float or double or decimal => JsonValueKind.Number,
        bool flag => flag ? JsonValueKind.True : JsonValueKind.False,
        IReadOnlyDictionary<string, object?> or IDictionary<string, object?> or IDictionary => JsonValueKind.Object,
        IEnumerable => JsonValueKind.Array,
        _ => JsonValueKind.Undefined,
    };

    /// <summary>Whether a value of <paramref name="kind"/> is of <paramref name="type"/>.</summary>
    public static bool Accepts(VariableType type, JsonValueKind kind) => type switch
    {
        VariableType.String => kind == JsonValueKind.String,
        VariableType.Number => kind == JsonValueKind.Number,
        VariableType.Boolean => kind is JsonValueKind.True or JsonValueKind.False,
        VariableType.Array => kind == JsonValueKind.Array,
        VariableType.Object => kind == JsonValueKind.Object,
        _ => false,
    };

    private static void Check(VariableDefinition variable, JsonValueKind kind, string? text, string field, Regex? pattern, CheckedValue checkedValue = CheckedValue.Given)
    {
        if (!Accepts(variable.Type, kind))
            throw new InvalidInputException("invalid_variable",
                $"variable '{variable.Name}' must be {Article(variable.Type)}, but {checkedValue switch
                {
                    CheckedValue.OwnDefault => "its defaultValue",
                    CheckedValue.IncludersDefault => "it was not given and the including prompt's defaultValue",
                    _ => "the value",
                }} is {Describe(kind)}.", field);

        if (pattern is null) return;
        bool accepted;
        try
        {
            accepted = pattern.IsMatch(text!);
        }
        catch (RegexMatchTimeoutException)
        {
            throw new InvalidInputException("validation_timeout",
                $"variable '{variable.Name}' could not be validated within {PatternTimeLimit.TotalMilliseconds:0} ms.", field);
        }
        if (!accepted)
            throw new InvalidInputException("invalid_variable",
                $"variable '{variable.Name}' {checkedValue switch
                {
                    CheckedValue.OwnDefault => "has a defaultValue that does",
                    CheckedValue.IncludersDefault => "was not given, and the including prompt's defaultValue does",
                    _ => "does",
                }} not match its validation pattern {variable.Validation}.", field);
    }

    /// <summary>A type as a message names it: <c>a string</c>, <c>an array</c>.</summary>
    public static string Article(VariableType type) => type switch
    {
        VariableType.Array or VariableType.Object => $"an {Names.Of(type)}",
        _ => $"a {Names.Of(type)}",
    };

    /// <summary>A value's kind as a message names it: <c>a number</c>, <c>null</c>.</summary>
    public static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        JsonValueKind.Null => "null",
        _ => "of a type templates cannot read",
    };
}

/// <summary>Whose value a check reads, so its refusal says so: a caller's, the variable's own default, or an including template's default.</summary>
internal enum CheckedValue { Given, OwnDefault, IncludersDefault }
