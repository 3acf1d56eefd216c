using System.Text.Json;
using Microsoft.Extensions.AI.Evaluation;
using PromptVault.Core.Evaluations;

namespace PromptVault.Core.Tests.Evaluations;

/// <summary>The rules of the checks that read a model's answer: the judge's grade and the answer's JSON schema.</summary>
public sealed class ModelChecksTests
{
    [Theory]
    [InlineData("""{ "score": 4, "reason": "Polite." }""", 4, false, "scored 4 of 5, at least the passing score 4: Polite.")]
    [InlineData("""{ "score": 3, "reason": "A bit curt." }""", 3, true, "scored 3 of 5, below the passing score 4: A bit curt.")]
    [InlineData("""{ "score": 5 }""", 5, false, "scored 5 of 5, at least the passing score 4: (no reason given)")]
    public void Grade_AScore_IsKeptWithTheReason_AndFailsBelowThePassingScore(string answer, double score, bool failed, string reason)
    {
        var metric = RubricEvaluator.Grade(answer, passingScore: 4);

        Assert.Equal(score, metric.Value);
        Assert.Equal(failed, metric.Interpretation!.Failed);
        Assert.Equal(reason, metric.Interpretation.Reason);
    }

    [Theory]
    [InlineData("Looks good to me, 5/5.")]
    [InlineData("""{ "score": 7, "reason": "Great." }""")]
    [InlineData("""{ "score": "five" }""")]
    [InlineData("[4]")]
    public void Grade_NotAScoreOfOneToFive_FailsQuotingTheJudge(string answer)
    {
        var metric = RubricEvaluator.Grade(answer, passingScore: 4);

        Assert.Null(metric.Value);
        Assert.True(metric.Interpretation!.Failed);
        Assert.StartsWith("the judge did not answer a score of 1–5 as JSON: '", metric.Interpretation.Reason);
        Assert.Contains(metric.Diagnostics!, d => d.Severity == EvaluationDiagnosticSeverity.Error);
    }

    private static readonly JsonElement Schema = JsonDocument.Parse("""
        { "$id": "https://example.com/reply", "type": "object", "required": ["reply"],
          "properties": { "reply": { "type": "string" }, "tags": { "type": "array", "items": { "type": "string" } } } }
        """).RootElement;

    [Theory]
    [InlineData("""{ "reply": "Hi", "tags": ["a"] }""", true, "output matches metadata.responseFormat")]
    [InlineData("""{ "reply": "Hi", "tags": ["a", 2] }""", false, "output does not match metadata.responseFormat at '/tags/1': type:")]
    [InlineData("""{ "tags": [] }""", false, "output does not match metadata.responseFormat at '/': required:")]
    [InlineData("Hi there", false, "output is not JSON (")]
    public void JsonSchema_TheAnswer_IsValidatedNamingPathAndKeyword(string output, bool passed, string reason)
    {
        // Built twice: a schema with an $id must not clash with an earlier run's.
        _ = new JsonSchemaCheck(Schema);
        var result = new JsonSchemaCheck(Schema).Run(output);

        Assert.Equal(passed, result.Passed);
        Assert.StartsWith(reason, result.Reason);
    }

    [Fact]
    public void JsonSchema_AnswerWithManyProblems_ListsTheFirstTenAndCountsTheRest()
    {
        // Twelve tags that are not strings: twelve problems. It once named only the first.
        var output = $$"""{ "reply": "Hi", "tags": [{{string.Join(", ", Enumerable.Range(0, 12))}}] }""";

        var result = new JsonSchemaCheck(Schema).Run(output);

        Assert.False(result.Passed);
        Assert.StartsWith("output does not match metadata.responseFormat at '/tags/0': type: ", result.Reason);
        for (var i = 1; i < 10; i++)
            Assert.Contains($"; at '/tags/{i}': type: ", result.Reason);
        Assert.DoesNotContain("at '/tags/10'", result.Reason);
        Assert.EndsWith("; and 2 more", result.Reason);
    }

    // A version stored before the save rules built its schema: the check fails with the reason instead of failing the run.
    [Theory]
    [InlineData("""{ "type": "object", "properties": { "a": { "$ref": "#/$defs/nope" } } }""")]
    [InlineData("""{ "type": "object", "properties": { "a": { "type": "string", "pattern": "(" } } }""")]
    public void JsonSchema_ResponseFormatThatCannotBeBuilt_FailsSayingSo(string schema)
    {
        var result = new JsonSchemaCheck(JsonDocument.Parse(schema).RootElement).Run("""{ "a": "x" }""");

        Assert.False(result.Passed);
        Assert.StartsWith("metadata.responseFormat cannot check the output: ", result.Reason);
    }

    [Fact]
    public void JsonSchema_VersionWithoutResponseFormat_FailsSayingSo()
    {
        var result = new JsonSchemaCheck(null).Run("{}");

        Assert.False(result.Passed);
        Assert.Equal("the version has no metadata.responseFormat to check the output against", result.Reason);
    }
}
