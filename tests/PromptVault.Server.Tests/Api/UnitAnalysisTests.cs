using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using PromptVault.Core.Auth;
using PromptVault.Core.Storage;
using static PromptVault.Server.Tests.ApiCalls;
using static PromptVault.Server.Tests.Experiments;

namespace PromptVault.Server.Tests.Api;

/// <summary>Experiments are analysed by exposed unit (SPEC §3): what counts, what is unattributed, and what is refused.</summary>
public sealed class UnitAnalysisTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private static readonly object Variables = new { company_name = "Acme" };

    private readonly HttpClient _client = fixture.Server.CreateClient();

    [Fact]
    public async Task EventsWithoutExposures_DoNotCompleteTheExperiment_AndAreReportedUnattributed()
    {
        var (name, versions) = await CreatePromptWithChallengersAsync(_client);
        var experiment = await StartTwoWayAsync(name, versions);
        var id = experiment.Str("id");
        using var writer = fixture.Server.CreateClient(await fixture.Server.CreateKeyAsync("writer", ApiKeyRole.Writer, TestContext.Current.CancellationToken));

        // Fabricated events: a 10% against a 50% conversion, 1,500 per variant, from units the server never served. Counted per
        // event, this completes the experiment and promotes casual within the first batch.
        for (var batch = 0; batch < 3; batch++)
        {
            var events = new List<object>();
            foreach (var arm in new[] { "control", "casual" })
            {
                for (var k = batch * 500; k < (batch + 1) * 500; k++)
                {
                    events.Add(new
                    {
                        versionId = VersionOf(experiment, arm), experimentId = id, variantId = VariantId(experiment, arm), unitId = $"{arm}-{k}",
                        converted = arm == "control" ? k % 10 == 0 : k % 2 == 0,
                    });
                }
            }
            await RecordAsync(writer, events);
        }

        var (_, current) = await GetAsync(_client, $"/api/experiments/{id}");
        Assert.Equal("running", current.Str("status"));
        var (_, prompt) = await GetAsync(_client, $"/api/prompts/{name}");
        Assert.Equal("1.0.0", prompt!["labels"]!["production"]!.GetValue<string>());
        var (_, results) = await GetAsync(_client, $"/api/experiments/{id}/results");
        Assert.Null(results!["winner"]);
        foreach (var variant in results["variants"]!.AsArray())
        {
            Assert.Equal(0, variant!["exposures"]!.GetValue<long>());
            Assert.Equal(0, variant["metrics"]!["conversionRate"]!["n"]!.GetValue<long>());
            Assert.Equal(1_500, variant["unattributedEvents"]?.GetValue<long>());
        }
        // They still count for their versions (SPEC §4).
        var (_, metrics) = await GetAsync(_client, $"/api/prompts/{name}/versions/1.0.1/metrics?period=all");
        Assert.Equal(1_500, metrics!["summary"]!["count"]!.GetValue<long>());
    }

    [Fact]
    public async Task AUnitWhoseExposureArrivesAfterItsEvents_Counts()
    {
        var (name, versions) = await CreatePromptWithChallengersAsync(_client);
        var experiment = await StartTwoWayAsync(name, versions);
        var id = experiment.Str("id");
        // Twelve units, each with two events for its own variant before it is served; every third unit converts.
        var units = new List<(string UnitId, string VariantId, string VersionId, bool Converted)>();
        for (var u = 0; u < 12; u++)
        {
            var (_, assignment) = await GetAsync(_client, $"/api/experiments/{id}/assignment?unitId=late-{u}");
            units.Add(($"late-{u}", assignment.Str("variantId"), assignment.Str("versionId"), u % 3 == 0));
        }
        await RecordAsync(_client, units.SelectMany(u => new object[]
        {
            new { versionId = u.VersionId, experimentId = id, variantId = u.VariantId, unitId = u.UnitId, latencyMs = 100, converted = false },
            new { versionId = u.VersionId, experimentId = id, variantId = u.VariantId, unitId = u.UnitId, latencyMs = 300, converted = u.Converted },
        }));
        var before = await VariantsAsync(id);

        foreach (var (unitId, variantId, _, _) in units)
        {
            var (status, rendered) = await PostAsync(_client, $"/api/prompts/{name}/render", new { variables = Variables, unitId });
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal(variantId, rendered.Str("variantId"));
        }

        var after = await VariantsAsync(id);
        foreach (var group in units.GroupBy(u => u.VariantId))
        {
            var (was, now) = (before[group.Key], after[group.Key]);
            Assert.Equal(0, was["metrics"]!["conversionRate"]!["n"]!.GetValue<long>());
            Assert.Equal(2 * group.Count(), was["unattributedEvents"]?.GetValue<long>());
            Assert.Equal(group.Count(), now["exposures"]!.GetValue<long>());
            Assert.Equal(group.Count(), now["metrics"]!["conversionRate"]!["n"]!.GetValue<long>());
            Assert.Equal((double)group.Count(u => u.Converted) / group.Count(), now["metrics"]!["conversionRate"]!["value"]!.GetValue<double>(), 12);
            Assert.Equal(group.Count(), now["metrics"]!["avgLatencyMs"]!["n"]!.GetValue<long>());
            Assert.Equal(200, now["metrics"]!["avgLatencyMs"]!["value"]!.GetValue<double>(), 9);
            Assert.Equal(0, now["unattributedEvents"]?.GetValue<long>());
        }
    }

    [Theory]
    [InlineData("draft")]
    [InlineData("cancelled")]
    public async Task EventsNamingADraftOrCancelledExperiment_Return409_AndStoreNothing(string status)
    {
        var (name, versions) = await CreatePromptWithChallengersAsync(_client);
        var experiment = await CreateAsync(_client, ThreeWay(name, versions));
        if (status == "cancelled")
            await MoveAsync(_client, experiment.Str("id"), "cancel");

        var (code, problem) = await PostAsync(_client, "/api/metrics", new
        {
            events = new object[]
            {
                new { versionId = versions[0], latencyMs = 5 },
                new { versionId = versions[1], experimentId = experiment.Str("id"), variantId = VariantId(experiment, "casual"), unitId = "u", converted = true },
            },
        });

        Assert.Equal(HttpStatusCode.Conflict, code);
        Assert.Equal(("experiment_not_accepting_events", "events[1].experimentId"), (problem.Str("code"), problem.Str("field")));
        Assert.Contains(status, problem.Str("detail"));
        // The answer says what to do (it said only that nothing was stored), and doing it works.
        Assert.EndsWith("No event of the batch was stored: send the batch again without this event (or with its experimentId, variantId and unitId left out, to count it for its version alone).",
            problem.Str("detail"));
        var (_, metrics) = await GetAsync(_client, $"/api/prompts/{name}/versions/1.0.0/metrics?period=all");
        Assert.Equal(0, metrics!["summary"]!["count"]!.GetValue<long>());
        var (resent, _) = await PostAsync(_client, "/api/metrics", new
        {
            events = new object[] { new { versionId = versions[0], latencyMs = 5 }, new { versionId = versions[1], converted = true } },
        });
        Assert.Equal(HttpStatusCode.OK, resent);
    }

    [Theory]
    [InlineData("pause")]
    [InlineData("complete")]
    public async Task EventsNamingAPausedOrCompletedExperiment_AreStored(string verb)
    {
        var (name, versions) = await CreatePromptWithChallengersAsync(_client);
        var experiment = await StartTwoWayAsync(name, versions);
        var (_, rendered) = await PostAsync(_client, $"/api/prompts/{name}/render", new { variables = Variables, unitId = "served" });
        await MoveAsync(_client, experiment.Str("id"), verb);

        var recorded = await RecordAsync(_client, [new
        {
            versionId = rendered.Str("versionId"), experimentId = experiment.Str("id"), variantId = rendered.Str("variantId"), unitId = "served", converted = true,
        }]);

        Assert.Equal(1, recorded["stored"]!.GetValue<int>());
        var variant = (await VariantsAsync(experiment.Str("id")))[rendered.Str("variantId")];
        Assert.Equal(1, variant["metrics"]!["conversionRate"]!["value"]!.GetValue<double>());
    }

    [Fact]
    public async Task ReadingResults_WritesNothing_WhileAMetricsBatchStoresItsLook()
    {
        var (name, versions) = await CreatePromptWithChallengersAsync(_client);
        var id = (await StartTwoWayAsync(name, versions)).Str("id");
        var store = fixture.Server.Services.GetRequiredService<IExperimentStore>();
        var (_, rendered) = await PostAsync(_client, $"/api/prompts/{name}/render", new { variables = Variables, unitId = "looker" });

        await GetAsync(_client, $"/api/experiments/{id}/results");
        var afterRead = await store.ReadSequentialStateAsync(id, TestContext.Current.CancellationToken);
        await RecordAsync(_client, [new { versionId = rendered.Str("versionId"), experimentId = id, variantId = rendered.Str("variantId"), unitId = "looker", converted = true }]);
        var afterBatch = await store.ReadSequentialStateAsync(id, TestContext.Current.CancellationToken);

        Assert.Null(afterRead);
        Assert.NotNull(afterBatch);
    }

    private async Task<JsonNode> StartTwoWayAsync(string name, string[] versions)
    {
        var experiment = await CreateAsync(_client, new
        {
            name = UniqueName("units"),
            prompt = name,
            variants = new object[] { new { name = "control", versionId = versions[0], weight = 50 }, new { name = "casual", versionId = versions[1], weight = 50 } },
            targetMetric = "conversionRate",
            minimumSampleSize = 100,
            promoteWinner = true,
        });
        return await MoveAsync(_client, experiment.Str("id"), "start");
    }

    private async Task<Dictionary<string, JsonNode>> VariantsAsync(string id)
    {
        var (_, results) = await GetAsync(_client, $"/api/experiments/{id}/results");
        return results!["variants"]!.AsArray().ToDictionary(v => v.Str("variantId"), v => v!);
    }

    private static string VersionOf(JsonNode experiment, string variantName) =>
        experiment["variants"]!.AsArray().Single(v => v.Str("name") == variantName).Str("versionId");
}
