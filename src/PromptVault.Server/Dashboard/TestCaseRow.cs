using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using PromptVault.Core;
using PromptVault.Core.Contracts;
using PromptVault.Core.Evaluations;

namespace PromptVault.Server.Dashboard;

/// <summary>One test case in the version page's editor: variables typed as a JSON object, checks as rows (SPEC §10).</summary>
public sealed partial class TestCaseRow
{
    public string Name { get; set; } = "";
    public string Variables { get; set; } = "{}";
    public string? UnitId { get; set; }
    public List<CheckRow> Checks { get; set; } = [];

    public static TestCaseRow Of(TestCase test) => new()
    {
        Name = test.Name ?? "",
        Variables = JsonSerializer.Serialize(test.Variables ?? new Dictionary<string, JsonElement>(), PromptVaultJson.Options),
        UnitId = test.UnitId,
        Checks = (test.Expect ?? []).Select(CheckRow.Of).ToList(),
    };

    /// <param name="field">Where the case sits (<c>tests[2]</c>), named when its variables are not a JSON object.</param>
    /// <exception cref="InvalidInputException">The variables are not a JSON object.</exception>
    public TestCase ToTestCase(string field)
    {
        Dictionary<string, JsonElement>? variables;
        try
        {
            variables = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(string.IsNullOrWhiteSpace(Variables) ? "{}" : Variables, PromptVaultJson.Requests);
        }
        catch (JsonException e)
        {
            throw new InvalidInputException("invalid_test", $"{field}.variables must be a JSON object such as {{\"customer\": \"Ada\"}}: {e.Message}", $"{field}.variables");
        }
        return new TestCase(Name, variables, string.IsNullOrWhiteSpace(UnitId) ? null : UnitId.Trim(), Checks.Select(c => c.ToExpectation()).ToList());
    }

    /// <summary>A save error with the case it concerns named first: <c>case 'greets': tests[0].expect[1].value is required ...</c>.</summary>
    public static string Describe(InvalidInputException error, IReadOnlyList<TestCaseRow> rows) =>
        error.Field is { } field && CaseIndex().Match(field) is { Success: true } match
            && int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) is var i && i < rows.Count
            ? $"Case '{rows[i].Name}' ({field}): {error.Message}"
            : error.Message;

    [GeneratedRegex(@"^tests\[(\d+)\]")]
    private static partial Regex CaseIndex();
}

/// <summary>One check of a case; the value is typed as text and sent as a number for <c>maxLength</c>.</summary>
public sealed class CheckRow
{
    public string Type { get; set; } = CheckTypes.Contains;
    public string Target { get; set; } = CheckTypes.RenderTarget;
    public string? Value { get; set; }
    public string? Rubric { get; set; }
    public int? PassingScore { get; set; }

    public static CheckRow Of(TestExpectation check) => new()
    {
        Type = check.Type ?? CheckTypes.Contains,
        Target = check.Target ?? CheckTypes.RenderTarget,
        Value = check.Value is { ValueKind: JsonValueKind.String } text ? text.GetString() : check.Value?.GetRawText(),
        Rubric = check.Rubric,
        PassingScore = check.PassingScore,
    };

    // A check that reads only the model's answer has no target or value fields on the page: what the row held from another type is not sent.
    public TestExpectation ToExpectation() => new(Type, ValueElement(), CheckTypes.ModelOnly(Type) ? CheckTypes.OutputTarget : Target, Type == CheckTypes.Judge ? Rubric : null,
        Type == CheckTypes.Judge ? PassingScore : null);

    // Empty means absent, and a maxLength that is not a whole number stays text: either way the save's own rule refuses it by
    // name (tests[i].expect[j].value) rather than the page guessing.
    private JsonElement? ValueElement() =>
        string.IsNullOrEmpty(Value) || CheckTypes.ModelOnly(Type) ? null
        : Type == CheckTypes.MaxLength && int.TryParse(Value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) ? JsonSerializer.SerializeToElement(number)
        : JsonSerializer.SerializeToElement(Value);
}
