using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using PromptVault.Core.Prompts;
using PromptVault.Core.Templates;

namespace PromptVault.Core.Evaluations;

/// <summary>
/// Checks a version's test cases when they are saved (SPEC §10) and fills in the defaults (<c>target</c> <c>render</c>,
/// <c>output</c> for <c>jsonSchema</c> and <c>judge</c>; <c>passingScore</c> 4), so a stored case is a valid one.
/// Errors name the case and the field, e.g. <c>tests[2].expect[0].value</c>.
/// </summary>
public static class TestCaseRules
{
    public const int MaxCases = 200;
    public const int MaxChecks = 20;
    public const int MaxNameLength = 200;
    public const int MaxRubricLength = 4_000;

    /// <summary>
    /// Characters of JSON a case's variables may hold together, and a check's value: what one render may write
    /// (<see cref="TemplateLimits.MaxOutputLength"/>). Variables a render could not write whole, or a value longer than any render
    /// or answer it is compared with, would make a case that can only fail, and a version's cases grow without bound.
    /// </summary>
    public const int MaxValueLength = TemplateLimits.MaxOutputLength;

    private static readonly IReadOnlyDictionary<string, JsonElement> EmptyVariables = new Dictionary<string, JsonElement>();

    /// <summary>
    /// The SHA-256 (hex) of the cases' canonical JSON: a run records the digest of the cases it ran, and the requireTests gate
    /// accepts a run only while the version's cases still have it (<see cref="Ran"/>). Canonical, so that what does not change
    /// the cases does not change it: members that are null (an optional field a later release adds) are left out, and every
    /// object's members are in ordinal order, variables' values too, without whitespace.
    /// </summary>
    public static string Digest(IReadOnlyList<TestCase> tests)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
            WriteCanonical(writer, JsonSerializer.SerializeToElement(tests, CanonicalOptions));
        return Convert.ToHexStringLower(SHA256.HashData(buffer.WrittenSpan));
    }

    /// <summary>
    /// Whether <paramref name="run"/> ran <paramref name="tests"/>: its digest is theirs. A run stored before the digest was canonical
    /// recorded the SHA-256 of the cases serialized as the API writes them, which still counts while the cases are unchanged.
    /// </summary>
    public static bool Ran(EvaluationRun run, IReadOnlyList<TestCase> tests) =>
        run.TestsDigest is { } digest && (digest == Digest(tests)
            || digest == Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(tests, Contracts.PromptVaultJson.Options))));

    private static readonly JsonSerializerOptions CanonicalOptions =
        new(Contracts.PromptVaultJson.Options) { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };

    private static void WriteCanonical(Utf8JsonWriter writer, JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                writer.WriteStartObject();
                foreach (var member in element.EnumerateObject().OrderBy(m => m.Name, StringComparer.Ordinal))
                {
                    writer.WritePropertyName(member.Name);
                    WriteCanonical(writer, member.Value);
                }
                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in element.EnumerateArray())
                    WriteCanonical(writer, item);
                writer.WriteEndArray();
                break;
            default:
                element.WriteTo(writer);
                break;
        }
    }

    /// <summary>Checks cases saved on a version: each on its own (<see cref="ValidateWithoutVersion"/>), then each case's variables
    /// against the version's (<see cref="VariablesCheck"/>). Returns them with their defaults filled in.</summary>
    /// <param name="variables">The version's variables, which each case's must fit.</param>
    /// <exception cref="InvalidInputException">A case or check breaks a rule; the exception's field names it.</exception>
    public static IReadOnlyList<TestCase> Validate(IReadOnlyList<TestCase>? tests, IReadOnlyList<VariableDefinition> variables, string field = "tests")
    {
        ArgumentNullException.ThrowIfNull(variables);
        var valid = ValidateWithoutVersion(tests, field);
        // After every case's own rules, so a case's misshapen check is named before another's variables.
        var variablesProblem = VariablesCheck(variables, "the version");
        for (var i = 0; i < valid.Count; i++)
        {
            if (variablesProblem(valid[i]) is { } problem)
                throw Invalid($"{field}[{i}] ('{valid[i].Name}') {problem}.", $"{field}[{i}].variables");
        }
        return valid;
    }

    /// <summary>Checks cases on their own, without a version's variables: only where no version is at hand (the CLI comparing a
    /// file's cases with stored ones; the server checks them with <see cref="Validate"/> when they are sent).</summary>
    /// <exception cref="InvalidInputException">A case or check breaks a rule; the exception's field names it.</exception>
    public static IReadOnlyList<TestCase> ValidateWithoutVersion(IReadOnlyList<TestCase>? tests, string field = "tests")
    {
        if (tests is null)
            throw Invalid("tests is required: a list of test cases (an empty list removes them).", field);
        if (tests.Count > MaxCases)
            throw Invalid($"tests has {tests.Count} cases; the limit is {MaxCases}.", field);

        var names = new HashSet<string>(StringComparer.Ordinal);
        var valid = new List<TestCase>(tests.Count);
        for (var i = 0; i < tests.Count; i++)
        {
            var at = $"{field}[{i}]";
            var test = tests[i] ?? throw Invalid($"{at} is null; a test case is an object with name, variables and expect.", at);
            if (string.IsNullOrWhiteSpace(test.Name))
                throw Invalid($"{at}.name is required.", $"{at}.name");
            var name = test.Name.Trim();
            if (name.Length > MaxNameLength)
                throw Invalid($"{at}.name is longer than {MaxNameLength} characters.", $"{at}.name");
            PromptRules.ValidateDisplayName(name, $"{at}.name");
            if (!names.Add(name))
                throw Invalid($"{at}.name '{name}' is used by another case; case names are unique within a version.", $"{at}.name");
            if (test.Expect is not { Count: > 0 })
                throw Invalid($"{at}.expect is required: at least one check.", $"{at}.expect");
            if (test.Expect.Count > MaxChecks)
                throw Invalid($"{at}.expect has {test.Expect.Count} checks; the limit is {MaxChecks}.", $"{at}.expect");

            foreach (var (variable, value) in test.Variables ?? EmptyVariables)
            {
                // Stored as sent, so it must mean one thing to every reader (as a default value must).
                if (Contracts.TextCheckedJsonElementConverter.RepeatedName(value) is { } repeated)
                    throw new InvalidInputException("invalid_json", $"{at}.variables.{variable}: {repeated}", $"{at}.variables.{variable}");
            }
            var checks = test.Expect.Select((check, j) => ValidateCheck(check, $"{at}.expect[{j}]")).ToList();
            valid.Add(test with { Name = name, Variables = test.Variables ?? EmptyVariables, Expect = checks });
        }
        return valid;
    }

    /// <summary>
    /// What is wrong with a case's variables for a version with <paramref name="variables"/>, or null: it gives one the version does
    /// not have (a render ignores it, so the case would check a render that never used it, and could pass), leaves out one the
    /// version requires and has no default for, or gives one a value its render refuses (of another type than declared, or failing its
    /// validation pattern). Checked when cases are saved, and again when they run, as a
    /// new version is given its previous version's cases as they are, whatever variables it added or dropped.
    /// </summary>
    /// <param name="version">How the version is named in the message: <c>version 1.0.1</c>.</param>
    /// <returns>The check of one case, with the variables' patterns compiled once for all the cases it checks.</returns>
    public static Func<TestCase, string?> VariablesCheck(IReadOnlyList<VariableDefinition> variables, string version)
    {
        ArgumentNullException.ThrowIfNull(variables);
        var patterns = variables.Select(VariableContract.PatternOf).ToArray();
        return test => NamesProblem(test, variables, version) ?? ValuesProblem(test, variables, patterns, version);
    }

    /// <summary>
    /// The part of <see cref="VariablesCheck"/> a render does not do: the variables the case gives that the version does not have, and
    /// those it requires that the case leaves out. An evaluation run checks only these before rendering, as the render checks the
    /// values (types and patterns) itself, and asks <see cref="VariablesCheck"/> to word a refusal of the render.
    /// </summary>
    public static Func<TestCase, string?> NamesCheck(IReadOnlyList<VariableDefinition> variables, string version)
    {
        ArgumentNullException.ThrowIfNull(variables);
        return test => NamesProblem(test, variables, version);
    }

    private static string? NamesProblem(TestCase test, IReadOnlyList<VariableDefinition> variables, string version)
    {
        var given = test.Variables ?? EmptyVariables;
        var unknown = given.Keys.Where(key => !variables.Any(v => v.Name == key)).ToList();
        if (unknown.Count > 0)
            return $"gives {Quoted(unknown)}, which {version} does not have " +
                $"(its variables: {(variables.Count == 0 ? "none" : string.Join(", ", variables.Select(v => v.Name)))})";
        var missing = variables.Where(v => !v.IsOptional && !(given.TryGetValue(v.Name, out var value) && value.ValueKind != JsonValueKind.Null))
            .Select(v => v.Name).ToList();
        if (missing.Count > 0)
            return $"does not give {Quoted(missing)}, which {version} requires (required, with no defaultValue)";
        return null;
    }

    private static string? ValuesProblem(TestCase test, IReadOnlyList<VariableDefinition> variables, Regex?[] patterns, string version)
    {
        var given = test.Variables ?? EmptyVariables;
        // A null value counts as not given, as a render reads it.
        for (var i = 0; i < variables.Count; i++)
        {
            var variable = variables[i];
            if (!given.TryGetValue(variable.Name, out var value) || value.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
                continue;
            if (!VariableContract.Accepts(variable.Type, value.ValueKind))
                return $"gives '{variable.Name}' {VariableContract.Describe(value.ValueKind)}, but {version} declares it {VariableContract.Article(variable.Type)}";
            // The rest of what a render refuses in a value (its pattern), by the render's own check.
            try
            {
                VariableContract.CheckValue(variable, value, $"variables.{variable.Name}", patterns[i]);
            }
            catch (InvalidInputException e)
            {
                // Its sentence's full stop only (a pattern may end in '.'): the caller ends the message.
                return $"gives a value {version} refuses: {(e.Message.EndsWith('.') ? e.Message[..^1] : e.Message)}";
            }
        }
        return null;
    }

    /// <summary>
    /// Refuses cases a caller sends whose variables together, or a check's value, are longer than <see cref="MaxValueLength"/>,
    /// whose unit id is blank (<see cref="Prompts.Serving.RefuseBlankUnitId"/>, as a render refuses it), or whose check carries a
    /// member its type does not read (a rubric on equals, a value on judge).
    /// Limits on what a request adds, not rules of stored cases: an older server took such cases, and they stay
    /// readable, appendable to and importable from its exports.
    /// </summary>
    /// <param name="firstIndex">The index of the first of <paramref name="tests"/> among the version's cases (an appended case's).</param>
    /// <exception cref="InvalidInputException">A case is too long (<c>invalid_test</c>) or its unit id blank (<c>invalid_unit_id</c>);
    /// the exception's field names it.</exception>
    public static void EnsureSendable(IReadOnlyList<TestCase?>? tests, string field = "tests", int firstIndex = 0)
    {
        for (var i = 0; i < (tests?.Count ?? 0); i++)
        {
            if (tests![i] is not { } test) continue; // Validate names a missing case
            var at = $"{field}[{firstIndex + i}]";
            Prompts.Serving.RefuseBlankUnitId(test.UnitId, $"{at}.unitId");
            var variablesLength = 0L;
            foreach (var (variable, value) in test.Variables ?? EmptyVariables)
            {
                if ((variablesLength += variable.Length + JsonLength(value)) > MaxValueLength)
                    throw Invalid($"{at} ('{test.Name?.Trim()}') has variables longer than {MaxValueLength:N0} characters of JSON; the limit is the render output size limit, {MaxValueLength:N0} characters.", $"{at}.variables");
            }
            for (var j = 0; j < (test.Expect?.Count ?? 0); j++)
            {
                if (test.Expect![j]?.Value is { } value && JsonLength(value) > MaxValueLength)
                    throw Invalid($"{at}.expect[{j}].value is longer than {MaxValueLength:N0} characters of JSON; the limit is the render output size limit, {MaxValueLength:N0} characters.", $"{at}.expect[{j}].value");
                RefuseMemberItsTypeDoesNotRead(test.Expect[j], $"{at}.expect[{j}]");
            }
        }
    }

    private static int JsonLength(JsonElement value) => value.ValueKind == JsonValueKind.Undefined ? 0 : value.GetRawText().Length;

    private static string Quoted(IEnumerable<string> names) => string.Join(", ", names.Select(n => $"'{n}'"));

    private static TestExpectation ValidateCheck(TestExpectation? check, string at)
    {
        if (check is null)
            throw Invalid($"{at} is null; a check is an object with type and value.", at);
        if (string.IsNullOrEmpty(check.Type) || !CheckTypes.All.Contains(check.Type))
            throw Invalid($"{at}.type '{check.Type}' is not one of {string.Join(", ", CheckTypes.All)}.", $"{at}.type");

        var modelOnly = CheckTypes.ModelOnly(check.Type);
        var target = check.Target ?? (modelOnly ? CheckTypes.OutputTarget : CheckTypes.RenderTarget);
        if (target is not (CheckTypes.RenderTarget or CheckTypes.OutputTarget))
            throw Invalid($"{at}.target '{target}' is not one of render, output.", $"{at}.target");
        if (modelOnly && target != CheckTypes.OutputTarget)
            throw Invalid($"{at}: {check.Type} checks the model's answer; its target must be output.", $"{at}.target");

        switch (check.Type)
        {
            case CheckTypes.MaxLength:
                if (check.Value is not { ValueKind: JsonValueKind.Number } number || !number.TryGetInt32(out var max) || max < 0)
                    throw Invalid($"{at}.value {ValueRule(check.Value, "maxLength", "a whole number of characters, 0 or more")}", $"{at}.value");
                break;
            case CheckTypes.Judge:
                if (string.IsNullOrWhiteSpace(check.Rubric))
                    throw Invalid($"{at}.rubric is required for judge: what the model grades the answer against.", $"{at}.rubric");
                if (check.Rubric.Length > MaxRubricLength)
                    throw Invalid($"{at}.rubric is longer than {MaxRubricLength} characters.", $"{at}.rubric");
                if (check.PassingScore is < CheckTypes.MinPassingScore or > CheckTypes.MaxPassingScore)
                    throw Invalid($"{at}.passingScore {check.PassingScore} is outside {CheckTypes.MinPassingScore}–{CheckTypes.MaxPassingScore}.", $"{at}.passingScore");
                return check with { Target = target, PassingScore = check.PassingScore ?? CheckTypes.DefaultPassingScore };
            case CheckTypes.JsonSchema:
                break;
            default:
                if (check.Value is not { ValueKind: JsonValueKind.String } text)
                    throw Invalid($"{at}.value {ValueRule(check.Value, check.Type, "a string")}", $"{at}.value");
                if (check.Type == CheckTypes.Regex)
                    VariableContract.CompilePattern(text.GetString()!, "invalid_test", $"{at}.value is a regular expression", $"{at}.value");
                break;
        }
        if (check.PassingScore is not null)
            throw Invalid($"{at}.passingScore belongs to judge checks only.", $"{at}.passingScore");
        return check with { Target = target };
    }

    /// <summary>A value given but of the wrong kind is named as given: "is required" would send the user looking for a missing member.</summary>
    private static string ValueRule(JsonElement? value, string type, string takes) => value switch
    {
        null or { ValueKind: JsonValueKind.Undefined or JsonValueKind.Null } => $"is required for {type}: {takes}.",
        { ValueKind: JsonValueKind.Number } number when number.GetRawText().Length <= 32 => $"is {number.GetRawText()}; {type} takes {takes}.",
        { } other => $"is {VariableContract.Describe(other.ValueKind)}; {type} takes {takes}.",
    };

    /// <summary>A member the check's type never reads would be stored and ignored: the user meant something it does not do.</summary>
    private static void RefuseMemberItsTypeDoesNotRead(TestExpectation? check, string at)
    {
        if (check is not null && CheckTypes.ModelOnly(check.Type) && check.Value is { ValueKind: not (JsonValueKind.Undefined or JsonValueKind.Null) })
            throw Invalid($"{at}.value is not taken by {check.Type}, which checks {(check.Type == CheckTypes.Judge ? "the model's answer against its rubric" : "the model's answer against the version's metadata.responseFormat")}; remove it.", $"{at}.value");
        if (check?.Rubric is not null && check.Type != CheckTypes.Judge && CheckTypes.All.Contains(check.Type))
            throw Invalid($"{at}.rubric belongs to judge checks only; {check.Type} checks against its value, so remove it.", $"{at}.rubric");
    }

    private static InvalidInputException Invalid(InvariantMessage message, string field) => new("invalid_test", message.ToStringAndClear(), field);
}
