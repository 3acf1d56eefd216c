using System.Text.Json;
using System.Text.Json.Nodes;
using PromptVault.Server.Tests;
using static PromptVault.Server.Tests.ApiCalls;

namespace PromptVault.Cli.Tests;

/// <summary>`experiment`, `metrics` and `demo` against a real server.</summary>
public sealed class ExperimentCommandTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private RunningServer Server => fixture.Server;

    [Fact]
    public async Task ExperimentCreateHelp_MinSamples_CountsUnitsNotEvents()
    {
        // SPEC §3: the unit of analysis is the unit (user); a user sending ten calls is one toward the minimum, not ten.
        var result = await Cli.RunAsync(Cli.NoEnvironment, "experiment", "create", "--help");

        var line = result.Out.Split('\n').Single(l => l.Contains("--min-samples", StringComparison.Ordinal));
        Assert.Contains("Units (users) per variant", line, StringComparison.Ordinal);
        Assert.DoesNotContain("Events", line, StringComparison.Ordinal);
    }

    /// <summary>
    /// <c>render --var --unit</c> types each value by the version the unit is served: the challenger declares <c>count</c> a
    /// number while production declares it text, and a unit the experiment assigns the challenger gets the number.
    /// </summary>
    [Fact]
    public async Task Render_UnitOnAChallenger_TypesVarsByTheChallengersVariables()
    {
        using var client = Server.CreateClient();
        var name = UniqueName("typed");
        object Count(string type) => new { name = "count", type, required = true };
        var (status, body) = await PostAsync(client, "/api/prompts", new { name, type = "template", content = "{{count}} items", variables = new[] { Count("string") } });
        Assert.True(status == System.Net.HttpStatusCode.Created, body?.ToJsonString());
        await PutAsync(client, $"/api/prompts/{name}/labels/production", new { version = "1.0.0" });
        var challenger = await NewVersionAsync(client, name, new { content = "{{count}} items, counted", variables = new[] { Count("number") }, changeDescription = "count is a number" });
        var (_, created) = await PostAsync(client, "/api/experiments", new
        {
            name = "count-type", prompt = name,
            variants = new object[] { new { name = "control", versionId = (await GetAsync(client, $"/api/prompts/{name}/versions/1.0.0")).Body.Str("id"), weight = 50 },
                new { name = "counted", versionId = challenger.Str("id"), weight = 50 } },
        });
        var id = created.Str("id");
        await Experiments.MoveAsync(client, id, "start");
        string? unit = null;
        for (var u = 0; unit is null; u++)
            if ((await GetAsync(client, $"/api/experiments/{id}/assignment?unitId=u-{u}")).Body.Str("variantName") == "counted")
                unit = $"u-{u}";

        var rendered = await Cli.RunAsync(Server, null, "render", name, "--var", "count=3", "--unit", unit);

        Assert.True(rendered.ExitCode == 0, rendered.ToString());
        Assert.Equal("3 items, counted", rendered.Out.Trim());
    }

    [Fact]
    public async Task Experiment_CreateStartResultsComplete_ThroughTheCli()
    {
        using var client = Server.CreateClient();
        var (name, _) = await Experiments.CreatePromptWithChallengersAsync(client);

        var created = await Cli.RunAsync(Server, null, "experiment", "create", "tone", "--prompt", name,
            "--variant", "control=1.0.0:50", "--variant", "casual=1.0.1:25", "--variant", "structured=1.0.2:25",
            "--target", "conversionRate", "--min-samples", "50", "--guardrail", "errorRate=0.2", "--json");
        Assert.True(created.ExitCode == 0, created.ToString());
        using var experiment = JsonDocument.Parse(created.Out);
        var id = experiment.RootElement.GetProperty("id").GetString()!;
        Assert.Equal("draft", experiment.RootElement.GetProperty("status").GetString());
        Assert.Equal(0.2, experiment.RootElement.GetProperty("guardrails")[0].GetProperty("threshold").GetDouble());

        var started = await Cli.RunAsync(Server, null, "experiment", "start", id);
        Assert.True(started.ExitCode == 0, started.ToString());
        Assert.Contains("is running", started.Out);

        var rendered = await Cli.RunAsync(Server, null, "render", name, "--var", "company_name=Acme", "--unit", "user-7", "--json");
        Assert.True(rendered.ExitCode == 0, rendered.ToString());
        using (var render = JsonDocument.Parse(rendered.Out))
        {
            Assert.Equal(id, render.RootElement.GetProperty("experimentId").GetString());
            // The API's answer does not repeat the unit; the CLI's JSON says which unit the variant was chosen for.
            Assert.Equal("user-7", render.RootElement.GetProperty("unitId").GetString());
        }

        var results = await Cli.RunAsync(Server, null, "experiment", "results", id);
        Assert.True(results.ExitCode == 0, results.ToString());
        Assert.Contains("control (control)", results.Out);
        Assert.Contains("casual", results.Out);
        Assert.Contains("Sample ratio:", results.Out);
        Assert.Contains("Decision: No winner yet: no significant difference under the sequential test.", results.Out);

        var list = await Cli.RunAsync(Server, null, "experiment", "list", "--prompt", name);
        Assert.Contains("tone", list.Out);

        var completed = await Cli.RunAsync(Server, null, "experiment", "complete", id);
        Assert.True(completed.ExitCode == 0, completed.ToString());
        Assert.Contains("is completed", completed.Out);
        Assert.Contains("No variant won", completed.Out);
        var ended = await Cli.RunAsync(Server, null, "experiment", "results", id);
        Assert.Contains("Decision: No winner: it completed with no significant difference", ended.Out);
        Assert.DoesNotContain("No winner yet", ended.Out);
        // Ended, it needs no more units: the required size stays, nothing is "to go".
        Assert.DoesNotContain("more to go", ended.Out);
    }

    [Fact]
    public async Task Experiment_Results_OnCost_ShowsTheCostsAsMetricsDoes_NotZero()
    {
        // A call costs fractions of a cent (500 tokens of gpt-4o-mini: $0.000075): the table printed avgCost with three
        // decimals, so both variants read 0 and the difference +0, where `metrics` shows six.
        using var client = Server.CreateClient();
        var experiment = await StartControlAndCasualAsync(client, "cost", "avgCost", minimumSampleSize: 100);
        var id = experiment.Str("id");
        var events = new List<object>();
        for (var unit = 0; unit < 20; unit++)
        {
            var (_, rendered) = await PostAsync(client, $"/api/prompts/{experiment.Str("prompt")}/render", new { variables = new { company_name = "Acme" }, unitId = $"cost-{unit}" });
            var control = rendered.Str("variantId") == Experiments.VariantId(experiment, "control");
            events.Add(new
            {
                versionId = rendered.Str("versionId"), experimentId = id, variantId = rendered.Str("variantId"), unitId = $"cost-{unit}",
                latencyMs = 100, cost = control ? 0.000125 : 0.000075,
            });
        }
        await Experiments.RecordAsync(client, events);

        var results = await Cli.RunAsync(Server, null, "experiment", "results", id);

        Assert.True(results.ExitCode == 0, results.ToString());
        Assert.Contains("$0.000125", results.Out);
        Assert.Contains("$0.000075", results.Out);
        Assert.Contains("-$0.00005", results.Out);
        // Each arm's cost is constant, so the figures rest on the pooled variance: a note, not "No comparison" beside them.
        Assert.Contains("Note on casual: no variance within the arms", results.Out);
        Assert.DoesNotContain("No comparison", results.Out);
    }

    /// <summary>
    /// With three variants Holm's adjustment changes the fixed-horizon p-values: the table's "p (fixed)" showed the unadjusted
    /// <c>pValue</c> beside a "Sequential p (Holm)", while the dashboard showed <c>adjustedPValue</c> under its own label. Both
    /// now show <c>adjustedPValue</c>, labelled "p (fixed, Holm)".
    /// </summary>
    [Fact]
    public async Task Experiment_Results_ThreeVariants_FixedPIsHolmAdjustedAndSaysSo()
    {
        using var client = Server.CreateClient();
        var (name, versionIds) = await Experiments.CreatePromptWithChallengersAsync(client);
        // A minimum sample size out of reach: nothing completes the experiment while the test looks.
        var experiment = await Experiments.CreateAsync(client, new
        {
            name = UniqueName("holm"), prompt = name, targetMetric = "conversionRate", minimumSampleSize = 100_000,
            variants = new object[]
            {
                new { name = "control", versionId = versionIds[0], weight = 50 }, new { name = "casual", versionId = versionIds[1], weight = 25 },
                new { name = "structured", versionId = versionIds[2], weight = 25 },
            },
        });
        var id = experiment.Str("id");
        await Experiments.MoveAsync(client, id, "start");
        await SendConversionsAsync(client, experiment, new Dictionary<string, int> { ["control"] = 1, ["casual"] = 3, ["structured"] = 2 }, units: 240);
        var (_, json) = await GetAsync(client, $"/api/experiments/{id}/results");
        var casual = json!["variants"]!.AsArray().Single(v => v.Str("name") == "casual")!["metrics"]!["conversionRate"]!;
        string Fixed(string field) => casual[field]!.GetValue<double>().ToString("0.####", System.Globalization.CultureInfo.InvariantCulture);
        Assert.NotEqual(Fixed("pValue"), Fixed("adjustedPValue")); // the data make Holm matter

        var results = await Cli.RunAsync(Server, null, "experiment", "results", id);

        Assert.True(results.ExitCode == 0, results.ToString());
        Assert.Contains("p (fixed, Holm)", results.Out);
        var row = results.Out.Split('\n').Single(l => l.Contains(" casual ", StringComparison.Ordinal));
        Assert.Contains($" {Fixed("adjustedPValue")} ", row);
        Assert.DoesNotContain($" {Fixed("pValue")} ", row);
    }

    /// <summary>
    /// Below <c>minimumSampleSize</c> the table showed p-values and intervals as if they were a result; the comparison rows
    /// now say so, and the JSON carries each metric's <c>settled</c>.
    /// </summary>
    [Theory]
    [InlineData(40, false)]
    [InlineData(200, true)]
    public async Task Experiment_Results_BelowMinimumSample_MarksTheComparisonRows(int units, bool settled)
    {
        using var client = Server.CreateClient();
        var experiment = await StartControlAndCasualAsync(client, "early", "conversionRate", minimumSampleSize: 50);
        var id = experiment.Str("id");
        await SendConversionsAsync(client, experiment, new Dictionary<string, int> { ["control"] = 2, ["casual"] = 2 }, units);

        var table = await Cli.RunAsync(Server, null, "experiment", "results", id);
        var json = await Cli.RunAsync(Server, null, "experiment", "results", id, "--json");

        Assert.True(table.ExitCode == 0, table.ToString());
        var row = table.Out.Split('\n').Single(l => l.Contains(" casual ", StringComparison.Ordinal));
        Assert.Equal(!settled, row.Contains("casual (below minimum sample)", StringComparison.Ordinal));
        Assert.DoesNotContain("control (control) (", table.Out);
        using var document = JsonDocument.Parse(json.Out);
        var variants = document.RootElement.GetProperty("variants");
        Assert.All(variants.EnumerateArray(), v => Assert.Equal(settled, v.GetProperty("metrics").GetProperty("conversionRate").GetProperty("settled").GetBoolean()));
    }

    /// <summary>
    /// The table listed only breached guardrails and only the target metric's notes, so a guardrail with no data yet, or
    /// one holding, did not show at all; each guardrail now has a line with its state and, when its metric's comparison is
    /// empty, why (the API's <c>reason</c> of that metric's row).
    /// </summary>
    [Fact]
    public async Task Experiment_Results_ListsEveryGuardrail_WithItsStateAndReason()
    {
        using var client = Server.CreateClient();
        var (name, versionIds) = await Experiments.CreatePromptWithChallengersAsync(client);
        var experiment = await Experiments.CreateAsync(client, new
        {
            name = UniqueName("guarded"), prompt = name, targetMetric = "conversionRate", minimumSampleSize = 50,
            guardrails = new object[] { new { metric = "avgQualityScore", threshold = 0.05 }, new { metric = "errorRate", threshold = 0.2 } },
            variants = new object[] { new { name = "control", versionId = versionIds[0], weight = 50 }, new { name = "casual", versionId = versionIds[1], weight = 50 } },
        });
        var id = experiment.Str("id");
        await Experiments.MoveAsync(client, id, "start");
        await SendConversionsAsync(client, experiment, new Dictionary<string, int> { ["control"] = 2, ["casual"] = 2 }, units: 40);

        var results = await Cli.RunAsync(Server, null, "experiment", "results", id);

        Assert.True(results.ExitCode == 0, results.ToString());
        var lines = results.Out.Split('\n').Where(l => l.StartsWith("Guardrail ", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, lines.Count);
        var quality = Assert.Single(lines, l => l.StartsWith("Guardrail avgQualityScore on casual:", StringComparison.Ordinal));
        Assert.Contains("limit 5% — waiting for more units (no units with this metric yet in the control).", quality);
        var errors = Assert.Single(lines, l => l.StartsWith("Guardrail errorRate on casual:", StringComparison.Ordinal));
        Assert.Contains("limit 20% — waiting for more units", errors);
    }

    /// <summary>Creates a prompt with challengers and starts an experiment of its control and casual versions, 50/50.</summary>
    private static async Task<JsonNode> StartControlAndCasualAsync(HttpClient client, string prefix, string target, int minimumSampleSize)
    {
        var (name, versionIds) = await Experiments.CreatePromptWithChallengersAsync(client);
        var experiment = await Experiments.CreateAsync(client, new
        {
            name = UniqueName(prefix), prompt = name, targetMetric = target, minimumSampleSize,
            variants = new object[] { new { name = "control", versionId = versionIds[0], weight = 50 }, new { name = "casual", versionId = versionIds[1], weight = 50 } },
        });
        await Experiments.MoveAsync(client, experiment.Str("id"), "start");
        return experiment;
    }

    /// <summary>Renders <paramref name="units"/> new units and sends each one event: of each ten units an arm gets, the first
    /// <paramref name="convertedOfTen"/>[arm] convert.</summary>
    private static async Task SendConversionsAsync(HttpClient client, JsonNode experiment, Dictionary<string, int> convertedOfTen, int units)
    {
        var id = experiment.Str("id");
        var names = experiment["variants"]!.AsArray().ToDictionary(v => v.Str("id"), v => v.Str("name"));
        var seen = names.Values.ToDictionary(n => n, _ => 0);
        var events = new List<object>();
        for (var unit = 0; unit < units; unit++)
        {
            var unitId = $"{id}-{unit}";
            var (_, rendered) = await PostAsync(client, $"/api/prompts/{experiment.Str("prompt")}/render", new { variables = new { company_name = "Acme" }, unitId });
            var arm = names[rendered.Str("variantId")];
            events.Add(new { versionId = rendered.Str("versionId"), experimentId = id, variantId = rendered.Str("variantId"), unitId, converted = seen[arm]++ % 10 < convertedOfTen[arm] });
        }
        await Experiments.RecordAsync(client, events);
    }

    /// <summary>
    /// <c>experiment complete</c> of a <c>promoteWinner</c> experiment whose winner a gate refuses says the winner was not
    /// promoted and why, and the experiment keeps saying so (<c>promotionRefused</c>).
    /// </summary>
    [Fact]
    public async Task Experiment_Complete_WinnerAGateRefuses_SaysItWasNotPromotedAndWhy()
    {
        using var client = Server.CreateClient();
        var (name, versions) = await Experiments.CreatePromptWithChallengersAsync(client);
        var experiment = await Experiments.CreateAsync(client, new
        {
            name = "gated", prompt = name, targetMetric = "conversionRate", minimumSampleSize = 100, promoteWinner = true,
            variants = new object[] { new { name = "control", versionId = versions[0], weight = 50 }, new { name = "casual", versionId = versions[1], weight = 50 } },
        });
        var id = experiment.Str("id");
        var casual = Experiments.VariantId(experiment, "casual");
        await Experiments.MoveAsync(client, id, "start");
        // A clear winner, paused before a look completes it, so the CLI's complete decides.
        var events = new List<object>();
        for (var unit = 0; unit < 600; unit++)
        {
            var (_, rendered) = await PostAsync(client, $"/api/prompts/{name}/render", new { variables = new { company_name = "Acme" }, unitId = $"u{unit}" });
            var variantId = rendered.Str("variantId");
            events.Add(new { versionId = rendered.Str("versionId"), experimentId = id, variantId, unitId = $"u{unit}", converted = unit % 10 < (variantId == casual ? 6 : 1) });
        }
        await Experiments.MoveAsync(client, id, "pause");
        foreach (var chunk in events.Chunk(500))
            await Experiments.RecordAsync(client, chunk);
        await SendAsync(client, HttpMethod.Patch, $"/api/prompts/{name}", new { requireTests = true });

        var completed = await Cli.RunAsync(Server, null, "experiment", "complete", id);

        Assert.True(completed.ExitCode == 0, completed.ToString());
        Assert.Contains("Winner: casual (1.0.1). It was NOT promoted to production: ", completed.Out);
        Assert.Contains("requires tests", completed.Out);
        var (_, stored) = await GetAsync(client, $"/api/experiments/{id}");
        Assert.Contains("requires tests", stored.Str("promotionRefused"));
        var (_, prompt) = await GetAsync(client, $"/api/prompts/{name}");
        Assert.Equal("1.0.0", prompt!["labels"]!["production"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("control=1.0.0", "NAME=VERSION:WEIGHT")]
    [InlineData("control:50", "NAME=VERSION:WEIGHT")]
    [InlineData("control=1.0.0:2,5", "NAME=VERSION:WEIGHT")] // not 25: a comma is no thousands separator here
    [InlineData("control=1.0.0: 50", "NAME=VERSION:WEIGHT")]
    public async Task Experiment_Create_BadVariantSyntax_IsUsageError(string variant, string expected)
    {
        var result = await Cli.RunAsync(Server, null, "experiment", "create", "x", "--prompt", "p", "--variant", variant, "--variant", "b=1.0.0:50");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(expected, result.Error);
    }

    [Fact]
    public async Task Experiment_Create_RefusedByTheServer_PrintsTheMessageAndExits1()
    {
        using var client = Server.CreateClient();
        var (name, _) = await Experiments.CreatePromptWithChallengersAsync(client);

        var result = await Cli.RunAsync(Server, null, "experiment", "create", "x", "--prompt", name, "--variant", "a=1.0.0:60", "--variant", "b=1.0.1:30");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("sum to 90", result.Error);
    }

    [Fact]
    public async Task Metrics_ShowsTheProductionVersionsAggregates()
    {
        using var client = Server.CreateClient();
        var name = await CreateSupportPromptAsync(client);
        await PutAsync(client, $"/api/prompts/{name}/labels/production", new { version = "1.0.0" });
        var versionId = (await GetAsync(client, $"/api/prompts/{name}/versions/1.0.0")).Body.Str("id");
        await Experiments.RecordAsync(client, [new { versionId, latencyMs = 120, converted = true }, new { versionId, latencyMs = 80, converted = false, error = "timeout" }]);

        var table = await Cli.RunAsync(Server, null, "metrics", name, "--period", "day");
        var json = await Cli.RunAsync(Server, null, "metrics", name, "--json");

        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Contains("2 events", table.Out);
        Assert.Contains("50%", table.Out);
        // The mean is exact; the percentiles are histogram buckets within 1% (80 shows as 79.6), so marked approximate.
        Assert.Matches(@"100 / ≈[\d.]+ / ≈[\d.]+ / ≈[\d.]+", table.Out);
        using var document = JsonDocument.Parse(json.Out);
        Assert.Equal(100, document.RootElement.GetProperty("summary").GetProperty("latencyMs").GetProperty("mean").GetDouble(), 6);

        // One event is "1 event", not "1 events".
        var another = await CreateSupportPromptAsync(client);
        var other = (await GetAsync(client, $"/api/prompts/{another}/versions/1.0.0")).Body.Str("id");
        await Experiments.RecordAsync(client, [new { versionId = other, latencyMs = 90, cost = 0.00036 }]);
        var single = await Cli.RunAsync(Server, null, "metrics", another, "--version", "1.0.0");
        Assert.True(single.ExitCode == 0, single.ToString());
        Assert.Contains("): 1 event" + Environment.NewLine, single.Out);
        // One event's total is its cost: both to the same places (the total was rounded to 4, "0.00036 / 0.0004").
        Assert.Contains(" $0.00036 / $0.00036 ", single.Out);
    }

    [Fact]
    public async Task Demo_ThatCompletesItself_OffersNoMoreLifecycleCommands()
    {
        var result = await Cli.RunAsync(Server, null, "demo", "--prompt", UniqueName("demo-done"));

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("status completed", result.Out);
        // The decision and why the system completed it (its status reason), as the dashboard shows them: the line said only "Winner: casual".
        var decision = Assert.Single(result.Out.Split('\n'), line => line.StartsWith("Decision:", StringComparison.Ordinal));
        Assert.Matches(@"^Decision: \w+ wins on conversionRate\. '\w+' beats control on conversionRate \(always-valid p [=<] [0-9.]+, Holm-adjusted\)\.$", decision.TrimEnd());
        // complete, pause and cancel are all refused once the experiment completed (invalid_experiment_transition).
        var more = Assert.Single(result.Out.Split('\n'), line => line.StartsWith("More:", StringComparison.Ordinal));
        Assert.Matches(@"^More: promptvault experiment results \w+$", more.TrimEnd());
    }

    /// <summary>The progress of the simulated users went to stdout ("Simulating users: 0%"), before the JSON document.</summary>
    [Fact]
    public async Task Demo_Json_PrintsOnlyTheResultsDocumentOnStdout()
    {
        var result = await Cli.RunAsync(Server, null, "demo", "--prompt", UniqueName("demo-json"), "--users", "40", "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        using var document = JsonDocument.Parse(result.Out);
        Assert.Equal("conversionRate", document.RootElement.GetProperty("targetMetric").GetString());
        Assert.Contains("is running", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Demo_RunsTheCustomerSupportExperiment_AndPrintsReadableResults()
    {
        var prompt = UniqueName("demo");

        var result = await Cli.RunAsync(Server, null, "demo", "--prompt", prompt, "--users", "600");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("control (control)", result.Out);
        Assert.Contains("casual", result.Out);
        Assert.Contains("structured", result.Out);
        Assert.Contains("Sample ratio:", result.Out);
        Assert.Contains("Decision:", result.Out);
        using var client = Server.CreateClient();
        var (_, list) = await GetAsync(client, $"/api/experiments?prompt={prompt}");
        var experiment = list!["experiments"]![0]!;
        Assert.Equal([50m, 25m, 25m], experiment["variants"]!.AsArray().Select(v => v!["weight"]!.GetValue<decimal>()));
        var (_, results) = await GetAsync(client, $"/api/experiments/{experiment.Str("id")}/results");
        var exposures = results!["variants"]!.AsArray().Sum(v => v!["exposures"]!.GetValue<long>());
        Assert.InRange(exposures, 100, 600);

        // A second run reuses the prompt's versions; while the first experiment still runs it refuses to start another.
        var again = await Cli.RunAsync(Server, null, "demo", "--prompt", prompt, "--users", "50");
        if (experiment.Str("status") == "running")
        {
            Assert.Equal(1, again.ExitCode);
            Assert.Contains("already runs experiment", again.Error);
        }
        else
        {
            Assert.True(again.ExitCode == 0, again.ToString());
            var (_, versions) = await GetAsync(client, $"/api/prompts/{prompt}/versions");
            Assert.Equal(3, versions!["versions"]!.AsArray().Count);
        }
    }
}
