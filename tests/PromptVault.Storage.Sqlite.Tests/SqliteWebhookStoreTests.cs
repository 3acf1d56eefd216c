using System.Data.Common;
using Dapper;
using PromptVault.Core.Storage;
using PromptVault.Storage.Testing;

namespace PromptVault.Storage.Sqlite.Tests;

public sealed class SqliteWebhookStoreTests : WebhookStoreContractTests, IDisposable
{
    private readonly TempDatabase database = new();

    protected override async Task<(IPromptStore Prompts, IWebhookStore Webhooks)> CreateStoreAsync()
    {
        var store = await database.CreateStoreAsync();
        return (store, store);
    }

    protected override async Task<DbConnection> OpenConnectionAsync() => await database.Connections.OpenAsync(Cancel);

    [Fact]
    public async Task ClaimDeliveriesSql_ReadsEachWebhooksFirstDeliveriesThroughAnIndex_NeverEveryPendingOne()
    {
        var store = await database.CreateStoreAsync();
        await using var connection = await database.Connections.OpenAsync(Cancel);

        var plan = (await connection.QueryAsync<(long, long, long, string Detail)>("EXPLAIN QUERY PLAN " + store.ClaimDeliveriesSql,
            WebhookStatements.ClaimParameters("a", Samples.Now, Samples.Now.AddMinutes(1), 16, 4))).Select(r => r.Detail).ToList();

        Assert.Contains("SEARCH webhook_deliveries USING INDEX ix_webhook_deliveries_pending (webhook_id=? AND next_attempt_at<?)", plan);
        Assert.Contains("SEARCH sending USING INDEX ix_webhook_deliveries_leased (webhook_id=? AND lease_until>?)", plan);
        // Every other read of a delivery is one row by its id: nothing walks all pending (or all due) deliveries, nor all of them.
        Assert.All(plan.Where(line => line.StartsWith("SEARCH", StringComparison.Ordinal) || line.StartsWith("SCAN", StringComparison.Ordinal))
                .Except(plan.Where(line => line.Contains("ix_webhook_deliveries_pending", StringComparison.Ordinal) || line.Contains("ix_webhook_deliveries_leased", StringComparison.Ordinal))),
            line => Assert.Matches(@"^SCAN (w USING (COVERING )?INDEX sqlite_autoindex_webhooks_1|ranked|\(subquery-\d+\))$|^SEARCH (webhooks USING INDEX sqlite_autoindex_webhooks_1|api_keys USING INDEX sqlite_autoindex_api_keys_1) \(id=\?\)$|USING INTEGER PRIMARY KEY \(rowid=\?\)$", line));
    }

    [Fact]
    public async Task MigrateAsync_WebhookClaimIndexes_OnADatabaseWithABacklog_KeepsItClaimable()
    {
        var migrations = await MigrateThroughWithDeliveriesAsync(13, """
            ('w', 'version.created', '{"n":1}', 'pending', 0, '2025-01-01', '2025-01-01'),
            ('w', 'version.created', '{"n":2}', 'delivered', 1, '2025-01-01', NULL)
            """);

        Assert.Equal(1, await migrations.MigrateAsync(throughVersion: 14, Cancel));
        await migrations.MigrateAsync(Cancel); // today's store claims with the columns later migrations add

        var claimed = Assert.Single(await database.CreateStore().ClaimDeliveriesAsync("a", Samples.Now, Samples.Now.AddMinutes(1), 16, 4, Cancel));
        Assert.Equal("{\"n\":1}", claimed.Payload);
    }

    [Fact]
    public async Task MigrateAsync_DropWebhookDueIndex_RemovesIt_AndDeliveriesStayClaimable()
    {
        var migrations = await MigrateThroughWithDeliveriesAsync(14, "('w', 'version.created', '{\"n\":1}', 'pending', 0, '2025-01-01', '2025-01-01')");

        Assert.Equal(1, await migrations.MigrateAsync(throughVersion: 15, Cancel));

        await using (var connection = await database.Connections.OpenAsync(Cancel))
            Assert.Equal(["ix_webhook_deliveries_leased", "ix_webhook_deliveries_pending", "ix_webhook_deliveries_webhook"], await connection.QueryAsync<string>(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'webhook_deliveries' AND sql IS NOT NULL ORDER BY name"));
        await migrations.MigrateAsync(Cancel);
        var claimed = Assert.Single(await database.CreateStore().ClaimDeliveriesAsync("a", Samples.Now, Samples.Now.AddMinutes(1), 16, 4, Cancel));
        Assert.Equal("{\"n\":1}", claimed.Payload);
    }

    [Fact]
    public async Task MigrateAsync_WebhookKey_LeavesAnExistingWebhookWithNoKey_StillDelivering()
    {
        var migrations = await MigrateThroughWithDeliveriesAsync(18, "('w', 'version.created', '{\"n\":1}', 'pending', 0, '2025-01-01', '2025-01-01')");

        Assert.Equal(1, await migrations.MigrateAsync(throughVersion: 19, Cancel));

        var store = database.CreateStore();
        var webhook = await store.FindWebhookAsync("w", Cancel);
        Assert.Equal((null, null), (webhook!.KeyId, webhook.DisabledReason));
        var claimed = Assert.Single(await store.ClaimDeliveriesAsync("a", Samples.Now, Samples.Now.AddMinutes(1), 16, 4, Cancel));
        Assert.Equal("{\"n\":1}", claimed.Payload);
    }

    /// <summary>A database as PromptVault's migration <paramref name="version"/> left it, with webhook 'w' and its <paramref name="deliveries"/> (SQL rows).</summary>
    private async Task<SqliteDatabase> MigrateThroughWithDeliveriesAsync(int version, string deliveries)
    {
        var migrations = new SqliteDatabase(database.Connections);
        await migrations.MigrateAsync(throughVersion: version, Cancel);
        await using var connection = await database.Connections.OpenAsync(Cancel);
        await connection.ExecuteAsync($"""
            INSERT INTO webhooks (id, url, events, secret, created_at, created_by)
            VALUES ('w', 'http://127.0.0.1:1/w', '["version.created"]', 'whsec_test', '2025-01-01T00:00:00.0000000+00:00', 'carol');
            INSERT INTO webhook_deliveries (webhook_id, event, payload, status, attempts, created_at, next_attempt_at)
            VALUES {deliveries};
            """);
        return migrations;
    }

    public void Dispose() => database.Dispose();
}
