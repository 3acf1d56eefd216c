using System.Net;
using static PromptVault.Server.Tests.ApiCalls;

namespace PromptVault.Server.Tests.Postgres;

/// <summary>The Prometheus scrape of a server on PostgreSQL reports what one on SQLite does (docs/observability.md).</summary>
public sealed class PostgresObservabilityTests
{
    [Fact]
    public async Task TheScrape_ReportsTheDepthOfBothWriteQueues()
    {
        await using var servers = await SharedDatabaseServers.StartAsync(count: 1, settings: ["--PromptVault:Metrics:Prometheus=true"],
            cancellationToken: TestContext.Current.CancellationToken);
        var name = await CreateSupportPromptAsync(servers.A);
        var (_, version) = await GetAsync(servers.A, $"/api/prompts/{name}/versions/1.0.0");
        var (status, recorded) = await PostAsync(servers.A, "/api/metrics", new { events = new[] { new { versionId = version.Str("id"), latencyMs = 12 } } });
        Assert.True(status == HttpStatusCode.OK, recorded?.ToJsonString());

        var scrape = await servers.A.GetStringAsync("/metrics", TestContext.Current.CancellationToken);

        // Other servers of this test process report under the same names, so this says the series exists, not whose it is.
        foreach (var queue in new[] { "writes", "exposures" })
            Assert.Contains(scrape.Split('\n'), line => line.StartsWith("promptvault_write_queue_depth{", StringComparison.Ordinal)
                && line.Contains($"promptvault_queue=\"{queue}\"", StringComparison.Ordinal));
    }
}
