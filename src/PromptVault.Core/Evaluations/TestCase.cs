using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace PromptVault.Core.Evaluations;

// The JSON of a version's tests (SPEC §10): the body of PUT .../tests, the answer of GET, and a prompt file's `tests:` block.
// Fields are nullable so that a missing one is refused by TestCaseRules with a message naming it.

/// <summary>A version's test cases.</summary>
public sealed record VersionTests(IReadOnlyList<TestCase>? Tests);

/// <summary>One case: the variables to render with (and the unit id, if any), and what the render or the answer must satisfy.</summary>
public sealed record TestCase(
    string? Name,
    IReadOnlyDictionary<string, JsonElement>? Variables = null,
    string? UnitId = null,
    IReadOnlyList<TestExpectation>? Expect = null);

/// <summary>
/// One check: <c>type</c> is one of <see cref="CheckTypes"/>; <c>value</c> is the text (<c>contains</c>, <c>notContains</c>,
/// <c>regex</c>, <c>equals</c>) or the number (<c>maxLength</c>); <c>target</c> is <c>render</c> (default) or <c>output</c>;
/// <c>judge</c> takes a <c>rubric</c> and a <c>passingScore</c> of 1–5 (default 4).
/// </summary>
public sealed record TestExpectation(
    string? Type,
    JsonElement? Value = null,
    string? Target = null,
    string? Rubric = null,
    [property: Range(CheckTypes.MinPassingScore, CheckTypes.MaxPassingScore)] int? PassingScore = null);

/// <summary>The names of the checks and their targets.</summary>
public static class CheckTypes
{
    public const string Contains = "contains";
    public const string NotContains = "notContains";
    public const string Regex = "regex";
    public const string EqualsText = "equals";
    public const string MaxLength = "maxLength";
    public const string JsonSchema = "jsonSchema";
    public const string Judge = "judge";

    public const string RenderTarget = "render";
    public const string OutputTarget = "output";

    public const int DefaultPassingScore = 4, MinPassingScore = 1, MaxPassingScore = 5;

    /// <summary>The checks that need no model when they target the render.</summary>
    public static IReadOnlyList<string> TextChecks { get; } = [Contains, NotContains, Regex, EqualsText, MaxLength];

    public static IReadOnlyList<string> All { get; } = [.. TextChecks, JsonSchema, Judge];

    /// <summary>Whether a check of <paramref name="type"/> reads only the model's answer (target output) and takes no <c>value</c>.</summary>
    public static bool ModelOnly(string? type) => type is Judge or JsonSchema;
}

/// <summary>The outcome of an evaluation run.</summary>
public enum EvaluationStatus
{
    [JsonStringEnumMemberName("passed")] Passed,
    [JsonStringEnumMemberName("failed")] Failed,
    [JsonStringEnumMemberName("error")] Error,
}

/// <summary>An evaluation run (SPEC §10), kept per version: <c>GET /api/evaluations/{id}</c>.</summary>
public sealed record EvaluationRun(
    string Id,
    string PromptName,
    string Version,
    string VersionId,
    EvaluationStatus Status,
    IReadOnlyList<CaseResult> Cases,
    DateTimeOffset CreatedAt,
    string CreatedBy)
{
    /// <summary>The <see cref="TestCaseRules.Digest"/> of the cases the run ran; null for a run stored before runs recorded it.</summary>
    public string? TestsDigest { get; init; }

    /// <summary>True when the version's test cases are no longer the ones this run ran (<see cref="TestCaseRules.Ran"/>), so its verdict
    /// is not theirs: set when the run is read, never stored (null, and left out, in the stored JSON).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? TestsChanged { get; init; }
}

/// <summary>
/// One case of a run: its render, the model's answer when a check needed one, and each check's verdict. <c>error</c> says why
/// the case could not be checked (no model, the provider failed, the case timed out); such a case makes the run <c>error</c>.
/// </summary>
public sealed record CaseResult(
    string Name,
    bool Passed,
    IReadOnlyList<CheckResult> Checks,
    string? Render,
    string? Output = null,
    double? LatencyMs = null,
    long? InputTokens = null,
    long? OutputTokens = null,
    double? Cost = null,
    string? Error = null);

/// <summary>One check's verdict and why; a <c>judge</c> check keeps the judge's <c>score</c> (1–5).</summary>
public sealed record CheckResult(string Type, bool Passed, string Reason, int? Score = null);

/// <summary>A page of a version's runs, newest first; <c>total</c> counts them all, <c>next</c> is the next page's link (null on the last).</summary>
public sealed record EvaluationListResponse(IReadOnlyList<EvaluationRun> Evaluations, int Total, string? Next = null);
