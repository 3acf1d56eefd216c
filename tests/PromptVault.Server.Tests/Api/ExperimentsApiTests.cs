using Microsoft.Data.Sqlite;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using PromptVault.Core.Auth;
using static PromptVault.Server.Tests.ApiCalls;
using static PromptVault.Server.Tests.Experiments;

namespace PromptVault.Server.Tests.Api;

public sealed class ExperimentsApiTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private readonly HttpClient _client = fixture.Server.CreateClient();

    [Fact]
    public async Task Create_ReturnsDraftWithVariantIdsAndDefaults()
    {
        var (name, versions) = await CreatePromptWithChallengersAsync(_client);

        var experiment = await CreateAsync(_client, ThreeWay(name, versions));

        Assert.Equal("draft", experiment.Str("status"));
        Assert.Null(experiment["winner"]);
        Assert.Equal(name, experiment.Str("prompt"));
        var variants = experiment["variants"]!.AsArray();
        Assert.Equal(["control", "casual", "structured"], variants.Select(v => v.Str("name")));
        Assert.All(variants, v => Assert.Equal(32, v.Str("id").Length));
        Assert.Equal(["1.0.0", "1.0.1", "1.0.2"], variants.Select(v => v.Str("version")));
        Assert.True(variants[0]!["isControl"]!.GetValue<bool>());
        Assert.Equal(0.95, experiment["confidenceLevel"]!.GetValue<double>());
        Assert.Equal(0.10, experiment["minimumDetectableEffect"]!.GetValue<double>());
        Assert.Equal(0.8, experiment["power"]!.GetValue<double>());
        Assert.Equal(16, experiment.Str("hashSeed").Length);
        Assert.Equal(1, experiment["assignmentVersion"]!.GetValue<int>());

        var (_, list) = await GetAsync(_client, $"/api/experiments?prompt={name}");
        Assert.Equal(experiment.Str("id"), list!["experiments"]![0].Str("id"));
    }

    [Theory]
    [InlineData("weights", "variants")]
    [InlineData("one-variant", "variants")]
    [InlineData("foreign-version", "variants[1].versionId")]
    [InlineData("bad-weight", "variants[2].weight")]
    [InlineData("duplicate-name", "variants[1].name")]
    [InlineData("confidence", "confidenceLevel")]
    [InlineData("guardrail", "guardrails[0].threshold")]
    [InlineData("fall-of-all", "guardrails[0].threshold")]
    [InlineData("metric", "targetMetric")]
    public async Task Create_BadInput_Returns400NamingTheField(string problem, string field)
    {
        var (name, versions) = await CreatePromptWithChallengersAsync(_client);
        var other = await CreateSupportPromptAsync(_client);
        var (_, otherVersion) = await GetAsync(_client, $"/api/prompts/{other}/versions/1.0.0");
        var variants = new JsonArray(
            new JsonObject { ["name"] = "control", ["versionId"] = versions[0], ["weight"] = 50 },
            new JsonObject { ["name"] = "b", ["versionId"] = versions[1], ["weight"] = 25 },
            new JsonObject { ["name"] = "c", ["versionId"] = versions[2], ["weight"] = 25 });
        var body = new JsonObject { ["name"] = "bad", ["prompt"] = name, ["variants"] = variants, ["targetMetric"] = "conversionRate" };
        switch (problem)
        {
            case "weights": variants[2]!["weight"] = 20; break;
            case "one-variant": body["variants"] = new JsonArray(new JsonObject { ["name"] = "only", ["versionId"] = versions[0], ["weight"] = 100 }); break;
            case "foreign-version": variants[1]!["versionId"] = otherVersion.Str("id"); break;
            case "bad-weight": variants[2]!["weight"] = -25; break;
            case "duplicate-name": variants[1]!["name"] = "Control"; break;
            case "confidence": body["confidenceLevel"] = 1.5; break;
            case "guardrail": body["guardrails"] = new JsonArray(new JsonObject { ["metric"] = "errorRate", ["threshold"] = -1 }); break;
            case "fall-of-all": body["guardrails"] = new JsonArray(new JsonObject { ["metric"] = "conversionRate", ["threshold"] = 1 }); break;
            case "metric": body["targetMetric"] = "clicks"; break;
        }

        var (status, problemDocument) = await PostAsync(_client, "/api/experiments", body.ToJsonString());

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(field, problemDocument.Str("field"));
        var (_, list) = await GetAsync(_client, $"/api/experiments?prompt={name}");
        Assert.Empty(list!["experiments"]!.AsArray());
    }

    [Fact]
    public async Task Create_GuardrailAllowingAFallOfAll_IsRefusedNamingTheRange_ARiseOfAllIsNot()
    {
        var (name, versions) = await CreatePromptWithChallengersAsync(_client);
        JsonObject With(string metric, double threshold)
        {
            var body = JsonNode.Parse(JsonSerializer.Serialize(ThreeWay(name, versions)))!.AsObject();
            body["guardrails"] = new JsonArray(new JsonObject { ["metric"] = metric, ["threshold"] = threshold });
            return body;
        }

        var (status, problem) = await PostAsync(_client, "/api/experiments", With("avgQualityScore", 1).ToJsonString());

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("guardrails[0].threshold", problem.Str("field"));
        Assert.Contains("must be at least 0 and below 1", problem.Str("detail"));
        await CreateAsync(_client, With("avgQualityScore", 0.99));
        await CreateAsync(_client, With("errorRate", 1));
    }

    [Fact]
    public async Task Create_UnknownPrompt_Returns404()
    {
        var (status, body) = await PostAsync(_client, "/api/experiments", new
        {
            name = "x", prompt = "no-such-prompt",
            variants = new object[] { new { name = "a", versionId = "1.0.0", weight = 50 }, new { name = "b", versionId = "1.0.0", weight = 50 } },
        });

        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("prompt_not_found", body.Str("code"));
    }

    [Fact]
    public async Task Lifecycle_FollowsTheStatusRules_AndIsAudited()
    {
        var (name, versions) = await CreatePromptWithChallengersAsync(_client);
        var id = (await CreateAsync(_client, ThreeWay(name, versions))).Str("id");

        Assert.Equal("running", (await MoveAsync(_client, id, "start")).Str("status"));
        var second = await CreateAsync(_client, ThreeWay(name, versions));
        var (conflict, problem) = await PostAsync(_client, $"/api/experiments/{second.Str("id")}/start", null);
        Assert.Equal(HttpStatusCode.Conflict, conflict);
        Assert.Equal("experiment_running", problem.Str("code"));

        Assert.Equal("paused", (await MoveAsync(_client, id, "pause")).Str("status"));
        Assert.Equal("running", (await MoveAsync(_client, id, "start")).Str("status"));
        var completed = await MoveAsync(_client, id, "complete");
        Assert.Equal("completed", completed.Str("status"));
        Assert.Null(completed["winner"]);

        var (again, finalProblem) = await PostAsync(_client, $"/api/experiments/{id}/start", null);
        Assert.Equal(HttpStatusCode.Conflict, again);
        Assert.Equal("invalid_experiment_transition", finalProblem.Str("code"));
        Assert.Equal("cancelled", (await MoveAsync(_client, second.Str("id"), "cancel")).Str("status"));

        var (_, audit) = await GetAsync(_client, $"/api/audit?prompt={name}");
        var actions = audit!["entries"]!.AsArray().Select(e => e.Str("action")).ToList();
        Assert.Equal(2, actions.Count(a => a == "experiment.created"));
        Assert.Equal(2, actions.Count(a => a == "experiment.started"));
        Assert.Contains("experiment.paused", actions);
        Assert.Contains("experiment.completed", actions);
        Assert.Contains("experiment.cancelled", actions);
    }

    /// <summary>An A/A test (every variant serves the same version) checks the setup (docs/lifecycle.md): it is created, runs
    /// and is analysed like any other, each unit staying with its variant.</summary>
    [Fact]
    public async Task AnAATest_OfOneVersion_IsCreatedAndAnalysed()
    {
        var (name, versions) = await CreatePromptWithChallengersAsync(_client);
        var experiment = await CreateAsync(_client, new
        {
            name = UniqueName("aa"), prompt = name,
            variants = new object[] { new { name = "a1", versionId = versions[0], weight = 50 }, new { name = "a2", versionId = versions[0], weight = 50 } },
        });
        var id = experiment.Str("id");
        await MoveAsync(_client, id, "start");
        var events = new List<object>();
        for (var unit = 0; unit < 40; unit++)
        {
            var (_, rendered) = await PostAsync(_client, $"/api/prompts/{name}/render", new { variables = new { company_name = "Acme" }, unitId = $"aa-{unit}" });
            Assert.Equal(versions[0], rendered.Str("versionId"));
            events.Add(new { versionId = versions[0], experimentId = id, variantId = rendered.Str("variantId"), unitId = $"aa-{unit}", converted = unit % 4 == 0 });
        }
        await RecordAsync(_client, events);

        var (status, results) = await GetAsync(_client, $"/api/experiments/{id}/results");

        Assert.Equal(HttpStatusCode.OK, status);
        var variants = results!["variants"]!.AsArray();
        Assert.Equal(["a1", "a2"], variants.Select(v => v.Str("name")));
        Assert.Equal(40, variants.Sum(v => v!["exposures"]!.GetValue<long>()));
        Assert.All(variants, v => Assert.True(v!["exposures"]!.GetValue<long>() > 0));
        Assert.Equal(0, variants.Sum(v => v!["unattributedEvents"]!.GetValue<long>()));
        Assert.NotNull(variants[1]!["metrics"]!["conversionRate"]!["difference"]);
        Assert.Null(results["winner"]);
        Assert.False(results["srm"]!["mismatch"]!.GetValue<bool>());
    }

    /// <summary>An A/A's winner can only be a false positive: one that would promote it is refused, naming the field, and nothing is stored.</summary>
    [Fact]
    public async Task AnAATest_WithPromoteWinner_IsRefusedAndNothingIsStored()
    {
        var (name, versions) = await CreatePromptWithChallengersAsync(_client);

        var (status, problem) = await PostAsync(_client, "/api/experiments", new
        {
            name = UniqueName("aa"), prompt = name, promoteWinner = true,
            variants = new object[] { new { name = "a1", versionId = versions[0], weight = 50 }, new { name = "a2", versionId = versions[0], weight = 50 } },
        });

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_experiment", problem.Str("code"));
        Assert.Equal("promoteWinner", problem.Str("field"));
        Assert.Equal("promoteWinner is true, but every variant serves version 1.0.0: an A/A test, whose winner can only be a false positive, "
            + "so it has nothing to promote; set promoteWinner to false.", problem.Str("detail"));
        var (_, listed) = await GetAsync(_client, $"/api/experiments?prompt={name}");
        Assert.Empty(listed!["experiments"]!.AsArray());
    }

    /// <summary>Pausing a paused experiment (or completing a completed one) answered 409, while a repeated version or label move is a 200.</summary>
    [Fact]
    public async Task RepeatingAMove_Returns200_AndChangesNothing_AnInvalidMoveStays409()
    {
        var (name, versions) = await CreatePromptWithChallengersAsync(_client);
        var id = (await CreateAsync(_client, ThreeWay(name, versions))).Str("id");
        await MoveAsync(_client, id, "start");
        var paused = await MoveAsync(_client, id, "pause");
        var (_, auditBefore) = await GetAsync(_client, $"/api/audit?prompt={name}");

        var again = await MoveAsync(_client, id, "pause");

        Assert.Equal("paused", again.Str("status"));
        Assert.Equal(paused.Str("updatedAt"), again.Str("updatedAt"));
        var (_, auditAfter) = await GetAsync(_client, $"/api/audit?prompt={name}");
        Assert.Equal(auditBefore!["entries"]!.AsArray().Count, auditAfter!["entries"]!.AsArray().Count);

        var completed = await MoveAsync(_client, id, "complete");
        Assert.Equal(completed.Str("updatedAt"), (await MoveAsync(_client, id, "complete")).Str("updatedAt"));
        var (invalid, problem) = await PostAsync(_client, $"/api/experiments/{id}/pause", null);
        Assert.Equal(HttpStatusCode.Conflict, invalid);
        Assert.Equal("invalid_experiment_transition", problem.Str("code"));
    }

    /// <summary>A lifecycle move that keeps losing its write race answers 409 concurrent_modification, as a registry write does, not a 500.</summary>
    [Fact]
    public async Task Start_LosingEveryWriteRace_Returns409ConcurrentModification_AndChangesNothing()
    {
        var (name, versions) = await CreatePromptWithChallengersAsync(_client);
        var id = (await CreateAsync(_client, ThreeWay(name, versions))).Str("id");
        await using var connection = new SqliteConnection($"Data Source={fixture.Server.DatabasePath}");
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using (var trigger = connection.CreateCommand())
        {
            // Every write of this experiment's status finds it changed: the update touches no row, as when another writer got there first.
            trigger.CommandText = $"""
                CREATE TRIGGER "lose_{id}" BEFORE UPDATE OF status ON experiments WHEN OLD.id = '{id}'
                BEGIN SELECT RAISE(IGNORE); END
                """;
            await trigger.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }

        var (status, problem) = await PostAsync(_client, $"/api/experiments/{id}/start", null);

        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal("concurrent_modification", problem.Str("code"));
        var (_, experiment) = await GetAsync(_client, $"/api/experiments/{id}");
        Assert.Equal("draft", experiment.Str("status"));
    }

    [Fact]
    public async Task Render_WithUnitId_ServesTheAssignedVariant_AndCountsEachUnitOnce()
    {
        var (name, versions) = await CreatePromptWithChallengersAsync(_client);
        var experiment = await CreateAsync(_client, ThreeWay(name, versions));
        var id = experiment.Str("id");
        var variables = new { company_name = "Acme" };

        var (_, beforeStart) = await PostAsync(_client, $"/api/prompts/{name}/render", new { variables, unitId = "user-1" });
        Assert.Null(beforeStart!["experimentId"]);
        Assert.Equal("1.0.0", beforeStart.Str("version"));

        await MoveAsync(_client, id, "start");
        var served = new Dictionary<string, string>();
        for (var unit = 0; unit < 40; unit++)
        {
            var unitId = $"user-{unit}";
            var (status, rendered) = await PostAsync(_client, $"/api/prompts/{name}/render", new { variables, unitId });
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal(id, rendered.Str("experimentId"));
            var (_, assignment) = await GetAsync(_client, $"/api/experiments/{id}/assignment?unitId={unitId}");
            Assert.Equal(assignment.Str("variantId"), rendered.Str("variantId"));
            Assert.Equal(assignment.Str("versionId"), rendered.Str("versionId"));
            served[unitId] = rendered.Str("variantId");
        }
        var (_, repeat) = await PostAsync(_client, $"/api/prompts/{name}/render", new { variables, unitId = "user-3" });
        Assert.Equal(served["user-3"], repeat.Str("variantId"));
        Assert.True(served.Values.Distinct().Count() > 1, "40 units should not all land in one variant");

        var (_, noUnit) = await PostAsync(_client, $"/api/prompts/{name}/render", new { variables });
        Assert.Null(noUnit!["experimentId"]);
        Assert.Equal("1.0.0", noUnit.Str("version"));
        var (_, exact) = await PostAsync(_client, $"/api/prompts/{name}/render", new { variables, unitId = "user-3", version = "1.0.2" });
        Assert.Null(exact!["experimentId"]);

        var (_, results) = await GetAsync(_client, $"/api/experiments/{id}/results");
        var exposures = results!["variants"]!.AsArray().ToDictionary(v => v.Str("variantId"), v => v!["exposures"]!.GetValue<long>());
        Assert.Equal(40, exposures.Values.Sum());
        foreach (var group in served.GroupBy(p => p.Value))
            Assert.Equal(group.Count(), exposures[group.Key]);
        // 40 units over three arms are below every arm's minimumSampleSize: the comparisons say they are not settled.
        Assert.All(results["variants"]!.AsArray(), v => Assert.False(v!["metrics"]!["conversionRate"]!["settled"]!.GetValue<bool>()));
    }

    [Fact]
    public async Task ArchiveVersion_AVariantOfAnUnfinishedExperiment_Returns409NamingIt_AndItsUnitsStillRender()
    {
        var (name, versions) = await CreatePromptWithChallengersAsync(_client);
        var experiment = await CreateAsync(_client, ThreeWay(name, versions));
        var id = experiment.Str("id");
        await MoveAsync(_client, id, "start");
        using var writer = fixture.Server.CreateClient(await fixture.Server.CreateKeyAsync("archivist", ApiKeyRole.Writer, TestContext.Current.CancellationToken));
        var archive = new { status = "archived" };

        var (refused, problem) = await PostAsync(writer, $"/api/prompts/{name}/versions/1.0.1/status", archive);
        var renders = new List<HttpStatusCode>();
        for (var unit = 0; unit < 20; unit++)
            renders.Add((await PostAsync(_client, $"/api/prompts/{name}/render", new { variables = new { company_name = "Acme" }, unitId = $"user-{unit}" })).Status);
        await MoveAsync(_client, id, "cancel");
        var (archived, _) = await PostAsync(writer, $"/api/prompts/{name}/versions/1.0.1/status", archive);

        Assert.Equal(HttpStatusCode.Conflict, refused);
        Assert.Equal("version_in_experiment", problem.Str("code"));
        Assert.Contains($"variant 'casual' of experiment '{experiment.Str("name")}', which is running", problem.Str("detail"));
        Assert.All(renders, status => Assert.Equal(HttpStatusCode.OK, status));
        Assert.Equal(HttpStatusCode.OK, archived);
    }

    [Fact]
    public async Task Render_InARunningExperiment_AnsweredWithoutWaitingForItsExposure_WhichAGracefulStopStores()
    {
        var server = await RunningServer.StartAsync(TestContext.Current.CancellationToken);
        try
        {
            using var client = server.CreateClient();
            var (name, versions) = await CreatePromptWithChallengersAsync(client);
            var id = (await CreateAsync(client, ThreeWay(name, versions))).Str("id");
            await MoveAsync(client, id, "start");

            await using (var writeLock = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = server.DatabasePath, Pooling = false }.ToString()))
            {
                // The store's writer cannot commit while this lock is held; every render is answered all the same.
                await writeLock.OpenAsync(TestContext.Current.CancellationToken);
                using var transaction = writeLock.BeginTransaction();
                for (var unit = 0; unit < 20; unit++)
                {
                    var (status, body) = await PostAsync(client, $"/api/prompts/{name}/render", new { variables = new { company_name = "Acme" }, unitId = $"graceful-{unit}" });
                    Assert.Equal(HttpStatusCode.OK, status);
                    Assert.Equal(id, body.Str("experimentId"));
                }
            }
            server = await server.RestartAsync(TestContext.Current.CancellationToken);

            using var restarted = server.CreateClient();
            var (_, results) = await GetAsync(restarted, $"/api/experiments/{id}/results");
            Assert.Equal(20, results!["variants"]!.AsArray().Sum(v => v!["exposures"]!.GetValue<long>()));
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task Assignment_IsTheSameAfterARestart()
    {
        var server = await RunningServer.StartAsync(TestContext.Current.CancellationToken);
        try
        {
            using var client = server.CreateClient();
            var (name, versions) = await CreatePromptWithChallengersAsync(client);
            var id = (await CreateAsync(client, ThreeWay(name, versions))).Str("id");
            var before = new List<string>();
            for (var unit = 0; unit < 20; unit++)
                before.Add((await GetAsync(client, $"/api/experiments/{id}/assignment?unitId=u{unit}")).Body.Str("variantId"));

            server = await server.RestartAsync(TestContext.Current.CancellationToken);
            using var restarted = server.CreateClient();
            var after = new List<string>();
            for (var unit = 0; unit < 20; unit++)
                after.Add((await GetAsync(restarted, $"/api/experiments/{id}/assignment?unitId=u{unit}")).Body.Str("variantId"));

            Assert.Equal(before, after);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task Assignment_WithoutUnitId_Returns400()
    {
        var (name, versions) = await CreatePromptWithChallengersAsync(_client);
        var id = (await CreateAsync(_client, ThreeWay(name, versions))).Str("id");

        var (status, body) = await GetAsync(_client, $"/api/experiments/{id}/assignment");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("unitId", body.Str("field"));
    }

    [Fact]
    public async Task Experiments_RequireAdmin_AndMetricsRequireWriter()
    {
        var (name, versions) = await CreatePromptWithChallengersAsync(_client);
        using var writer = fixture.Server.CreateClient(await fixture.Server.CreateKeyAsync("writer", ApiKeyRole.Writer, TestContext.Current.CancellationToken));
        using var reader = fixture.Server.CreateClient(await fixture.Server.CreateKeyAsync("reader", ApiKeyRole.Reader, TestContext.Current.CancellationToken));

        Assert.Equal(HttpStatusCode.Forbidden, (await PostAsync(writer, "/api/experiments", ThreeWay(name, versions))).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await PostAsync(reader, "/api/metrics", new { versionId = versions[0], latencyMs = 5 })).Status);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(writer, "/api/metrics", new { versionId = versions[0], latencyMs = 5 })).Status);
    }

    /// <summary>A route whose body the framework binds says what is wrong with an integer, as POST /api/metrics does: not a whole
    /// number from the least its rule takes (not the type's least, -2147483648).</summary>
    [Theory]
    [InlineData("1.5")]
    [InlineData("1e2")]
    [InlineData("2147483648")]
    public async Task Create_MinimumSampleSizeNotAWholeNumber_IsRefusedSayingWhatIsWrong(string value)
    {
        var (status, problem) = await PostAsync(_client, "/api/experiments", $$"""{"name": "exp", "prompt": "p", "minimumSampleSize": {{value}}}""");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(("invalid_json", "minimumSampleSize",
                $"'minimumSampleSize' is invalid: {value} is not a whole number from 1 to 2147483647 written in digits (100, not 1e2 or 100.0)."),
            (problem.Str("code"), problem.Str("field"), problem.Str("detail")));
    }
}
