using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using PromptVault.Core.Analysis;
using PromptVault.Core.Contracts;
using PromptVault.Core.Experiments;
using PromptVault.Core.Metrics;
using PromptVault.Core.Storage;
using static PromptVault.Server.Tests.ApiCalls;

namespace PromptVault.Server.Tests.Api;

/// <summary>
/// A merge import (<c>POST /api/import?merge=true</c>) through a real server: what the prompts it adds serve must pass the
/// include checks a promote passes, on the registry as it would be after the import, or nothing is imported.
/// </summary>
public sealed class ImportIncludesApiTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private readonly HttpClient _client = fixture.Server.CreateClient();

    private const string At = "2026-12-01T06:00:00.0000000+00:00";

    /// <summary>A prompt of the document: its one version 1.0.0, with <paramref name="content"/>, in production.</summary>
    private sealed record Imported(string Name, string Content, params string[] Variables)
    {
        public string Id { get; } = Guid.NewGuid().ToString("N");
        public string VersionId { get; } = Guid.NewGuid().ToString("N");
        public string Label { get; init; } = "production";
        public object Tags { get; init; } = Array.Empty<string>();
        public string? Category { get; init; }

        /// <summary>When set, the document holds a draft experiment of the prompt with these names, its two variants of the one version.</summary>
        public (string Name, string Control, string Treatment)? Experiment { get; init; }

        /// <summary>When set, the document holds a reader key of this name.</summary>
        public string? KeyName { get; init; }

        /// <summary>When set, the version's variables instead of required strings of <see cref="Variables"/>' names.</summary>
        public object? VariableList { get; init; }

        /// <summary>When set, the version's declaredVariables (else absent: it declared all of its variables).</summary>
        public object? DeclaredList { get; init; }

        /// <summary>When set, the version's promptId instead of its prompt's id.</summary>
        public string? VersionPromptId { get; init; }

        public object Metadata { get; init; } = new { };

        /// <summary>When set, the document holds these test cases of the version.</summary>
        public object? Tests { get; init; }

        public string ExperimentId { get; } = Guid.NewGuid().ToString("N");
        public string ControlId { get; } = Guid.NewGuid().ToString("N");
        public string TreatmentId { get; } = Guid.NewGuid().ToString("N");

        /// <summary>The version's fields that differ from a valid first version's (its sequence, its numbers).</summary>
        public Dictionary<string, object?> VersionFields { get; init; } = [];

        /// <summary>When set, the document holds one evaluation run of the version, with these fields over a valid run's.</summary>
        public Dictionary<string, object?>? RunFields { get; init; }

        public string RunId { get; } = Guid.NewGuid().ToString("N");

        /// <summary>The variant of <see cref="Traffic"/>'s exposure and event, when not the control.</summary>
        public string? TrafficVariantId { get; init; }

        /// <summary>The experiment's fields that differ from a valid draft's (its variants' weights, its confidence level).</summary>
        public Dictionary<string, object?> ExperimentFields { get; init; } = [];

        /// <summary>When set, the document holds one exposure of the experiment's control to this unit, and one metric event of it
        /// with these fields over a valid event's.</summary>
        public (string UnitId, Dictionary<string, object?> EventFields)? Traffic { get; init; }
    }

    private static Dictionary<string, object?> With(Dictionary<string, object?> row, Dictionary<string, object?> fields)
    {
        foreach (var (name, value) in fields)
            row[name] = value;
        return row;
    }

    private static object Document(params Imported[] prompts) => new
    {
        format = "promptvault-export",
        formatVersion = 1,
        exportedAt = At,
        prompts = prompts.Select(p => new
        {
            id = p.Id, name = p.Name, description = "", type = "system", tags = p.Tags, category = p.Category,
            createdAt = At, createdBy = "alice", updatedAt = At, updatedBy = "alice", requireApproval = false, requireTests = false,
        }),
        versions = prompts.Select(p => With(new()
        {
            ["id"] = p.VersionId, ["promptId"] = p.VersionPromptId ?? p.Id, ["sequence"] = 1, ["major"] = 1, ["minor"] = 0, ["patch"] = 0, ["content"] = p.Content,
            ["variables"] = p.VariableList ?? p.Variables.Select(v => new { name = v, type = "string", required = true, description = "" }),
            ["metadata"] = p.Metadata, ["changeDescription"] = "Initial version", ["createdBy"] = "alice", ["createdAt"] = At, ["status"] = "production",
            ["messages"] = null, ["approvedBy"] = null, ["approvedAt"] = null, ["declaredVariables"] = p.DeclaredList,
        }, p.VersionFields)),
        versionTests = prompts.Where(p => p.Tests is not null).Select(p => new { versionId = p.VersionId, tests = p.Tests }),
        evaluationRuns = prompts.Where(p => p.RunFields is not null).Select(p => With(new()
        {
            ["id"] = p.RunId, ["versionId"] = p.VersionId, ["status"] = "passed", ["createdAt"] = At, ["createdBy"] = "alice",
            ["run"] = new { id = p.RunId, promptName = p.Name, version = "1.0.0", versionId = p.VersionId, status = "passed", cases = Array.Empty<object>(), createdAt = At, createdBy = "alice" },
        }, p.RunFields!)),
        labels = prompts.Select(p => new { promptId = p.Id, name = p.Label, versionId = p.VersionId, updatedAt = At, updatedBy = "alice" }),
        experiments = prompts.Where(p => p.Experiment is not null).Select(p => With(new()
        {
            ["id"] = p.ExperimentId, ["promptId"] = p.Id, ["name"] = p.Experiment!.Value.Name, ["description"] = "",
            ["variants"] = new[] { new { id = p.ControlId, name = p.Experiment.Value.Control, versionId = p.VersionId, weight = 50 },
                new { id = p.TreatmentId, name = p.Experiment.Value.Treatment, versionId = p.VersionId, weight = 50 } },
            ["targetMetric"] = "conversionRate", ["minimumSampleSize"] = 100, ["confidenceLevel"] = 0.95, ["minimumDetectableEffect"] = 0.1, ["power"] = 0.8,
            ["guardrails"] = Array.Empty<object>(), ["promoteWinner"] = false, ["status"] = "draft", ["hashSeed"] = 1, ["winner"] = null, ["statusReason"] = null,
            ["createdAt"] = At, ["createdBy"] = "alice", ["updatedAt"] = At, ["startedAt"] = null, ["endedAt"] = null,
        }, p.ExperimentFields)),
        exposures = prompts.Where(p => p.Traffic is not null).Select(p => new { experimentId = p.ExperimentId, unitId = p.Traffic!.Value.UnitId, variantId = p.TrafficVariantId ?? p.ControlId, at = At }),
        metricEvents = prompts.Where(p => p.Traffic is not null).Select(p => With(new()
        {
            ["id"] = Guid.NewGuid().ToString("N"), ["versionId"] = p.VersionId, ["experimentId"] = p.ExperimentId, ["variantId"] = p.TrafficVariantId ?? p.ControlId,
            ["unitId"] = p.Traffic!.Value.UnitId, ["timestamp"] = At, ["latencyMs"] = 120.0, ["inputTokens"] = 10, ["outputTokens"] = 20, ["cost"] = 0.01,
            ["qualityScore"] = 4.0, ["userFeedback"] = 1.0, ["converted"] = true, ["error"] = null, ["metadata"] = new { source = "test" },
        }, p.Traffic.Value.EventFields)),
        apiKeys = prompts.Where(p => p.KeyName is not null).Select(p => new
        {
            id = Guid.NewGuid().ToString("N"), name = p.KeyName, role = "reader", prefix = "pv_test", keyHash = Guid.NewGuid().ToString("N"),
            createdAt = At, createdBy = "alice", revokedAt = (string?)null,
        }),
    };

    /// <summary>A stored prompt whose one version, 1.0.0, has <paramref name="content"/> and requires the string policy.</summary>
    private async Task<string> StoredGuardAsync(string content)
    {
        var name = UniqueName("guard");
        Assert.Equal(HttpStatusCode.Created, (await PostAsync(_client, "/api/prompts", new
        {
            name, type = "system", content,
            variables = new[] { new { name = "policy", type = "string", required = true, description = "" } },
        })).Status);
        return name;
    }

    private async Task AssertNotStoredAsync(params string[] names)
    {
        foreach (var name in names)
            Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(_client, $"/api/prompts/{name}")).Status);
    }

    /// <summary>Merges a document of <paramref name="refused"/>: 400 <paramref name="code"/> naming <paramref name="field"/>, its detail
    /// holding <paramref name="detail"/>, and nothing stored.</summary>
    /// <param name="edit">Rewrites the document's JSON text before it is sent, for what a serializer will not write.</param>
    private async Task AssertImportRefusedAsync(Imported refused, string field, string detail, string code = "invalid_export_document", Func<string, string>? edit = null)
    {
        var document = edit is null ? Document(refused) : edit(JsonSerializer.Serialize(Document(refused), PromptVaultJson.Options));
        var (status, body) = await PostAsync(_client, "/api/import?merge=true", document);

        Assert.True(status == HttpStatusCode.BadRequest, body?.ToJsonString());
        Assert.Equal((code, field), (body.Str("code"), body.Str("field")));
        Assert.Contains(detail, body.Str("detail"), StringComparison.Ordinal);
        await AssertNotStoredAsync(refused.Name);
    }

    [Fact]
    public async Task Merge_ALabelLongerThan64Characters_Returns400NamingTheLimit_AndStoresNothing()
    {
        var longest = new Imported(UniqueName("label-64"), "Plain.") { Label = new string('l', 64) };
        var tooLong = new Imported(UniqueName("label-65"), "Plain.") { Label = new string('l', 65) };

        var (taken, _) = await PostAsync(_client, "/api/import?merge=true", Document(longest));
        var (status, body) = await PostAsync(_client, "/api/import?merge=true", Document(tooLong));

        Assert.Equal(HttpStatusCode.OK, taken);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_export_document", body.Str("code"));
        Assert.Equal("$.labels[0].name", body.Str("field"));
        Assert.Contains("is 65 characters long; the limit is 64", body.Str("detail"), StringComparison.Ordinal);
        await AssertNotStoredAsync(tooLong.Name);
    }

    [Fact]
    public async Task Merge_APromptNameTheApiRefuses_Returns400NamingIt_AndStoresNothing()
    {
        var unreachable = new Imported("Has Space " + UniqueName("x"), "Plain.");

        var (status, body) = await PostAsync(_client, "/api/import?merge=true", Document(unreachable));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_export_document", body.Str("code"));
        Assert.Equal("$.prompts[0].name", body.Str("field"));
        Assert.Contains("use 1–100 characters of a-z", body.Str("detail"), StringComparison.Ordinal);
        // The API cannot name it (that is the point), so the store is asked.
        Assert.Null(await fixture.Server.Services.GetRequiredService<IPromptStore>().FindPromptAsync(unreachable.Name, TestContext.Current.CancellationToken));
    }

    [Theory]
    [InlineData("51 tags", "$.prompts[0].tags", "tags has 51 entries; the limit is 50")]
    [InlineData("a 101-character tag", "$.prompts[0].tags", "tags[1] is 101 characters long; the limit is 100")]
    [InlineData("tags not an array", "$.prompts[0].tags", "it must be an array of strings")]
    [InlineData("a 101-character category", "$.prompts[0].category", "category is 101 characters long; the limit is 100")]
    public async Task Merge_TagsOrACategoryTheApiRefuses_Returns400NamingTheField_AndStoresNothing(string problem, string field, string detail)
    {
        var refused = problem switch
        {
            "51 tags" => new Imported(UniqueName("tags"), "Plain.") { Tags = Enumerable.Range(0, 51).Select(i => $"t{i}").ToArray() },
            "a 101-character tag" => new Imported(UniqueName("tag"), "Plain.") { Tags = new[] { "ok", new string('t', 101) } },
            "tags not an array" => new Imported(UniqueName("tags"), "Plain.") { Tags = "ok" },
            _ => new Imported(UniqueName("category"), "Plain.") { Category = new string('c', 101) },
        };

        await AssertImportRefusedAsync(refused, field, detail);
    }

    // A lone surrogate was a 500 (System.Text.Json threw reading it as a string); U+0000 was stored, which PostgreSQL refuses.
    [Theory]
    [InlineData("\"a\\ud800b\"", "holds text that is not valid UTF-16")]
    [InlineData("\"a\\u0000b\"", "holds the character U+0000")]
    public async Task Merge_TextTheApiRefuses_Returns400NamingTheField_AndStoresNothing(string categoryJson, string detail) =>
        // Written into the JSON text: a serializer writes a lone surrogate as U+FFFD.
        await AssertImportRefusedAsync(new Imported(UniqueName("text"), "Plain.") { Category = "refused-text" }, "$.prompts[0].category", detail,
            edit: json => json.Replace("\"refused-text\"", categoryJson, StringComparison.Ordinal));

    [Fact]
    public async Task Merge_AnExperimentOrVariantNameTheApiRefuses_Returns400NamingTheField_AndStoresNothing()
    {
        var taken = new Imported(UniqueName("experiment"), "Plain.") { Experiment = ("Tone", "control", new string('v', 100)) };
        var blank = new Imported(UniqueName("experiment"), "Plain.") { Experiment = (" ", "control", "treatment") };
        var tooLong = new Imported(UniqueName("experiment"), "Plain.") { Experiment = ("Tone", "control", new string('v', 101)) };

        var (takenStatus, _) = await PostAsync(_client, "/api/import?merge=true", Document(taken));
        var (blankStatus, blankBody) = await PostAsync(_client, "/api/import?merge=true", Document(blank));
        var (tooLongStatus, tooLongBody) = await PostAsync(_client, "/api/import?merge=true", Document(tooLong));

        Assert.Equal(HttpStatusCode.OK, takenStatus);
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_export_document", "$.experiments[0].name"), (blankStatus, blankBody.Str("code"), blankBody.Str("field")));
        Assert.Contains("name is required and must not be empty", blankBody.Str("detail"), StringComparison.Ordinal);
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_export_document", "$.experiments[0].variants[1].name"),
            (tooLongStatus, tooLongBody.Str("code"), tooLongBody.Str("field")));
        Assert.Contains("variants[1].name is 101 characters long; the limit is 100", tooLongBody.Str("detail"), StringComparison.Ordinal);
        await AssertNotStoredAsync(blank.Name, tooLong.Name);
    }

    [Theory]
    [InlineData("weights summing to 110", "$.experiments[0].variants", "the variants' weights sum to 110; they must sum to 100")]
    [InlineData("a confidence level of 1.5", "$.experiments[0].confidenceLevel", "confidenceLevel must be between 0.5 and 0.9999 (e.g. 0.95), got 1.5")]
    [InlineData("a minimum sample size of 0", "$.experiments[0].minimumSampleSize", "minimumSampleSize must be at least 1, got 0")]
    [InlineData("a guardrail threshold of 11", "$.experiments[0].guardrails[0].threshold", "threshold must be a relative change between 0 and 10 (0.10 is 10%), got 11")]
    [InlineData("an unknown target metric", "$.experiments[0].targetMetric", "must be one of conversionRate")]
    [InlineData("an event's 257-character unit id", "$.metricEvents[0].unitId", "unitId is 257 characters long; the limit is 256")]
    [InlineData("an event's 201-character error", "$.metricEvents[0].error", "error is 201 characters long; the limit is 200")]
    [InlineData("an event's quality score of 2,000,000", "$.metricEvents[0].qualityScore", "qualityScore must be at most 1,000,000, got 2000000")]
    [InlineData("an event's negative cost", "$.metricEvents[0].cost", "cost must be a finite number ≥ 0, got -1")]
    [InlineData("an event's metadata that is not an object", "$.metricEvents[0].metadata", "metadata must be a JSON object, got array")]
    [InlineData("an exposure's blank unit id", "$.exposures[0].unitId", "unitId is blank;")]
    public async Task Merge_AnExperimentOrMetricEventTheApiRefuses_Returns400NamingTheField_AndStoresNothing(string problem, string field, string detail)
    {
        var valid = new Imported(UniqueName("experiment"), "Plain.") { Experiment = ("Tone", "control", "treatment"), Traffic = ("user-1", []) };
        var refused = problem switch
        {
            "weights summing to 110" => valid with { ExperimentFields = new() { ["variants"] = new[]
            {
                new { id = valid.ControlId, name = "control", versionId = valid.VersionId, weight = 60 },
                new { id = "treatment", name = "treatment", versionId = valid.VersionId, weight = 50 },
            } } },
            "a confidence level of 1.5" => valid with { ExperimentFields = new() { ["confidenceLevel"] = 1.5 } },
            "a minimum sample size of 0" => valid with { ExperimentFields = new() { ["minimumSampleSize"] = 0 } },
            "a guardrail threshold of 11" => valid with { ExperimentFields = new() { ["guardrails"] = new[] { new { metric = "avgLatencyMs", threshold = 11.0 } } } },
            "an unknown target metric" => valid with { ExperimentFields = new() { ["targetMetric"] = "revenue" } },
            "an event's 257-character unit id" => valid with { Traffic = ("user-1", new() { ["unitId"] = new string('u', 257) }) },
            "an event's 201-character error" => valid with { Traffic = ("user-1", new() { ["error"] = new string('e', 201) }) },
            "an event's quality score of 2,000,000" => valid with { Traffic = ("user-1", new() { ["qualityScore"] = 2_000_000.0 }) },
            "an event's negative cost" => valid with { Traffic = ("user-1", new() { ["cost"] = -1.0 }) },
            "an event's metadata that is not an object" => valid with { Traffic = ("user-1", new() { ["metadata"] = new[] { 1 } }) },
            _ => valid with { Traffic = (" ", []) },
        };

        await AssertImportRefusedAsync(refused, field, detail);
    }

    [Fact]
    public async Task Merge_AnExperimentStoredBeforeTheFallOf100PercentRule_ImportsAsStored()
    {
        // Experiments created before stop 42 may allow conversion to fall by 100%: a store's own export must import again.
        var stored = new Imported(UniqueName("legacy"), "Plain.")
        {
            Experiment = ("Tone", "control", "treatment"),
            ExperimentFields = new() { ["guardrails"] = new[] { new { metric = "conversionRate", threshold = 1.0 } } },
        };

        var (status, body) = await PostAsync(_client, "/api/import?merge=true", Document(stored));

        Assert.True(status == HttpStatusCode.OK, body?.ToJsonString());
        var (_, experiment) = await GetAsync(_client, $"/api/experiments/{stored.ExperimentId}");
        Assert.Equal(1.0, experiment!["guardrails"]![0]!["threshold"]!.GetValue<double>());
        // Creating one is refused: ExperimentsApiTests' "fall-of-all" case.
    }

    [Fact]
    public async Task Merge_ADocumentExportedWithARunningExperimentExposuresAndEvents_ImportsIntoAnotherServer()
    {
        var (name, versions) = await Experiments.CreatePromptWithChallengersAsync(_client);
        var request = JsonNode.Parse(JsonSerializer.Serialize(Experiments.ThreeWay(name, versions)))!.AsObject();
        request["guardrails"] = JsonNode.Parse("""[{"metric": "avgLatencyMs", "threshold": 2}, {"metric": "avgQualityScore", "threshold": 0.5}]""");
        var experiment = await Experiments.CreateAsync(_client, request);
        var id = experiment.Str("id");
        await Experiments.MoveAsync(_client, id, "start");
        var events = new List<object>();
        for (var unit = 0; unit < 20; unit++)
        {
            var unitId = $"{id}-u{unit}";
            var (_, rendered) = await PostAsync(_client, $"/api/prompts/{name}/render", new { variables = new { company_name = "Acme" }, unitId });
            events.Add(new
            {
                id = $"{unitId}-event", versionId = rendered.Str("versionId"), experimentId = id, variantId = rendered.Str("variantId"), unitId,
                latencyMs = 100 + unit, inputTokens = 10, outputTokens = 20, cost = 0.002, qualityScore = 4, userFeedback = 1, converted = unit % 3 == 0,
                error = unit % 5 == 0 ? "timeout" : null, metadata = new { region = "eu" },
            });
        }
        await Experiments.RecordAsync(_client, events);
        var exported = await _client.GetStringAsync(new Uri("/api/export", UriKind.Relative), TestContext.Current.CancellationToken);
        await using var other = await RunningServer.StartAsync(TestContext.Current.CancellationToken);
        using var otherClient = other.CreateClient();

        var (status, report) = await PostAsync(otherClient, "/api/import?merge=true", JsonNode.Parse(exported));
        var (found, imported) = await GetAsync(otherClient, $"/api/experiments/{id}");

        Assert.True(status == HttpStatusCode.OK, report?.ToJsonString());
        Assert.True(found == HttpStatusCode.OK, imported?.ToJsonString());
        Assert.Equal(("running", 2), (imported.Str("status"), imported!["guardrails"]!.AsArray().Count));
        Assert.True(report!["counts"]!["metricEvents"]!.GetValue<int>() >= 20, report.ToJsonString());
        Assert.True(report["counts"]!["exposures"]!.GetValue<int>() >= 20, report.ToJsonString());
        // The experiment's statistics came too, so each of their variants was checked against the experiment's.
        foreach (var section in new[] { "exposureCounts", "unitSums", "variantUnitStats" })
            Assert.True(report["counts"]![section]!.GetValue<int>() > 0, section + ": " + report.ToJsonString());
    }

    [Fact]
    public async Task Merge_AKeyNamedAsPromptVaultsOwnActor_Returns400NamingTheField_AndStoresNothing()
    {
        var reserved = new Imported(UniqueName("keyed"), "Plain.") { KeyName = "promptvault" };

        await AssertImportRefusedAsync(reserved, "$.apiKeys[0].name", "name 'promptvault' is reserved for PromptVault's own changes");
    }

    [Theory]
    [InlineData("an unparsable template", "$.versions[0].content", "content is not a valid template")]
    [InlineData("a variable of no type", "$.versions[0].variables", "must be an array of variables")]
    [InlineData("a default its pattern refuses", "$.versions[0].variables[0].defaultValue", "^[0-9]+$")]
    [InlineData("a temperature over 2", "$.versions[0].metadata.temperature", "metadata.temperature must be between 0 and 2, not 3")]
    [InlineData("a test case of an undeclared variable", "$.versionTests[0].tests[0].variables", "tests[0] ('greets')")]
    public async Task Merge_AVersionOrTestCaseTheApiRefuses_Returns400NamingTheField_AndStoresNothing(string problem, string field, string detail)
    {
        var name = UniqueName("version");
        var refused = problem switch
        {
            "an unparsable template" => new Imported(name, "Hello {{#if}}"),
            "a variable of no type" => new Imported(name, "Hello {{topic}}") { VariableList = new[] { new { name = "topic", type = "strng" } } },
            "a default its pattern refuses" => new Imported(name, "Code {{code}}")
            {
                VariableList = new[] { new { name = "code", type = "string", required = false, defaultValue = "abc", validation = "^[0-9]+$" } },
            },
            "a temperature over 2" => new Imported(name, "Plain.") { Metadata = new { temperature = 3 } },
            _ => new Imported(name, "Hello {{topic}}", "topic")
            {
                Tests = new[] { new { name = "greets", variables = new { nope = "x" }, expect = new[] { new { type = "contains", value = "Hello" } } } },
            },
        };

        await AssertImportRefusedAsync(refused, field, detail);
    }

    [Theory]
    [InlineData("a declared pattern dropped", "holds the declared variable 'code'")]
    [InlineData("a variable added without includes", "holds 'extra', which the version does not declare and, including nothing, cannot be given")]
    public async Task Merge_VariablesThatAreNotTheContractItsIncludesGive_Returns400NamingThem_AndStoresNothing(string problem, string detail)
    {
        var code = new { name = "code", type = "string", required = true, description = "", validation = "^[0-9]+$" };
        var policy = new { name = "policy", type = "string", required = true, description = "", validation = (string?)null };
        var name = UniqueName("contract");
        var refused = problem switch
        {
            "a declared pattern dropped" => new Imported(name, "Code {{code}}")
            {
                DeclaredList = new[] { code }, VariableList = new[] { code with { validation = "^.*$" } },
            },
            _ => new Imported(name, "Code {{code}}")
            {
                DeclaredList = new[] { code }, VariableList = new object[] { code, policy with { name = "extra" } },
            },
        };

        await AssertImportRefusedAsync(refused, "$.versions[0].variables", detail);
    }

    [Fact]
    public async Task Merge_APinnedIncluderSavedWhenIncludesJoinedContractsOtherwise_ImportsWithTheContractItWasSavedWith()
    {
        // Before 0c8763d an includer that declared an included prompt's required variable optional kept it optional; a save
        // now makes it required. Its export must import as it was saved, so the saved contract is not recomputed.
        var guard = await StoredGuardAsync("Follow {{policy}}.");
        var optional = new { name = "policy", type = "string", required = false, description = "", validation = (string?)null };
        var saved = new Imported(UniqueName("older"), $"Hi. {{{{> {guard}@1.0.0}}}}") { DeclaredList = new[] { optional }, VariableList = new[] { optional } };

        var (status, body) = await PostAsync(_client, "/api/import?merge=true", Document(saved));

        Assert.True(status == HttpStatusCode.OK, body?.ToJsonString());
        var (_, version) = await GetAsync(_client, $"/api/prompts/{saved.Name}/versions/1.0.0");
        Assert.False(version!["variables"]![0]!["required"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Merge_AVersionOfNoPromptInTheDocument_Returns400InvalidReferenceNamingItsPromptId_AndStoresNothing()
    {
        // Its empty content would be refused under a text prompt: the missing prompt is what is wrong.
        var orphan = new Imported(UniqueName("orphan"), "") { VersionPromptId = "nosuchprompt" };

        await AssertImportRefusedAsync(orphan, "$.versions[0].promptId", "refers to a prompt that is not in the document (no id 'nosuchprompt' in $.prompts)",
            "import_invalid_reference");
    }

    [Fact]
    public async Task Merge_AnExportedIncluderWhoseIncludedLabelMovedSince_ImportsWithTheContractItWasSavedWith()
    {
        var guard = await StoredGuardAsync("Follow {{policy}}.");
        Assert.Equal(HttpStatusCode.OK, (await PutAsync(_client, $"/api/prompts/{guard}/labels/production", new { version = "1.0.0" })).Status);
        var name = UniqueName("includer");
        // Saved with who as declared, and policy, declared optional without a default, required by the guard it includes.
        var (created, prompt) = await PostAsync(_client, "/api/prompts", new
        {
            name, type = "system", content = $"Hi {{{{who}}}}. {{{{> {guard}}}}} {{{{> {guard}@1.0.0}}}}",
            variables = new[] { new { name = "who", type = "string", required = false, description = "" }, new { name = "policy", type = "string", required = false, description = "" } },
        });
        Assert.True(created == HttpStatusCode.Created, prompt?.ToJsonString());
        var moved = await NewVersionAsync(_client, guard, new
        {
            content = "Answer in a {{tone}} tone.", changeDescription = "tone",
            variables = new[] { new { name = "tone", type = "string", required = true, description = "" } },
        });
        Assert.Equal(HttpStatusCode.OK, (await PutAsync(_client, $"/api/prompts/{guard}/labels/production", new { version = moved.Str("version") })).Status);
        var (_, saved) = await GetAsync(_client, $"/api/prompts/{name}/versions/1.0.0");
        var versionId = saved.Str("id");
        var export = await _client.GetStringAsync("/api/export", TestContext.Current.CancellationToken);
        var copy = name.Replace("includer-", "copy-", StringComparison.Ordinal);
        var document = JsonNode.Parse(export
            .Replace($"\"{name}\"", $"\"{copy}\"", StringComparison.Ordinal)
            .Replace(prompt.Str("id"), Guid.NewGuid().ToString("N"), StringComparison.Ordinal)
            .Replace(versionId, Guid.NewGuid().ToString("N"), StringComparison.Ordinal));

        var (status, body) = await PostAsync(_client, "/api/import?merge=true", document);
        var (_, imported) = await GetAsync(_client, $"/api/prompts/{copy}/versions/1.0.0");

        Assert.True(status == HttpStatusCode.OK, body?.ToJsonString());
        Assert.Equal(saved!["variables"]!.ToJsonString(), imported!["variables"]!.ToJsonString());
        Assert.True(imported["variables"]![1]!["required"]!.GetValue<bool>());
        Assert.Equal(["who", "policy"], imported["variables"]!.AsArray().Select(v => v!["name"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Merge_AnExportedChatPromptWithVariablesMetadataAndTests_ImportsAsItWas()
    {
        var name = UniqueName("chat");
        var (created, prompt) = await PostAsync(_client, "/api/prompts", new
        {
            name, type = "chat",
            messages = new object[]
            {
                new { role = "system", content = "You help {{company}} customers." },
                new { role = "placeholder", content = "history" },
                new { role = "user", content = "{{question}}" },
            },
            variables = new object[]
            {
                new { name = "company", type = "string", required = true, description = "Who", validation = "^[A-Z][a-z]+$" },
                new { name = "question", type = "string", required = false, defaultValue = "Hi" },
                new { name = "history", type = "array", required = false, defaultValue = Array.Empty<object>() },
            },
            metadata = new { model = "gpt-4o-mini", temperature = 0.3, maxTokens = 200 },
            tests = new[] { new { name = "greets", variables = new { company = "Acme" }, expect = new[] { new { type = "contains", value = "Acme" } } } },
        });
        Assert.True(created == HttpStatusCode.Created, prompt?.ToJsonString());
        var versionId = (await GetAsync(_client, $"/api/prompts/{name}/versions/1.0.0")).Body.Str("id");
        var export = await _client.GetStringAsync("/api/export", TestContext.Current.CancellationToken);
        // The same document, but the prompt is new to the server: a new name and new ids.
        var copy = name.Replace("chat-", "copy-", StringComparison.Ordinal);
        var document = System.Text.Json.Nodes.JsonNode.Parse(export
            .Replace(name, copy, StringComparison.Ordinal)
            .Replace(prompt.Str("id"), Guid.NewGuid().ToString("N"), StringComparison.Ordinal)
            .Replace(versionId, Guid.NewGuid().ToString("N"), StringComparison.Ordinal));

        var (status, body) = await PostAsync(_client, "/api/import?merge=true", document);
        var (read, version) = await GetAsync(_client, $"/api/prompts/{copy}/versions/1.0.0");
        var (_, tests) = await GetAsync(_client, $"/api/prompts/{copy}/versions/1.0.0/tests");

        Assert.True(status == HttpStatusCode.OK, body?.ToJsonString());
        Assert.Contains(copy, body!["addedPrompts"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal(HttpStatusCode.OK, read);
        Assert.Equal(3, version!["messages"]!.AsArray().Count);
        Assert.Equal(0.3, version["metadata"]!["temperature"]!.GetValue<double>());
        Assert.Equal("greets", tests!["tests"]![0]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Merge_AServedVersionIncludesAMissingPrompt_Returns422NamingIt_AndStoresNothing()
    {
        var (missing, other) = (UniqueName("nobody"), new Imported(UniqueName("plain"), "Plain."));
        var includer = new Imported(UniqueName("includer"), $"Hello. {{{{> {missing}}}}}");

        var (status, body) = await PostAsync(_client, "/api/import?merge=true", Document(other, includer));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        Assert.Equal("reference_not_found", body.Str("code"));
        Assert.Equal("$.versions[1]", body.Str("field"));
        Assert.Contains($"'{includer.Name}' 1.0.0 (production)", body.Str("detail"), StringComparison.Ordinal);
        Assert.Contains($"no prompt '{missing}'", body.Str("detail"), StringComparison.Ordinal);
        await AssertNotStoredAsync(other.Name, includer.Name);
    }

    [Fact]
    public async Task Merge_AServedVersionPinsAnArchivedStoredVersion_Returns409VersionArchived_AndStoresNothing()
    {
        var included = UniqueName("guard");
        Assert.Equal(HttpStatusCode.Created, (await PostAsync(_client, "/api/prompts", new { name = included, type = "system", content = "Be kind." })).Status);
        await NewVersionAsync(_client, included, new { content = "Be very kind.", changeDescription = "kinder" });
        Assert.Equal(HttpStatusCode.OK, (await PutAsync(_client, $"/api/prompts/{included}/labels/production", new { version = "1.0.1" })).Status);
        var (archived, archive) = await PostAsync(_client, $"/api/prompts/{included}/versions/1.0.0/status", new { status = "archived" });
        Assert.True(archived == HttpStatusCode.OK, archive?.ToJsonString());
        var includer = new Imported(UniqueName("includer"), $"Hello. {{{{> {included}@1.0.0}}}}");

        var (status, body) = await PostAsync(_client, "/api/import?merge=true", Document(includer));

        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal("version_archived", body.Str("code"));
        Assert.Contains($"version 1.0.0 of '{included}' is archived", body.Str("detail"), StringComparison.Ordinal);
        await AssertNotStoredAsync(includer.Name);
    }

    /// <summary>
    /// An import checked includes' names and cycles only, so it stored a serving includer whose saved variables do not join those of
    /// the stored prompt's label it includes (a render of it then fails); a label move is refused for the same (ContractProblem).
    /// </summary>
    [Fact]
    public async Task Merge_AServedVersionWhoseVariablesDoNotJoinAStoredIncludedLabel_Returns409VariableConflict_AndStoresNothing()
    {
        var guard = await StoredGuardAsync("Follow {{policy}}.");
        Assert.Equal(HttpStatusCode.OK, (await PutAsync(_client, $"/api/prompts/{guard}/labels/production", new { version = "1.0.0" })).Status);
        var includer = new Imported(UniqueName("includer"), $"Hello. {{{{> {guard}}}}}")
        {
            VariableList = new[] { new { name = "policy", type = "number", required = true, description = "", validation = (string?)null } },
        };

        var (status, body) = await PostAsync(_client, "/api/import?merge=true", Document(includer));

        Assert.True(status == HttpStatusCode.Conflict, body?.ToJsonString());
        Assert.Equal(("variable_conflict", "$.versions[0]"), (body.Str("code"), body.Str("field")));
        Assert.Contains($"$.versions[0]: '{includer.Name}' 1.0.0 (production) cannot serve: ", body.Str("detail"), StringComparison.Ordinal);
        Assert.Contains($"variable 'policy' is number in this version but string in the included '{guard}' 1.0.0", body.Str("detail"), StringComparison.Ordinal);
        await AssertNotStoredAsync(includer.Name);
    }

    [Fact]
    public async Task Merge_ServedVersionsIncludingEachOther_Returns409ReferenceCycle_AndStoresNothing()
    {
        var (first, second) = (UniqueName("first"), UniqueName("second"));

        var (status, body) = await PostAsync(_client, "/api/import?merge=true",
            Document(new Imported(first, $"One. {{{{> {second}}}}}"), new Imported(second, $"Two. {{{{> {first}}}}}")));

        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal("reference_cycle", body.Str("code"));
        Assert.Contains($"{first} → {second} → {first}", body.Str("detail"), StringComparison.Ordinal);
        await AssertNotStoredAsync(first, second);
    }

    [Fact]
    public async Task Merge_ServedVersionsWithIncludesThatResolve_AreImportedAndRender()
    {
        var stored = await StoredGuardAsync("Follow the policy: {{policy}}.");
        Assert.Equal(HttpStatusCode.OK, (await PutAsync(_client, $"/api/prompts/{stored}/labels/production", new { version = "1.0.0" })).Status);
        var inner = new Imported(UniqueName("inner"), $"Inner. {{{{> {stored}@1.0.0}}}}", "policy");
        var outer = new Imported(UniqueName("outer"), $"Hello. {{{{> {inner.Name}}}}}", "policy");

        var (status, body) = await PostAsync(_client, "/api/import?merge=true", Document(outer, inner));
        var (rendered, render) = await PostAsync(_client, $"/api/prompts/{outer.Name}/render", new { variables = new { policy = "30 days" } });

        Assert.True(status == HttpStatusCode.OK, body?.ToJsonString());
        Assert.True(rendered == HttpStatusCode.OK, render?.ToJsonString());
        Assert.Equal("Hello. Inner. Follow the policy: 30 days.", render.Str("content"));
    }
    [Theory]
    [InlineData("sequence", 0L, "sequence must be between 1 and 2147483647, got 0")]
    [InlineData("sequence", -5L, "sequence must be between 1 and 2147483647, got -5")]
    [InlineData("major", 0L, "major must be between 1 and 2147483647, got 0")]
    [InlineData("minor", -5L, "minor must be between 0 and 2147483647, got -5")]
    [InlineData("patch", 4294967296L, "patch must be between 0 and 2147483647, got 4294967296")]
    public async Task Merge_AVersionNumberTheApiNeverWrites_Returns400NamingIt_AndStoresNothing(string column, long value, string detail) =>
        await AssertImportRefusedAsync(new Imported(UniqueName("numbered"), "Plain.") { VersionFields = new() { [column] = value } },
            $"$.versions[0].{column}", detail);

    [Fact]
    public async Task Merge_TwoVersionsOfAPromptSharingASequence_Returns400NamingTheSecond_AndStoresNothing() =>
        await AssertImportRefusedAsync(new Imported(UniqueName("sequenced"), "Plain."), "$.versions[1]",
            "repeats the promptId", edit: json =>
            {
                var document = JsonNode.Parse(json)!;
                var second = document["versions"]![0]!.DeepClone();
                second["id"] = Guid.NewGuid().ToString("N");
                second["status"] = "draft";
                second["patch"] = 1;
                document["versions"]!.AsArray().Add(second);
                return document.ToJsonString();
            });

    [Theory]
    [InlineData("a number", "$.evaluationRuns[0].run", "run must be an evaluation run")]
    [InlineData("a string", "$.evaluationRuns[0].run", "run must be an evaluation run")]
    [InlineData("true", "$.evaluationRuns[0].run", "run must be an evaluation run")]
    [InlineData("an array", "$.evaluationRuns[0].run", "run must be an evaluation run")]
    [InlineData("an empty object", "$.evaluationRuns[0].run", "run must hold promptName, version and cases")]
    [InlineData("another run's id", "$.evaluationRuns[0].run.id", "run.id must be the row's id")]
    [InlineData("another status", "$.evaluationRuns[0].run.status", "run.status must be the row's status, 'passed'")]
    [InlineData("an empty id", "$.evaluationRuns[0].id", "id must be an id as PromptVault makes them (32 lowercase hex digits), got ''")]
    [InlineData("a blank id", "$.evaluationRuns[0].id", "id must be an id as PromptVault makes them")]
    [InlineData("a 200 KB id", "$.evaluationRuns[0].id", "id must be an id as PromptVault makes them")]
    public async Task Merge_AnEvaluationRunTheServiceNeverWrites_Returns400NamingTheField_AndStoresNothing(string problem, string field, string detail)
    {
        var valid = new Imported(UniqueName("evaluated"), "Plain.");
        object Run(Dictionary<string, object?> fields) => With(new()
        {
            ["id"] = valid.RunId, ["promptName"] = valid.Name, ["version"] = "1.0.0", ["versionId"] = valid.VersionId, ["status"] = "passed",
            ["cases"] = Array.Empty<object>(), ["createdAt"] = At, ["createdBy"] = "alice",
        }, fields);
        var refused = valid with
        {
            RunFields = problem switch
            {
                "a number" => new() { ["run"] = 5 },
                "a string" => new() { ["run"] = "passed" },
                "true" => new() { ["run"] = true },
                "an array" => new() { ["run"] = Array.Empty<object>() },
                "an empty object" => new() { ["run"] = new { } },
                "another run's id" => new() { ["run"] = Run(new() { ["id"] = Guid.NewGuid().ToString("N") }) },
                "another status" => new() { ["run"] = Run(new() { ["status"] = "failed" }) },
                "an empty id" => new() { ["id"] = "" },
                "a blank id" => new() { ["id"] = "   " },
                _ => new() { ["id"] = new string('a', 200_000) },
            },
        };

        await AssertImportRefusedAsync(refused, field, detail);
    }

    [Fact]
    public async Task Merge_ADocumentExportedWithAnEvaluationRun_ImportsIntoAnotherServer_AndTheRunReadsBack()
    {
        var name = await CreateSupportPromptAsync(_client);
        var version = $"/api/prompts/{name}/versions/1.0.0";
        Assert.Equal(HttpStatusCode.OK, (await PutAsync(_client, version + "/tests", new
        {
            tests = new[] { new { name = "names the company", variables = new { company_name = "Acme" }, expect = new[] { new { type = "contains", value = "Acme" } } } },
        })).Status);
        var (_, run) = await PostAsync(_client, version + "/evaluate", null);
        var exported = await _client.GetStringAsync(new Uri("/api/export", UriKind.Relative), TestContext.Current.CancellationToken);
        await using var other = await RunningServer.StartAsync(TestContext.Current.CancellationToken);
        using var otherClient = other.CreateClient();

        var (status, report) = await PostAsync(otherClient, "/api/import?merge=true", JsonNode.Parse(exported));
        var (found, imported) = await GetAsync(otherClient, $"/api/evaluations/{run.Str("id")}");

        Assert.True(status == HttpStatusCode.OK, report?.ToJsonString());
        Assert.True(found == HttpStatusCode.OK, imported?.ToJsonString());
        Assert.Equal((run.Str("status"), name), (imported.Str("status"), imported.Str("promptName")));
    }

    /// <summary>The first of user-1, user-2, ... that the documents' experiments (seed 1, weights 50/50) assign to variant <paramref name="index"/>.</summary>
    private static string UnitAssignedTo(int index) =>
        Enumerable.Range(1, 100).Select(i => $"user-{i}").First(u => Assignment.VariantIndex(1, u, Assignment.BucketEnds([50m, 50m])) == index);

    [Theory]
    [InlineData("a winner of no variant", "invalid_export_document", "$.experiments[0].winner", "winner 'nosuch' is not the id of a variant of the experiment")]
    [InlineData("an empty winner", "invalid_export_document", "$.experiments[0].winner", "winner '' is not the id of a variant of the experiment")]
    [InlineData("an exposure of no variant", "import_invalid_reference", "$.exposures[0].variantId", "$.exposures[0].variantId 'nosuch' is not a variant of experiment")]
    [InlineData("an exposure of an empty variant", "import_invalid_reference", "$.exposures[0].variantId", "$.exposures[0].variantId '' is not a variant of experiment")]
    [InlineData("an exposure of the variant its unit is not assigned", "invalid_export_document", "$.exposures[0].variantId", "but the experiment assigns unit")]
    [InlineData("an event of no variant", "import_invalid_reference", "$.metricEvents[0].variantId", "$.metricEvents[0].variantId 'nosuch' is not a variant of experiment")]
    [InlineData("an event of another version than its variant's", "invalid_export_document", "$.metricEvents[0].versionId", "is not the version of variant 'control'")]
    public async Task Merge_AVariantReferenceTheApiNeverWrites_Returns400NamingIt_AndStoresNothing(string problem, string code, string field, string detail)
    {
        var control = UnitAssignedTo(0);
        var valid = new Imported(UniqueName("variant"), "Plain.") { Experiment = ("Tone", "control", "treatment"), Traffic = (control, []) };
        var refused = problem switch
        {
            "a winner of no variant" => valid with { ExperimentFields = new() { ["winner"] = "nosuch" } },
            "an empty winner" => valid with { ExperimentFields = new() { ["winner"] = "" } },
            "an exposure of no variant" => valid with { TrafficVariantId = "nosuch" },
            "an exposure of an empty variant" => valid with { TrafficVariantId = "", Traffic = (control, new() { ["variantId"] = valid.ControlId }) },
            "an exposure of the variant its unit is not assigned" => valid with { Traffic = (UnitAssignedTo(1), []) },
            "an event of no variant" => valid with { Traffic = (control, new() { ["variantId"] = "nosuch" }) },
            _ => valid with { Traffic = (control, new() { ["versionId"] = Guid.NewGuid().ToString("N") }) },
        };

        await AssertImportRefusedAsync(refused, field, detail, code);
    }

    [Theory]
    [InlineData("exposureCounts", """{"units": 1}""")]
    [InlineData("unitSums", """{"unitId": "user-1", "sums": "SUMS"}""")]
    [InlineData("variantUnitStats", """{"stats": "STATS"}""")]
    [InlineData("sequentialHistory", """{"metric": "conversionRate", "at": "2026-12-01T06:00:00Z", "estimate": 0.1, "low": 0, "high": 0.2}""")]
    public async Task Merge_AStatisticsRowOfNoVariantOfItsExperiment_Returns400NamingIt_AndStoresNothing(string section, string fields)
    {
        var valid = new Imported(UniqueName("statistics"), "Plain.") { Experiment = ("Tone", "control", "treatment") };

        await AssertImportRefusedAsync(valid, $"$.{section}[0].variantId", $"$.{section}[0].variantId 'nosuch' is not a variant of experiment", "import_invalid_reference",
            edit: json =>
            {
                var document = JsonNode.Parse(json)!;
                var row = JsonNode.Parse(fields.Replace("\"SUMS\"", $"\"{UnitSumsBlob}\"").Replace("\"STATS\"", $"\"{StatsBlob}\""))!.AsObject();
                row["experimentId"] = valid.ExperimentId;
                row["variantId"] = "nosuch";
                document[section] = new JsonArray(row);
                return document.ToJsonString();
            });
    }

    /// <summary>Stores only keep, and exports only ever held, a version's rollups with no variant (variant rollups went before export
    /// came); other rows were imported, kept unread or read as the version's, twice.</summary>
    [Theory]
    [InlineData("variant", "version", "", "invalid_export_document", "$.metricRollups[0].scope", "$.metricRollups[0].scope must be one of version")]
    [InlineData("experiment", "experiment", "control", "invalid_export_document", "$.metricRollups[0].scope", "$.metricRollups[0].scope must be one of version")]
    [InlineData("version", "version", "control", "invalid_export_document", "$.metricRollups[0].variantId", "variantId must be empty, got '")]
    [InlineData("version", "none", "", "import_invalid_reference", "$.metricRollups[0].scopeId", "refers to a version that is not in the document (no id 'nosuch'")]
    public async Task Merge_AMetricRollupTheStoreNeverWrites_Returns400NamingTheRow_AndStoresNothing(string scope, string scopeOf, string variant, string code, string field,
        string detail)
    {
        var valid = new Imported(UniqueName("rollup"), "Plain.") { Experiment = ("Tone", "control", "treatment") };

        await AssertImportRefusedAsync(valid, field, detail, code, edit: json =>
        {
            var document = JsonNode.Parse(json)!;
            document["metricRollups"] = new JsonArray(new JsonObject
            {
                ["scope"] = scope,
                ["scopeId"] = scopeOf switch { "version" => valid.VersionId, "experiment" => valid.ExperimentId, _ => "nosuch" },
                ["hour"] = -1,
                ["variantId"] = variant == "control" ? valid.ControlId : variant,
                ["aggregate"] = EmptyAggregate,
            });
            return document.ToJsonString();
        });
    }

    private static readonly string EmptyAggregate = Convert.ToBase64String(MetricAggregateCodec.Encode(new MetricAggregate()));
    private static readonly string UnitSumsBlob = Convert.ToBase64String(UnitStatisticsCodec.Encode(new UnitSums(3, 1, true, new(3, 120), default, default, default)));
    private static readonly string StatsBlob = Convert.ToBase64String(UnitStatisticsCodec.Encode(new VariantUnitStats()));

    /// <summary>A blob in a test's data: one the codecs write (<c>AGGREGATE</c>, <c>SUMS</c>, <c>STATS</c>), or one with its last byte changed (<c>~AGGREGATE</c>).</summary>
    private static string Blob(string value)
    {
        var blob = value.TrimStart('~') switch { "AGGREGATE" => EmptyAggregate, "SUMS" => UnitSumsBlob, "STATS" => StatsBlob, _ => null };
        if (blob is null || !value.StartsWith('~')) return blob ?? value;
        var bytes = Convert.FromBase64String(blob);
        bytes[^1] ^= 1;
        return Convert.ToBase64String(bytes);
    }

    /// <summary>The blobs were stored as given: a damaged one was imported, and the version's metrics or the experiment's results
    /// then failed to read it (500). Each is decoded on import by the code that reads it.</summary>
    [Theory]
    [InlineData("metricRollups", "aggregate", "AA==", "is not a blob PromptVault reads: The stored metric aggregate is corrupt: its format is 0")]
    [InlineData("metricRollups", "aggregate", "", "is not a blob PromptVault reads: The stored metric aggregate is corrupt: it is empty")]
    [InlineData("metricRollups", "aggregate", "~AGGREGATE", "The stored metric aggregate is corrupt: its checksum does not match its content")]
    [InlineData("metricRollups", "aggregate", "SUMS", "The stored metric aggregate is corrupt")]
    [InlineData("unitSums", "sums", "~SUMS", "is not a blob PromptVault reads: The stored unit sums are corrupt: its checksum does not match")]
    [InlineData("unitSums", "sums", "AGGREGATE", "The stored unit sums are corrupt: its format is 2")]
    [InlineData("variantUnitStats", "stats", "SUMS", "The stored variant unit statistics are corrupt")]
    [InlineData("variantUnitStats", "stats", "~STATS", "The stored variant unit statistics are corrupt: its checksum does not match")]
    [InlineData("metricRollups", "hour", "3601", "hour must be the start of an hour in Unix seconds (a multiple of 3600 from -62135596800 to 253402297200) or -1 for all time, got 3601")]
    [InlineData("metricRollups", "hour", "-2", "got -2")]
    [InlineData("metricRollups", "hour", "253402300800", "got 253402300800")]
    [InlineData("metricRollups", "hour", "-62135600400", "got -62135600400")]
    public async Task Merge_AStatisticsBlobOrRollupHourTheStoreCannotRead_Returns400NamingIt_AndStoresNothing(string section, string field, string value, string detail)
    {
        var valid = new Imported(UniqueName("blob"), "Plain.") { Experiment = ("Tone", "control", "treatment") };

        await AssertImportRefusedAsync(valid, $"$.{section}[0].{field}", detail, edit: json =>
        {
            var document = JsonNode.Parse(json)!;
            var row = section switch
            {
                "metricRollups" => new JsonObject { ["scope"] = "version", ["scopeId"] = valid.VersionId, ["hour"] = -1, ["variantId"] = "", ["aggregate"] = EmptyAggregate },
                "unitSums" => new JsonObject { ["experimentId"] = valid.ExperimentId, ["unitId"] = "user-1", ["variantId"] = valid.ControlId, ["sums"] = "" },
                _ => new JsonObject { ["experimentId"] = valid.ExperimentId, ["variantId"] = valid.ControlId, ["stats"] = "" },
            };
            row[field] = field == "hour" ? long.Parse(value, CultureInfo.InvariantCulture) : Blob(value);
            document[section] = new JsonArray(row);
            return document.ToJsonString();
        });
    }

    /// <summary>What the store writes is taken: an hour's start at either end of the times a rollup can hold, all time, and blobs as the codecs write them.</summary>
    [Theory]
    [InlineData(-1L)]
    [InlineData(1796104800L)]
    [InlineData(-62135596800L)]
    [InlineData(253402297200L)]
    public async Task Merge_RollupsAndStatisticsAsTheStoreWritesThem_AreImported(long hour)
    {
        var valid = new Imported(UniqueName("blobs"), "Plain.") { Experiment = ("Tone", "control", "treatment") };
        var document = JsonNode.Parse(JsonSerializer.Serialize(Document(valid), PromptVaultJson.Options))!;
        document["metricRollups"] = new JsonArray(new JsonObject { ["scope"] = "version", ["scopeId"] = valid.VersionId, ["hour"] = hour, ["variantId"] = "", ["aggregate"] = EmptyAggregate });
        document["unitSums"] = new JsonArray(new JsonObject { ["experimentId"] = valid.ExperimentId, ["unitId"] = "user-1", ["variantId"] = valid.ControlId,
            ["sums"] = UnitSumsBlob });
        document["variantUnitStats"] = new JsonArray(new JsonObject { ["experimentId"] = valid.ExperimentId, ["variantId"] = valid.ControlId,
            ["stats"] = StatsBlob });

        var (status, body) = await PostAsync(_client, "/api/import?merge=true", document.ToJsonString());

        Assert.True(status == HttpStatusCode.OK, body?.ToJsonString());
        Assert.Equal(1, body!["counts"]!["metricRollups"]!.GetValue<int>());
    }

    [Fact]
    public async Task Merge_TwoVariantsOfAnExperimentSharingAnId_Returns400NamingTheSecond_AndStoresNothing()
    {
        var valid = new Imported(UniqueName("twins"), "Plain.") { Experiment = ("Tone", "control", "treatment") };
        var twins = valid with { ExperimentFields = new() { ["variants"] = new[]
        {
            new { id = valid.ControlId, name = "control", versionId = valid.VersionId, weight = 50 },
            new { id = valid.ControlId, name = "treatment", versionId = valid.VersionId, weight = 50 },
        } } };

        await AssertImportRefusedAsync(twins, "$.experiments[0].variants[1].id", $"variants[1].id repeats the id '{valid.ControlId}' of variants[0]");
    }

    [Theory]
    [InlineData("prompts")]
    [InlineData("versions")]
    [InlineData("experiments")]
    public async Task Merge_ARowWithTheIdOfAStoredRowOfAnotherPrompt_Returns409NamingItsDocumentPath_AndChangesNothing(string section)
    {
        var (skipped, stored) = (new Imported(UniqueName("skipped"), "Skipped.") { Experiment = ("Tone", "control", "treatment") },
            new Imported(UniqueName("stored"), "Stored.") { Experiment = ("Tone", "control", "treatment") });
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(_client, "/api/import?merge=true", Document(skipped, stored))).Status);
        var added = new Imported(UniqueName("added"), "Added.") { Experiment = ("Tone", "control", "treatment") };
        var (id, storedId) = section switch
        {
            "prompts" => (added.Id, stored.Id),
            "versions" => (added.VersionId, stored.VersionId),
            _ => (added.ExperimentId, stored.ExperimentId),
        };
        // The skipped prompt comes first, so the row's index in what the merge writes is not its index in the document.
        var document = JsonSerializer.Serialize(Document(skipped, added), PromptVaultJson.Options).Replace(id, storedId, StringComparison.Ordinal);
        var before = await ExportWithoutTimeAsync();

        var (status, body) = await PostAsync(_client, "/api/import?merge=true", JsonNode.Parse(document));

        Assert.True(status == HttpStatusCode.Conflict, body?.ToJsonString());
        Assert.Equal(("import_conflict", $"$.{section}[1].id"), (body.Str("code"), body.Str("field")));
        Assert.Contains($"'{storedId}' is the id of a row of {section} the registry already holds", body.Str("detail"), StringComparison.Ordinal);
        Assert.Equal(before, await ExportWithoutTimeAsync());
    }

    private async Task<string> ExportWithoutTimeAsync()
    {
        var export = JsonNode.Parse(await _client.GetStringAsync(new Uri("/api/export", UriKind.Relative), TestContext.Current.CancellationToken))!.AsObject();
        export.Remove("exportedAt");
        return export.ToJsonString();
    }

    [Fact]
    public async Task Merge_ACompletedExperimentWithItsWinnerAndAssignedTraffic_Imports()
    {
        var treatment = UnitAssignedTo(1);
        var valid = new Imported(UniqueName("variant"), "Plain.") { Experiment = ("Tone", "control", "treatment"), Traffic = (treatment, []) };
        var completed = valid with { TrafficVariantId = valid.TreatmentId, ExperimentFields = new() { ["winner"] = valid.TreatmentId } };

        var (status, body) = await PostAsync(_client, "/api/import?merge=true", Document(completed));

        Assert.True(status == HttpStatusCode.OK, body?.ToJsonString());
    }
}
