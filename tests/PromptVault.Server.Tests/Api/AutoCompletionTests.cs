using System.Net;
using Microsoft.Data.Sqlite;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using PromptVault.Core.Experiments;
using static PromptVault.Server.Tests.ApiCalls;
using static PromptVault.Server.Tests.Experiments;

namespace PromptVault.Server.Tests.Api;

/// <summary>Auto-completion end to end: metric events arrive, the sequential test decides, the server acts, audits and logs.</summary>
public sealed class AutoCompletionTests(LoggedServerFixture fixture) : IClassFixture<LoggedServerFixture>
{
    private readonly HttpClient _client = fixture.Server.CreateClient();

    [Fact]
    public async Task AClearWinner_CompletesTheExperiment_AndPromoteWinnerDeploysIt()
    {
        var (name, versions) = await CreatePromptWithChallengersAsync(_client);
        var experiment = await StartTwoWayAsync(name, versions, new JsonObject { ["promoteWinner"] = true });
        var casual = VariantId(experiment, "casual");

        // Control converts 10% of the time, casual 30%: a difference the sequential test finds within a few hundred events.
        var status = await SendUntilStoppedAsync(_client, experiment, (arm, k) => new JsonObject
        {
            ["converted"] = arm == "control" ? k % 10 == 0 : k % 10 < 3,
        });

        Assert.Equal("completed", status["status"]!.GetValue<string>());
        Assert.Equal(casual, status.Str("winner"));
        var (_, prompt) = await GetAsync(_client, $"/api/prompts/{name}");
        Assert.Equal("1.0.1", prompt!["labels"]!["production"]!.GetValue<string>());
        var entries = await AuditAsync(name);
        Assert.Contains(entries, e => e.Str("action") == "experiment.completed" && e.Str("actor") == "promptvault");
        Assert.Contains(entries, e => e.Str("action") == "version.promoted" && e.Str("subject") == "1.0.1" && e.Str("actor") == "promptvault");
        var (_, results) = await GetAsync(_client, $"/api/experiments/{experiment.Str("id")}/results");
        Assert.Equal(casual, results.Str("winner"));
        // A completion waits for every arm's minimumSampleSize, so the target's comparisons are settled.
        Assert.All(results!["variants"]!.AsArray(), v => Assert.True(v!["metrics"]!["conversionRate"]!["settled"]!.GetValue<bool>()));
        Assert.Contains(fixture.Logs.Lines, l => l.EventId == 1001 && l.Message.Contains(experiment.Str("id"), StringComparison.Ordinal)
            && l.Message.Contains(casual, StringComparison.Ordinal));

        // Every batch's look stored a point of the interval narrowing; the last one, which completed it, excludes no lift.
        var history = await fixture.Server.Services.GetRequiredService<ExperimentService>().HistoryAsync(experiment.Str("id"), TestContext.Current.CancellationToken);
        Assert.True(history.Count > 1, $"{history.Count} points");
        Assert.All(history, p => Assert.True(p.VariantId == casual && p.Metric == "conversionRate" && p.Low <= p.Estimate && p.Estimate <= p.High));
        Assert.Equal(history.Select(p => p.At).Order(), history.Select(p => p.At));
        Assert.True(history[^1].Low > 0, $"last interval [{history[^1].Low}, {history[^1].High}]");
        Assert.True(history[^1].High - history[^1].Low < history[0].High - history[0].Low);
    }

    /// <summary>The control is a candidate too: when it is not the production version and every challenger is significantly
    /// worse, the experiment's winner is the control, and promoteWinner deploys it.</summary>
    [Fact]
    public async Task AControlThatWins_IsPromoted_WhenItIsNotTheProductionVersion()
    {
        var (name, versions) = await CreatePromptWithChallengersAsync(_client);
        var experiment = await StartTwoWayAsync(name, [versions[1], versions[2]], new JsonObject { ["promoteWinner"] = true });

        // The control (1.0.1) converts 30% of the time, the challenger (1.0.2) 10%; production is 1.0.0.
        var status = await SendUntilStoppedAsync(_client, experiment, (arm, k) => new JsonObject
        {
            ["converted"] = arm == "control" ? k % 10 < 3 : k % 10 == 0,
        });

        Assert.Equal("completed", status.Str("status"));
        Assert.Equal(VariantId(experiment, "control"), status.Str("winner"));
        var (_, prompt) = await GetAsync(_client, $"/api/prompts/{name}");
        Assert.Equal("1.0.1", prompt!["labels"]!["production"]!.GetValue<string>());
        Assert.Contains(await AuditAsync(name), e => e.Str("action") == "version.promoted" && e.Str("subject") == "1.0.1" && e.Str("actor") == "promptvault");
    }

    /// <summary>
    /// A look decides on the running experiment it read; an operator's pause that lands before the look acts stands: the look
    /// neither completes the paused experiment nor promotes its winner.
    /// </summary>
    [Fact]
    public async Task AnOperatorsPause_DuringALookThatFindsAWinner_Stands()
    {
        var (name, _, id) = await RunningWithAWinnerNoLookSawAsync();
        var service = fixture.Server.Services.GetRequiredService<ExperimentService>();
        await using var connection = new SqliteConnection($"Data Source={fixture.Server.DatabasePath}");
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        // The pause lands with the sequential state the look stores after reading the running experiment and before it acts.
        // Only that write pauses it, so the experiment ends paused only if the look read it running.
        foreach (var (trigger, operation) in new[] { ($"pause_on_insert_{id}", "INSERT"), ($"pause_on_update_{id}", "UPDATE") })
            await ExecuteAsync(connection, $"""
                CREATE TRIGGER "{trigger}" AFTER {operation} ON sequential_states WHEN NEW.experiment_id = '{id}'
                BEGIN UPDATE experiments SET status = 'paused' WHERE id = '{id}'; END
                """);

        await service.EvaluateAsync(id, TestContext.Current.CancellationToken);

        var (_, after) = await GetAsync(_client, $"/api/experiments/{id}");
        Assert.Equal("paused", after.Str("status"));
        var (_, prompt) = await GetAsync(_client, $"/api/prompts/{name}");
        Assert.Equal("1.0.0", prompt!["labels"]!["production"]!.GetValue<string>());
        Assert.DoesNotContain(await AuditAsync(name), e => e.Str("action") == "experiment.completed");
    }

    /// <summary>
    /// Completing with <c>promoteWinner</c> and promoting the winner are one write: when the promote's write fails (here a
    /// store error on the winner's status), the experiment is not left completed with its winner never promoted; it stays
    /// running, and the next look completes it and promotes the winner.
    /// </summary>
    [Fact]
    public async Task APromoteThatFailsToWrite_LeavesTheExperimentRunning_AndTheNextLookCompletesAndPromotes()
    {
        var (name, versions, id) = await RunningWithAWinnerNoLookSawAsync();
        var service = fixture.Server.Services.GetRequiredService<ExperimentService>();
        await using var connection = new SqliteConnection($"Data Source={fixture.Server.DatabasePath}");
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        var trigger = $"refuse_promote_{versions[1]}";
        await ExecuteAsync(connection, $"""
            CREATE TRIGGER "{trigger}" BEFORE UPDATE OF status ON versions WHEN NEW.id = '{versions[1]}' AND NEW.status = 'production'
            BEGIN SELECT RAISE(ABORT, 'the disk failed'); END
            """);

        var failed = await Record.ExceptionAsync(() => service.EvaluateAsync(id, TestContext.Current.CancellationToken));

        Assert.NotNull(failed);
        var (_, after) = await GetAsync(_client, $"/api/experiments/{id}");
        Assert.Equal("running", after.Str("status"));
        var (_, prompt) = await GetAsync(_client, $"/api/prompts/{name}");
        Assert.Equal("1.0.0", prompt!["labels"]!["production"]!.GetValue<string>());
        Assert.DoesNotContain(await AuditAsync(name), e => e.Str("action") == "experiment.completed");

        await ExecuteAsync(connection, $"""DROP TRIGGER "{trigger}" """);
        await service.EvaluateAsync(id, TestContext.Current.CancellationToken);

        (_, after) = await GetAsync(_client, $"/api/experiments/{id}");
        Assert.Equal("completed", after.Str("status"));
        (_, prompt) = await GetAsync(_client, $"/api/prompts/{name}");
        Assert.Equal("1.0.1", prompt!["labels"]!["production"]!.GetValue<string>());
        Assert.Contains(await AuditAsync(name), e => e.Str("action") == "version.promoted" && e.Str("subject") == "1.0.1" && e.Str("actor") == "promptvault");
    }

    private static async Task ExecuteAsync(SqliteConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task AGuardrailBreach_PausesTheExperiment_WithoutAWinner()
    {
        var (name, experiment) = await StartWithErrorRateGuardrailAsync();

        // Same conversion, but casual fails 30% of calls against control's 2%.
        var status = await SendUntilStoppedAsync(_client, experiment, (arm, k) =>
        {
            var fails = arm == "control" ? k % 50 == 0 : k % 10 < 3;
            var e = new JsonObject { ["converted"] = k % 10 == 0 };
            if (fails) e["error"] = "timeout";
            return e;
        });

        Assert.Equal("paused", status["status"]!.GetValue<string>());
        Assert.Null(status["winner"]);
        Assert.Contains("errorRate", status.Str("statusReason"));
        var (_, prompt) = await GetAsync(_client, $"/api/prompts/{name}");
        Assert.Equal("1.0.0", prompt!["labels"]!["production"]!.GetValue<string>());
        Assert.Contains(await AuditAsync(name), e => e.Str("action") == "experiment.paused" && e.Str("actor") == "promptvault");
        Assert.Contains(fixture.Logs.Lines, l => l.EventId == 1002 && l.Message.Contains(experiment.Str("id"), StringComparison.Ordinal)
            && l.Message.Contains("errorRate", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AVariantBreachingAGuardrail_IsNotPromoted_WhenAnOperatorCompletesThePausedExperiment()
    {
        var (name, experiment) = await StartWithErrorRateGuardrailAsync();
        var id = experiment.Str("id");
        await MoveAsync(_client, id, "pause");

        // While paused (no look acts), 2,000 units an arm arrive: casual converts 30% against 10%, but fails 30% of calls
        // against 2%, where at most +10% is allowed (excess 0.278, always-valid half-width about 0.146).
        await SendAsync(id, 2000, (control, k) => new
        {
            converted = control ? k % 10 == 0 : k % 10 < 3,
            error = (control ? k % 50 == 0 : k % 10 < 3) ? "timeout" : null,
        });
        var (_, results) = await GetAsync(_client, $"/api/experiments/{id}/results");
        Assert.True(results!["guardrails"]![0]!["breached"]!.GetValue<bool>(), results.ToJsonString());
        Assert.True(results["variants"]![1]!["metrics"]!["conversionRate"]!["adjustedSequentialPValue"]!.GetValue<double>() < 0.05);

        var completed = await MoveAsync(_client, id, "complete");

        Assert.Equal("completed", completed.Str("status"));
        Assert.Null(completed["winner"]);
        var (_, prompt) = await GetAsync(_client, $"/api/prompts/{name}");
        Assert.Equal("1.0.0", prompt!["labels"]!["production"]!.GetValue<string>());
    }

    [Fact]
    public async Task ALookThatFails_AfterTheBatchIsStored_StillAnswersTheBatchAsStored()
    {
        var (name, versions) = await CreatePromptWithChallengersAsync(_client);
        var experiment = await StartTwoWayAsync(name, versions, []);
        var id = experiment.Str("id");
        var control = VariantId(experiment, "control");
        await RecordAsync(_client, [new { versionId = versions[0], experimentId = id, variantId = control, unitId = "u-0", converted = true }]);
        // The control's unit statistics damaged on disk: every later look at the experiment fails reading them.
        await using (var connection = new SqliteConnection($"Data Source={fixture.Server.DatabasePath}"))
        {
            await connection.OpenAsync(TestContext.Current.CancellationToken);
            await using var damage = connection.CreateCommand();
            damage.CommandText = "UPDATE variant_unit_stats SET stats = x'00' WHERE experiment_id = $id AND variant_id = $control";
            damage.Parameters.AddWithValue("$id", id);
            damage.Parameters.AddWithValue("$control", control);
            Assert.Equal(1, await damage.ExecuteNonQueryAsync(TestContext.Current.CancellationToken));
        }

        var batch = new { events = new object[] { new { versionId = versions[1], experimentId = id, variantId = VariantId(experiment, "casual"), converted = true } } };
        var (status, body) = await PostAsync(_client, "/api/metrics", batch);

        // Stored, so answered as stored: an error would have the client send it again, and count it twice.
        Assert.True(status == HttpStatusCode.OK, $"{(int)status}: {body?.ToJsonString()}");
        Assert.Equal(1, body!["stored"]!.GetValue<int>());
        Assert.Contains(fixture.Logs.Lines, l => l.EventId == 1003 && l.Message.Contains(id, StringComparison.Ordinal));
    }

    /// <summary>A running two-way experiment with <c>promoteWinner</c> and a guardrail: the error rate may rise by at most 10%.</summary>
    private async Task<(string Prompt, JsonNode Experiment)> StartWithErrorRateGuardrailAsync()
    {
        var (name, versions) = await CreatePromptWithChallengersAsync(_client);
        var body = new JsonObject
        {
            ["promoteWinner"] = true,
            ["guardrails"] = new JsonArray(new JsonObject { ["metric"] = "errorRate", ["threshold"] = 0.10 }),
        };
        return (name, await StartTwoWayAsync(name, versions, body));
    }

    /// <summary>A running two-way experiment with <c>promoteWinner</c> whose 1,000 units an arm arrived while it was paused (no
    /// look acted): casual converts 30% against control's 10%, so the next look completes it.</summary>
    private async Task<(string Prompt, string[] Versions, string Id)> RunningWithAWinnerNoLookSawAsync()
    {
        var (name, versions) = await CreatePromptWithChallengersAsync(_client);
        var id = (await StartTwoWayAsync(name, versions, new JsonObject { ["promoteWinner"] = true })).Str("id");
        await MoveAsync(_client, id, "pause");
        await SendAsync(id, 1000, (control, k) => new { converted = control ? k % 10 == 0 : k % 10 < 3 });
        await MoveAsync(_client, id, "start");
        return (name, versions, id);
    }

    private async Task<JsonNode> StartTwoWayAsync(string name, string[] versions, JsonObject extra)
    {
        var body = new JsonObject
        {
            ["name"] = UniqueName("auto"),
            ["prompt"] = name,
            ["variants"] = new JsonArray(
                new JsonObject { ["name"] = "control", ["versionId"] = versions[0], ["weight"] = 50 },
                new JsonObject { ["name"] = "casual", ["versionId"] = versions[1], ["weight"] = 50 }),
            ["targetMetric"] = "conversionRate",
            ["minimumSampleSize"] = 200,
        };
        foreach (var (key, value) in extra)
            body[key] = value?.DeepClone();
        var experiment = await CreateAsync(_client, body.ToJsonString());
        return await MoveAsync(_client, experiment.Str("id"), "start");
    }

    /// <summary>
    /// Sends <paramref name="perArm"/> units an arm of a two-way experiment, each its exposure and one event with the
    /// members <paramref name="outcome"/> gives for (is the control, units of its arm before it).
    /// </summary>
    private async Task SendAsync(string id, int perArm, Func<bool, int, object> outcome)
    {
        var service = fixture.Server.Services.GetRequiredService<ExperimentService>();
        var unitsOf = new Dictionary<string, int>();
        var units = new List<(string UnitId, string VariantId, string VersionId, int K, bool Control)>();
        for (var u = 0; unitsOf.Values.Sum() < 2 * perArm; u++)
        {
            var assigned = await service.AssignAsync(id, $"{id}-u-{u}", TestContext.Current.CancellationToken);
            var k = unitsOf.GetValueOrDefault(assigned.VariantId);
            if (k == perArm)
                continue;
            unitsOf[assigned.VariantId] = k + 1;
            units.Add(($"{id}-u-{u}", assigned.VariantId, assigned.VersionId, k, assigned.VariantName == "control"));
        }
        foreach (var chunk in units.Chunk(1000))
        {
            var (status, answer) = await PostAsync(_client, "/api/exposures",
                new { exposures = chunk.Select(u => new { experimentId = id, variantId = u.VariantId, unitId = u.UnitId }).ToArray() });
            Assert.True(status == HttpStatusCode.OK, answer?.ToJsonString());
            await RecordAsync(_client, chunk.Select(u =>
            {
                var e = JsonSerializer.SerializeToNode(outcome(u.Control, u.K))!.AsObject();
                e["versionId"] = u.VersionId;
                e["experimentId"] = id;
                e["variantId"] = u.VariantId;
                e["unitId"] = u.UnitId;
                return (object)e;
            }));
        }
    }

    private async Task<List<JsonNode>> AuditAsync(string name)
    {
        var (_, audit) = await GetAsync(_client, $"/api/audit?prompt={name}");
        return audit!["entries"]!.AsArray().Select(e => e!).ToList();
    }
}
