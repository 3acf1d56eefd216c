using PromptVault.Server.Tests.Api;

namespace PromptVault.Server.Tests.Postgres;

/// <summary>POST /api/metrics on a server on PostgreSQL refuses as on SQLite.</summary>
public sealed class PostgresMetricsTests
{
    [Fact]
    public async Task AnUnknownVersionOrExperiment_IsEchoedAsEveryNotFoundIs()
    {
        await using var servers = await SharedDatabaseServers.StartAsync(count: 1, cancellationToken: TestContext.Current.CancellationToken);

        await MetricsApiTests.AssertUnknownReferencesEchoedAsync(servers.A);
    }
}
