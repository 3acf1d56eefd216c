using System.Data.Common;
using Dapper;
using PromptVault.Core.Storage;
using PromptVault.Storage.Testing;

namespace PromptVault.Storage.Postgres.Tests;

public sealed class PostgresWebhookStoreTests : WebhookStoreContractTests, IAsyncDisposable
{
    private PostgresTestDatabase? database;

    protected override async Task<(IPromptStore Prompts, IWebhookStore Webhooks)> CreateStoreAsync()
    {
        database = await PostgresServer.CreateDatabaseAsync(cancellationToken: Cancel);
        var store = database.CreateStore();
        return (store, store);
    }

    protected override async Task<DbConnection> OpenConnectionAsync() => await database!.DataSource.OpenConnectionAsync(Cancel);

    [Fact]
    public async Task ClaimDeliveriesSql_WithABacklog_ReadsEachWebhooksFirstDeliveriesThroughAnIndex_NeverEveryPendingOne()
    {
        await CreateStoreAsync();
        var store = database!.CreateStore();
        await using var connection = await database.DataSource.OpenConnectionAsync(Cancel);
        // A day's backlog of three receivers, every delivery due, and statistics that say so.
        await connection.ExecuteAsync("""
            INSERT INTO webhooks (id, url, events, secret, created_at, created_by)
            SELECT 'w' || n, 'http://127.0.0.1:1/w' || n, '["version.created"]', 'whsec_test', '2025-01-01', 'carol' FROM generate_series(1, 3) n;
            INSERT INTO webhook_deliveries (webhook_id, event, payload, status, attempts, created_at, next_attempt_at)
            SELECT 'w' || (n % 3 + 1), 'version.created', '{}', 'pending', 0, '2025-01-01', to_char(n, 'FM000000') FROM generate_series(1, 30000) n;
            ANALYZE webhooks, webhook_deliveries;
            """);

        var plan = string.Join("\n", await connection.QueryAsync<string>("EXPLAIN " + store.ClaimDeliveriesSql,
            WebhookStatements.ClaimParameters("a", Samples.Now, Samples.Now.AddMinutes(1), 16, 4)));

        // Per webhook, a walk of its pending deliveries in claim order that stops at the LIMIT; in flight ones counted by index.
        Assert.Matches(@"Limit .*\n\s*->  Index Scan using ix_webhook_deliveries_pending on webhook_deliveries \w+ .*\n\s*Index Cond: \(\(webhook_id = w\.id\) AND \(next_attempt_at <=", plan);
        Assert.Matches(@"Index (Only )?Scan using ix_webhook_deliveries_leased on webhook_deliveries sending .*\n\s*Index Cond: \(\(webhook_id = w\.id\)", plan);
        Assert.DoesNotContain("Seq Scan on webhook_deliveries", plan);
        Assert.DoesNotContain("ix_webhook_deliveries_due", plan);
    }

    public ValueTask DisposeAsync() => database?.DisposeAsync() ?? ValueTask.CompletedTask;
}
