using System.Net;
using System.Text.Json.Nodes;
using static PromptVault.Server.Tests.ApiCalls;
using static PromptVault.Server.Tests.Postgres.SharedDatabaseTests;

namespace PromptVault.Server.Tests.Postgres;

/// <summary>Metric events sent to two servers on one PostgreSQL database at once add up exactly: no lost update to an aggregate.</summary>
public sealed class SharedDatabaseMetricsTests
{
    // 20 batches of 1,000, 8 in flight at once across both servers, all on the same three versions and one experiment:
    // every batch contends for the same aggregates' locks. The store's own exact-count test sends 100,000
    // (PostgresConcurrentWritersTests); this one proves the same through two servers' HTTP paths.
    private const int Units = 2_000;
    private const int EventsPerUnit = 10;
    private const int BatchSize = 1_000;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task TwentyThousandEvents_SentToBothAtOnce_AddUpExactly_InVersionMetricsAndExperimentResults()
    {
        await using var servers = await SharedDatabaseServers.StartAsync(cancellationToken: Cancel);
        var (a, b) = (servers.A, servers.B);
        var (name, versionIds) = await Experiments.CreatePromptWithChallengersAsync(a);
        var experiment = await Experiments.CreateAsync(a, new
        {
            name = UniqueName("exp"), prompt = name, description = "load",
            variants = new object[]
            {
                new { name = "control", versionId = versionIds[0], weight = 50 },
                new { name = "casual", versionId = versionIds[1], weight = 25 },
                new { name = "structured", versionId = versionIds[2], weight = 25 },
            },
            targetMetric = "conversionRate",
            minimumSampleSize = 1_000_000, // never completes by itself here
        });
        var experimentId = experiment.Str("id");
        await Experiments.MoveAsync(a, experimentId, "start");
        await Eventually(() => RenderAsync(b, name, "unit-0"), r => r["experimentId"] is not null);

        // Each unit is exposed through one of the servers; unit i converts once when i % 3 == 0.
        var served = new (string VersionId, string VariantId)[Units];
        await Parallel.ForAsync(0, Units, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = Cancel }, async (unit, _) =>
        {
            var rendered = await RenderAsync(unit % 2 == 0 ? a : b, name, $"unit-{unit}");
            served[unit] = (rendered.Str("versionId"), rendered.Str("variantId"));
        });
        var events = Enumerable.Range(0, Units * EventsPerUnit).Select(i =>
        {
            var unit = i % Units;
            var round = i / Units;
            return new
            {
                id = $"event-{i}", versionId = served[unit].VersionId, experimentId, variantId = served[unit].VariantId, unitId = $"unit-{unit}",
                converted = round == 0 && unit % 3 == 0, latencyMs = 100 + i % 50, inputTokens = 10 + i % 7, outputTokens = 20, cost = 0.25,
            };
        }).Chunk(BatchSize).ToList();

        await Parallel.ForAsync(0, events.Count, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = Cancel }, async (batch, _) =>
        {
            var (status, body) = await PostAsync(batch % 2 == 0 ? a : b, "/api/metrics", new { events = events[batch] });
            Assert.True(status == HttpStatusCode.OK, body?.ToJsonString());
        });
        // A batch sent again (a client's retry, to the other server) counts once.
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(b, "/api/metrics", new { events = events[0] })).Status);

        var all = events.SelectMany(batch => batch).ToList();
        for (var v = 0; v < 3; v++)
        {
            var sent = all.Where(e => e.versionId == versionIds[v]).ToList();
            var (status, metrics) = await GetAsync(v % 2 == 0 ? a : b, $"/api/prompts/{name}/versions/1.0.{v}/metrics?period=all");
            Assert.Equal(HttpStatusCode.OK, status);
            var summary = metrics!["summary"]!;
            Assert.Equal(sent.Count, summary["count"]!.GetValue<long>());
            Assert.Equal(sent.Count(e => e.converted), summary["conversions"]!.GetValue<long>());
            Assert.Equal(sent.Sum(e => (long)e.inputTokens), summary["inputTokens"]!["total"]!.GetValue<double>());
            Assert.Equal(sent.Count * 0.25, summary["cost"]!["total"]!.GetValue<double>());
            Assert.Equal(sent.Average(e => (double)e.latencyMs), summary["latencyMs"]!["mean"]!.GetValue<double>(), 9);
        }
        Assert.Equal(Units * EventsPerUnit, (long)Enumerable.Range(0, 3).Sum(v => all.Count(e => e.versionId == versionIds[v])));

        // Exposures from renders are written in batches; the results settle once they are all in.
        var results = await Eventually(async () => (await GetAsync(a, $"/api/experiments/{experimentId}/results")).Body!,
            r => r["variants"]!.AsArray().Sum(v => v!["exposures"]!.GetValue<long>()) == Units, TimeSpan.FromSeconds(10));
        foreach (var variant in results["variants"]!.AsArray())
        {
            var units = Enumerable.Range(0, Units).Where(u => served[u].VariantId == variant.Str("variantId")).ToList();
            var conversion = variant!["metrics"]!["conversionRate"]!;
            Assert.Equal(units.Count, variant["exposures"]!.GetValue<long>());
            Assert.Equal(units.Count, conversion["n"]!.GetValue<long>());
            Assert.Equal((double)units.Count(u => u % 3 == 0) / units.Count, conversion["value"]!.GetValue<double>(), 12);
            Assert.Equal(0, variant["unattributedEvents"]!.GetValue<long>());
        }
        var (_, onB) = await GetAsync(b, $"/api/experiments/{experimentId}/results");
        Assert.Equal(Strip(results), Strip(onB!));
    }

    /// <summary>The results without the time they were computed at, to compare two servers' answers.</summary>
    private static string Strip(JsonNode results)
    {
        var copy = results.DeepClone().AsObject();
        foreach (var field in new[] { "computedAt", "generatedAt", "asOf" }) copy.Remove(field);
        return copy.ToJsonString();
    }
}
