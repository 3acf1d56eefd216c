using System.Text.Json;
using Json.Schema;
using PromptVault.Core.Prompts;
using PromptVault.Core.Registry;

namespace PromptVault.Core.Evaluations;

/// <summary>
/// The <c>jsonSchema</c> check (SPEC §10): the model's answer parsed as JSON and validated against the version's
/// <c>metadata.responseFormat</c>. A failure names each JSON path of the answer and the keyword it broke (the first ten, then how many more).
/// </summary>
internal sealed class JsonSchemaCheck
{
    private static readonly EvaluationOptions Hierarchical = new() { OutputFormat = OutputFormat.Hierarchical };

    /// <summary>The problems a failure lists, the first found; it says how many more there are.</summary>
    private const int ProblemsListed = 10;

    private readonly JsonSchema? _schema;

    /// <summary>Why the version's schema cannot check anything: a version saved before the save rules built it (an unresolvable
    /// <c>$ref</c>, a pattern that is no regex) still answers each case with the reason rather than failing the whole run.</summary>
    private readonly string? _unusable;

    /// <param name="responseFormat">The version's <c>metadata.responseFormat</c>, checked as a valid schema when the version was saved.</param>
    public JsonSchemaCheck(JsonElement? responseFormat)
    {
        if (responseFormat is not { ValueKind: JsonValueKind.Object } schema)
            return;
        try
        {
            _schema = ToolSchemaRules.Build(schema);
        }
        catch (Exception e) when (ToolSchemaRules.IsBuildFailure(e))
        {
            _unusable = Unusable(e);
        }
    }

    private static string Unusable(Exception e) => $"metadata.responseFormat cannot check the output: {PromptRules.Shorten(e.Message)}";

    public CheckResult Run(string output)
    {
        const string type = CheckTypes.JsonSchema;
        if (_unusable is not null)
            return new(type, false, _unusable);
        if (_schema is null)
            return new(type, false, "the version has no metadata.responseFormat to check the output against");
        JsonDocument answer;
        try
        {
            answer = JsonDocument.Parse(output);
        }
        catch (JsonException e)
        {
            return new(type, false, $"output is not JSON ({e.Message}): '{PromptRules.Shorten(output)}'");
        }
        using (answer)
        {
            EvaluationResults results;
            try
            {
                results = _schema.Evaluate(answer.RootElement, Hierarchical);
            }
            catch (Exception e) when (ToolSchemaRules.IsBuildFailure(e))
            {
                return new(type, false, Unusable(e));
            }
            if (results.IsValid)
                return new(type, true, "output matches metadata.responseFormat");
            var problems = ToolSchemaRules.Causes(results).DefaultIfEmpty(results).ToList();
            var listed = string.Join("; ", problems.Take(ProblemsListed).Select(Described));
            var more = problems.Count > ProblemsListed ? $"; and {problems.Count - ProblemsListed} more" : "";
            return new(type, false, $"output does not match metadata.responseFormat {listed}{more}");
        }
    }

    /// <summary>One problem of an answer that does not match: where, and each keyword it broke.</summary>
    private static string Described(EvaluationResults problem)
    {
        var path = problem.InstanceLocation.ToString() is { Length: > 0 } pointer ? pointer : "/";
        var errors = problem.Errors is { Count: > 0 } found ? string.Join("; ", found.Select(e => $"{e.Key}: {e.Value}")) : "it does not match";
        return $"at '{path}': {errors}";
    }
}
