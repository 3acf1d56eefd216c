using Dapper;
using Npgsql;
using PromptVault.Core;
using PromptVault.Core.Metrics;
using PromptVault.Core.Storage;
using PromptVault.Storage.Testing;
using static PromptVault.Storage.Testing.Samples;

namespace PromptVault.Storage.Postgres.Tests;

/// <summary>
/// The metric batches' group commit: one writer per store takes the batches queued by concurrent requests and stores them
/// in one transaction. Each test holds the version's aggregate lock first, so the writer waits inside its first group while
/// the other batches queue up behind it, and the grouping is known.
/// </summary>
public sealed class PostgresMetricWriterTests : IAsyncDisposable
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private PostgresTestDatabase? database;
    private PostgresPromptStore? writingStore;
    private NpgsqlConnection? blocker;

    public async ValueTask DisposeAsync()
    {
        if (writingStore is not null)
            await writingStore.DisposeAsync();
        if (database is not null)
            await database.DisposeAsync();
    }

    [Fact]
    public async Task RecordEventsAsync_ManyClientsAtOnce_GroupedByEventsAndEveryEventCountedOnce()
    {
        var (store, version) = await CreateStoreAsync(maxEventsPerGroup: 1_000);
        var batches = Enumerable.Range(0, 200)
            .Select(b => Enumerable.Range(0, 50).Select(i => Event(version, Now.AddMinutes(i % 3 * 60), $"event-{b}-{i}") with { LatencyMs = b + i }).ToArray())
            .ToList();
        // Every fifth batch is sent twice, by two clients at once: its events count once.
        var sends = batches.SelectMany((batch, b) => b % 5 == 0 ? new[] { batch, batch } : [batch]).ToList();

        List<MetricRecordResult> results;
        await using (var locked = await LockAggregatesAsync(version))
        {
            var first = store.RecordEventsAsync(sends[0], null, Cancel);
            await AdvisoryLockWaits.WriterWaitsAsync(locked); // taken: the writer waits for the lock
            var rest = sends.Skip(1).Select(batch => Task.Run(() => store.RecordEventsAsync(batch, null, Cancel), Cancel)).ToList();
            await Eventually(() => store.QueuedMetricBatches == sends.Count - 1);
            Assert.False(first.IsCompleted);
            results = [.. await UnlockAndWaitAsync(rest.Prepend(first))];
        }

        // The first group holds the first batch; the 239 after it go 20 at a time (1,000 events each), the last 19.
        Assert.Equal(1 + 12, store.CommittedMetricGroups);
        Assert.Equal(batches.Count * 50, results.Sum(r => r.Stored));
        Assert.Equal(40 * 50, results.Sum(r => r.DuplicateIds.Count));
        var events = batches.SelectMany(b => b).ToList();
        AggregateAssert.Equal(Aggregate(events), await store.ReadVersionTotalAsync(version, Cancel));
        var hours = await store.ReadVersionHoursAsync(version, DateTimeOffset.MinValue, Cancel);
        Assert.Equal([17L, 17L, 16L], hours.Select(h => h.Aggregate.Count / batches.Count));
        Assert.Equal(events.Count, await CountStoredEventsAsync());
    }

    [Fact]
    public async Task RecordEventsAsync_OneGroup_BadBatchAndReusedKey_RefusedAloneNeighboursStored()
    {
        var (store, version) = await CreateStoreAsync();
        var idempotency = new IdempotencyRecord("owner", "key-1", "hash", "{}", Now, Now.AddDays(1));

        Task<MetricRecordResult> first, good1, bad, reused, repeated, good2;
        await using (var locked = await LockAggregatesAsync(version))
        {
            first = store.RecordEventsAsync([Event(version, Now, "first")], null, Cancel);
            await AdvisoryLockWaits.WriterWaitsAsync(locked);
            good1 = store.RecordEventsAsync([Event(version, Now, "good-1"), Event(version, Now, "shared")], _ => idempotency, Cancel);
            bad = store.RecordEventsAsync([Event(version, Now, "bad-1"), Event("no-such-version", Now, "bad-2")], null, Cancel);
            reused = store.RecordEventsAsync([Event(version, Now, "reused-1")], _ => idempotency, Cancel);
            repeated = store.RecordEventsAsync([Event(version, Now, "shared"), Event(version, Now, "first")], null, Cancel);
            good2 = store.RecordEventsAsync([Event(version, Now, "good-2"), Event(version, Now, "bad-1")], null, Cancel);
            await Eventually(() => store.QueuedMetricBatches == 5);
            await UnlockAndWaitAsync([first]);
        }

        Assert.Equal("version_not_found", (await Assert.ThrowsAsync<NotFoundException>(() => bad)).Code);
        await Assert.ThrowsAsync<ConcurrentWriteException>(() => reused);
        Assert.Equal(2, (await good1).Stored);
        // Its ids were stored by the group before it, and by a batch of its own group: counted once, reported as duplicates.
        Assert.Equal(0, (await repeated).Stored);
        Assert.Equal(["shared", "first"], (await repeated).DuplicateIds);
        // The refused batch's id is free: a later batch of the group stores it.
        Assert.Equal(2, (await good2).Stored);
        Assert.Equal(2, store.CommittedMetricGroups);
        Assert.Equal(5, (await store.ReadVersionTotalAsync(version, Cancel)).Count);
        await using var connection = await database!.DataSource.OpenConnectionAsync(Cancel);
        Assert.Equal(["bad-1", "first", "good-1", "good-2", "shared"], await connection.QueryAsync<string>("SELECT id FROM metric_events ORDER BY id"));
        Assert.Equal(["key-1"], await connection.QueryAsync<string>("SELECT key FROM idempotency_keys"));
    }

    [Fact]
    public async Task RecordEventsAsync_DiskFull_FailsAsStoreFull_NothingStored_TheNextBatchWrites()
    {
        var (store, version) = await CreateStoreAsync();
        await using var connection = await database!.DataSource.OpenConnectionAsync(Cancel);
        // The server's own SQLSTATE 53100, raised where a full disk would raise it: while the events are written.
        await connection.ExecuteAsync("""
            CREATE FUNCTION refuse_as_disk_full() RETURNS trigger LANGUAGE plpgsql
                AS $$ BEGIN RAISE EXCEPTION 'could not extend file' USING ERRCODE = 'disk_full'; END $$;
            CREATE TRIGGER disk_full BEFORE INSERT ON metric_events FOR EACH ROW EXECUTE FUNCTION refuse_as_disk_full();
            """);

        var full = await Assert.ThrowsAsync<StoreFullException>(() => store.RecordEventsAsync([Event(version, Now, "event-1")], null, Cancel));

        Assert.Contains("disk is full", full.Message, StringComparison.Ordinal);
        Assert.Equal(0, (await store.ReadVersionTotalAsync(version, Cancel)).Count);
        await connection.ExecuteAsync("DROP TRIGGER disk_full ON metric_events");
        Assert.Equal(1, (await store.RecordEventsAsync([Event(version, Now, "event-1")], null, Cancel)).Stored);
        Assert.Equal(1, (await store.ReadVersionTotalAsync(version, Cancel)).Count);
    }

    private async Task<(PostgresPromptStore Store, string Version)> CreateStoreAsync(int maxEventsPerGroup = 8_192)
    {
        database = await PostgresServer.CreateDatabaseAsync(cancellationToken: Cancel);
        var seeder = database.CreateStore();
        var (_, version, _) = await SeedPromptAsync(seeder, "measured");
        writingStore = new PostgresPromptStore(database.DataSource, exposureQueueCapacity: 1_024, maxEventsPerGroup);
        return (writingStore, version.Id);
    }

    /// <summary>Takes the version's aggregate lock (the one writers take before changing its rollups) on a connection of the test's.</summary>
    private async Task<NpgsqlConnection> LockAggregatesAsync(string versionId)
    {
        blocker = await database!.DataSource.OpenConnectionAsync(Cancel);
        await blocker.ExecuteAsync("SELECT pg_advisory_lock(hashtextextended('version:' || @versionId, 0))", new { versionId });
        return blocker;
    }

    private async Task<MetricRecordResult[]> UnlockAndWaitAsync(IEnumerable<Task<MetricRecordResult>> writes)
    {
        await blocker!.ExecuteAsync("SELECT pg_advisory_unlock_all()");
        return await Task.WhenAll(writes);
    }

    private async Task<long> CountStoredEventsAsync()
    {
        await using var connection = await database!.DataSource.OpenConnectionAsync(Cancel);
        return await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM metric_events");
    }

    private static MetricAggregate Aggregate(IEnumerable<MetricEvent> events)
    {
        var aggregate = new MetricAggregate();
        foreach (var e in events)
            aggregate.Add(e);
        return aggregate;
    }
}
