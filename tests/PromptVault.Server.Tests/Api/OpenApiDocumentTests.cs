using System.ComponentModel.DataAnnotations;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using PromptVault.Core;
using PromptVault.Core.Storage;

namespace PromptVault.Server.Tests.Api;

/// <summary>
/// The OpenAPI document is committed (docs/openapi.json) so API changes show in review. These tests fail when the served
/// document drifts from it or stops passing the validators a client generator relies on. To regenerate the committed copy:
/// <c>PROMPTVAULT_UPDATE_OPENAPI=1 dotnet test --project tests/PromptVault.Server.Tests -- --filter-class '*OpenApiDocumentTests'</c>.
/// </summary>
public sealed class OpenApiDocumentTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private static string Committed => RepositoryFiles.Docs("openapi.json");

    [Fact]
    public async Task ServedDocument_MatchesTheCommittedOne()
    {
        var text = await ServedAsync();

        if (Environment.GetEnvironmentVariable("PROMPTVAULT_UPDATE_OPENAPI") == "1")
            await File.WriteAllTextAsync(Committed, text, TestContext.Current.CancellationToken);

        Assert.True(File.Exists(Committed), $"{Committed} is missing: run the tests once with PROMPTVAULT_UPDATE_OPENAPI=1.");
        Assert.True(text == await File.ReadAllTextAsync(Committed, TestContext.Current.CancellationToken),
            "The API changed: review the difference and run the tests with PROMPTVAULT_UPDATE_OPENAPI=1 to update docs/openapi.json.");
    }

    [Fact]
    public async Task CommittedDocument_PassesRedoclyRecommendedRules()
    {
        var config = RepositoryFiles.Docs("redocly.yaml");

        var (exitCode, output) = await OpenApiValidators.RunAsync("redocly", "lint", "--config", config, "--format=json", Committed);

        Assert.True(exitCode == 0, output);
        var totals = JsonNode.Parse(output[..(output.IndexOf("\n}", StringComparison.Ordinal) + 2)])!["totals"]!;
        Assert.True(totals["warnings"]!.GetValue<int>() == 0, output);
    }

    [Fact]
    public async Task CommittedDocument_PassesSwaggerParser()
    {
        var (exitCode, output) = await OpenApiValidators.RunAsync("swagger-cli", "validate", Committed);

        Assert.True(exitCode == 0, output);
    }

    [Fact]
    public async Task EnumSchemas_ListTheNamesTheServerAccepts()
    {
        var schemas = JsonNode.Parse(await ServedAsync())!["components"]!["schemas"]!.AsObject();
        var enums = typeof(Names).Assembly.GetExportedTypes().Where(t => t.IsEnum).ToList();

        Assert.Contains(enums, e => e.Name == "MetricName");
        foreach (var type in enums.Where(e => schemas.ContainsKey(e.Name)))
        {
            var published = schemas[type.Name]!["enum"]!.AsArray().OfType<JsonNode>().Select(n => n.GetValue<string>());
            Assert.Equal(Names.AllOf(type), string.Join(", ", published));
        }
        Assert.Equal("conversionRate, avgQualityScore, avgUserFeedback, avgLatencyMs, avgCost, errorRate",
            string.Join(", ", schemas["MetricName"]!["enum"]!.AsArray().Select(n => n!.GetValue<string>())));
    }

    [Fact]
    public async Task RangedMembers_PublishTheRangeTheServerChecks()
    {
        var schemas = JsonNode.Parse(await ServedAsync())!["components"]!["schemas"]!.AsObject();
        var ranged = typeof(Names).Assembly.GetExportedTypes().Where(t => schemas.ContainsKey(t.Name))
            .SelectMany(t => t.GetProperties().Select(p => (Type: t, Member: p, Range: p.GetCustomAttribute<RangeAttribute>())))
            .Where(m => m.Range is not null).ToList();

        Assert.Equal(["CreateExperimentRequest.ConfidenceLevel", "CreateExperimentRequest.MinimumDetectableEffect", "CreateExperimentRequest.MinimumSampleSize", "CreateExperimentRequest.Power", "GuardrailRequest.Threshold",
            "MetricEventRequest.Cost", "MetricEventRequest.InputTokens", "MetricEventRequest.LatencyMs", "MetricEventRequest.OutputTokens",
            "MetricEventRequest.QualityScore", "MetricEventRequest.UserFeedback", "PromptMetadata.FrequencyPenalty", "PromptMetadata.MaxTokens", "PromptMetadata.PresencePenalty",
            "PromptMetadata.Temperature", "PromptMetadata.TopP", "TestExpectation.PassingScore"],
            ranged.Select(m => $"{m.Type.Name}.{m.Member.Name}").Order(StringComparer.Ordinal));
        foreach (var (type, member, range) in ranged)
        {
            var published = schemas[type.Name]!["properties"]![JsonNamingPolicy.CamelCase.ConvertName(member.Name)]!;
            Assert.Equal($"{range!.Minimum}..{range.Maximum}", $"{published["minimum"]}..{published["maximum"]}");
        }
    }

    [Fact]
    public async Task PagingParameters_PublishTheRangeTheServerChecks()
    {
        var paths = JsonNode.Parse(await ServedAsync())!["paths"]!.AsObject();
        var paging = paths.SelectMany(p => p.Value!.AsObject().SelectMany(o => o.Value!["parameters"]?.AsArray() ?? []))
            .Where(p => p!["in"]!.GetValue<string>() == "query" && PageRequest.Range(p["name"]!.GetValue<string>()) is not null).ToList();

        Assert.True(paging.Count >= 14, $"{paging.Count} paging parameters"); // limit and offset of the seven list routes, at least
        foreach (var parameter in paging)
        {
            var (min, max) = PageRequest.Range(parameter!["name"]!.GetValue<string>())!.Value;
            Assert.Equal($"{min}..{max}", $"{parameter["schema"]!["minimum"]}..{parameter["schema"]!["maximum"]}");
        }
    }

    /// <summary>Query parameters the API parses by hand, for its own wording of their refusals, published as what they take: the document said "string".</summary>
    [Theory]
    [InlineData("/api/prompts/{name}/versions/{version}/metrics", "period", typeof(Core.Metrics.MetricPeriod))]
    [InlineData("/api/prompts", "type", typeof(Core.Prompts.PromptType))]
    public async Task QueryParametersOfNames_ListTheNamesTheServerAccepts(string path, string name, Type names)
    {
        var parameter = await QueryParameterAsync(path, name);

        Assert.Equal(Names.ListOf(names), parameter["schema"]!["enum"]!.AsArray().Select(n => n!.GetValue<string>()));
    }

    [Theory]
    [InlineData("from")]
    [InlineData("to")]
    public async Task AuditTimeParameters_AreDateTimes(string name) =>
        Assert.Equal("date-time", (await QueryParameterAsync("/api/audit", name))["schema"]!["format"]!.GetValue<string>());

    private async Task<JsonNode> QueryParameterAsync(string path, string name) =>
        JsonNode.Parse(await ServedAsync())!["paths"]![path]!["get"]!["parameters"]!.AsArray()
            .Single(p => p!["in"]!.GetValue<string>() == "query" && p["name"]!.GetValue<string>() == name)!;

    [Theory]
    [InlineData("/api/prompts", "get", false)]
    [InlineData("/api/prompts", "post", true)]
    [InlineData("/api/prompts/{name}/versions", "post", true)]
    [InlineData("/api/metrics", "post", true)]
    [InlineData("/api/exposures", "post", true)]
    [InlineData("/api/sdk/snapshot", "get", false)]
    [InlineData("/api/sdk/stream", "get", false)]
    [InlineData("/api/experiments", "post", true)]
    [InlineData("/api/keys", "get", true)]
    [InlineData("/api/audit", "get", false)]
    public async Task AuthorizedRoutes_DeclareUnauthorizedAndForbiddenByRole(string path, string method, bool needsMoreThanReader)
    {
        var responses = JsonNode.Parse(await ServedAsync())!["paths"]![path]![method]!["responses"]!.AsObject();

        Assert.True(responses.ContainsKey("401"));
        Assert.Equal(needsMoreThanReader, responses.ContainsKey("403"));
    }

    [Fact]
    public async Task RecordMetrics_BodyIsOneEventOrABatch()
    {
        var body = JsonNode.Parse(await ServedAsync())!["paths"]!["/api/metrics"]!["post"]!["requestBody"]!;

        var oneOf = body["content"]!["application/json"]!["schema"]!["oneOf"]!.AsArray().Select(n => n!["$ref"]!.GetValue<string>());
        Assert.Equal(["#/components/schemas/MetricBatchRequest", "#/components/schemas/MetricEventRequest"], oneOf);
    }

    private async Task<string> ServedAsync()
    {
        using var client = fixture.Server.CreateClient(apiKey: "");
        var served = JsonNode.Parse(await client.GetStringAsync("/openapi/v1.json", TestContext.Current.CancellationToken))!;
        return served.ToJsonString(new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n";
    }
}
