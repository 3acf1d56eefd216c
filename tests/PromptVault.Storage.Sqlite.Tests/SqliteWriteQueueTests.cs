using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using PromptVault.Core;
using PromptVault.Core.Analysis;
using PromptVault.Core.Experiments;
using PromptVault.Core.Metrics;
using PromptVault.Core.Storage;
using PromptVault.Storage.Testing;
using static PromptVault.Storage.Testing.Samples;

namespace PromptVault.Storage.Sqlite.Tests;

/// <summary>Group commit of exposures and metric batches: many writes per transaction, each acknowledged or refused on its own.</summary>
public sealed class SqliteWriteQueueTests : IDisposable
{
    private readonly TempDatabase database = new();

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public void Dispose() => database.Dispose();

    [Fact]
    public async Task ConcurrentExposuresAndBatches_AllStoredAndCountedOnce()
    {
        var store = await database.CreateStoreAsync();
        var (version, experiment) = await SeedAsync(store);

        // Every unit exposed twice and every event sent twice, all at once: each is stored and counted exactly once.
        var units = Enumerable.Range(0, 300).Select(i => $"unit-{i}").ToList();
        var batches = Enumerable.Range(0, 40)
            .Select(b => Enumerable.Range(0, 25).Select(i => Event(version, Now, id: $"event-{b}-{i}")).ToList()).ToList();
        var exposures = units.Concat(units).Select(unit => store.RecordExposureAsync(Exposure(experiment, unit), Cancel));
        var recorded = batches.Concat(batches).Select(batch => store.RecordEventsAsync(batch, null, Cancel));
        var firsts = await Task.WhenAll(exposures);
        var results = await Task.WhenAll(recorded);

        Assert.Equal(units.Count, firsts.Count(first => first));
        Assert.Equal(units.Count, (await store.CountExposuresAsync(experiment.Id, Cancel)).Values.Sum());
        Assert.Equal(1000, results.Sum(r => r.Stored));
        Assert.Equal(1000, results.Sum(r => r.DuplicateIds.Count));
        Assert.Equal(1000, (await store.ReadVersionTotalAsync(version, Cancel)).Count);
        await using var connection = await database.Connections.OpenAsync(Cancel);
        Assert.Equal(1000, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM metric_events"));
    }

    [Fact]
    public async Task OneGroup_BadBatchAndReusedKey_RefusedAloneNeighboursStored()
    {
        var store = await database.CreateStoreAsync();
        var (version, experiment) = await SeedAsync(store);
        var idempotency = Idempotency("key-1");

        Task<MetricRecordResult> good1, bad, reused, good2;
        Task<bool> first, exposure;
        await using (await WriteLockAsync())
        {
            // The writer takes the first write and waits for the lock; the next five queue behind it and go in one transaction.
            first = await TakenAloneAsync(store, () => store.RecordExposureAsync(Exposure(experiment, "unit-0"), Cancel));
            good1 = store.RecordEventsAsync([Event(version, Now, "good-1")], _ => idempotency, Cancel);
            bad = store.RecordEventsAsync([Event(version, Now, "bad-1"), Event("no-such-version", Now, "bad-2")], null, Cancel);
            reused = store.RecordEventsAsync([Event(version, Now, "reused-1")], _ => idempotency, Cancel);
            good2 = store.RecordEventsAsync([Event(version, Now, "good-2")], null, Cancel);
            exposure = store.RecordExposureAsync(Exposure(experiment, "unit-1"), Cancel);
            await WaitForQueuedAsync(store, 5);
            Assert.False(first.IsCompleted);
        }

        Assert.Equal("version_not_found", (await Assert.ThrowsAsync<NotFoundException>(() => bad)).Code);
        await Assert.ThrowsAsync<ConcurrentWriteException>(() => reused);
        Assert.Equal(1, (await good1).Stored);
        Assert.Equal(1, (await good2).Stored);
        Assert.True(await first);
        Assert.True(await exposure);
        Assert.Equal(2, (await store.CountExposuresAsync(experiment.Id, Cancel)).Values.Sum());
        Assert.Equal(2, (await store.ReadVersionTotalAsync(version, Cancel)).Count);
        await using var connection = await database.Connections.OpenAsync(Cancel);
        Assert.Equal(["good-1", "good-2"], await connection.QueryAsync<string>("SELECT id FROM metric_events ORDER BY id"));
    }

    [Fact]
    public async Task OneGroup_BatchesNamingTheSameUnits_UnitAnalysisEqualsFoldingTheStoredEvents_RefusedBatchLeavesNoTrace()
    {
        var store = await database.CreateStoreAsync();
        var (version, experiment) = await SeedAsync(store);
        var random = new Random(5);
        var exposed = new Dictionary<string, string>();
        List<MetricEvent> Batch(int events, int units) => Enumerable.Range(0, events).Select(_ =>
        {
            var unit = random.Next(units + 1) is var u && u == units ? null : $"unit-{u}"; // some events name no unit
            var variant = experiment.Variants[random.Next(2)];
            return Event(variant.VersionId, Now) with
            {
                ExperimentId = experiment.Id, VariantId = variant.Id, UnitId = unit, LatencyMs = random.Next(1, 5_000), Converted = random.Next(4) == 0,
            };
        }).ToList();
        // Stored before the group, so the group starts from stored unit rows and variant rows.
        var before = Batch(60, units: 20);
        await store.RecordEventsAsync(before, null, Cancel);
        var accepted = new[] { Batch(80, units: 20), Batch(80, units: 20) };
        // Refused after its units were folded: the version of its last event does not exist.
        var refused = Batch(40, units: 20).Append(Event("no-such-version", Now)).ToList();

        Task<bool> blocking, exposure;
        Task<MetricRecordResult> first, bad, second;
        long groups;
        await using (await WriteLockAsync())
        {
            blocking = await TakenAloneAsync(store, () => store.RecordExposureAsync(Exposure(experiment, "unit-0"), Cancel));
            groups = store.CommittedWriteGroups;
            first = store.RecordEventsAsync(accepted[0], null, Cancel);
            bad = store.RecordEventsAsync(refused, null, Cancel);
            second = store.RecordEventsAsync(accepted[1], null, Cancel);
            // Queued last, applied first: a group writes its exposures before its batches.
            exposure = store.RecordExposureAsync(Exposure(experiment, "unit-1"), Cancel);
            await WaitForQueuedAsync(store, 4);
        }
        await Assert.ThrowsAsync<NotFoundException>(() => bad);
        Assert.True(await blocking);
        Assert.True(await exposure);
        Assert.Equal(80, (await first).Stored);
        Assert.Equal(80, (await second).Stored);
        Assert.Equal(2, store.CommittedWriteGroups - groups);

        foreach (var unit in (string[])["unit-0", "unit-1"])
            exposed[unit] = Assignment.VariantFor(experiment, unit).Id;
        MetricEvent[] stored = [.. before, .. accepted[0], .. accepted[1]];
        UnitStatsAssert.Equal(UnitStatsAssert.Expected(stored, exposed), await store.ReadVariantUnitStatsAsync(experiment.Id, Cancel));
        Assert.Equal(stored.Count(e => e.VersionId == version), (await store.ReadVersionTotalAsync(version, Cancel)).Count);
        await using var connection = await database.Connections.OpenAsync(Cancel);
        var unitRows = (await connection.QueryAsync<(string Unit, string Variant, byte[] Sums)>("SELECT unit_id, variant_id, sums FROM unit_sums"))
            .ToDictionary(r => (r.Unit, r.Variant), r => UnitStatisticsCodec.DecodeUnitSums(r.Sums));
        var expectedRows = stored.Where(e => e.UnitId is not null).GroupBy(e => (e.UnitId!, e.VariantId!))
            .ToDictionary(g => g.Key, g => g.Aggregate(default(UnitSums), (s, e) => s.Add(e)));
        Assert.Equal(expectedRows.OrderBy(r => r.Key).Select(r => (r.Key, r.Value.Events, r.Value.Converted, r.Value.LatencyMs.Count)),
            unitRows.OrderBy(r => r.Key).Select(r => (r.Key, r.Value.Events, r.Value.Converted, r.Value.LatencyMs.Count)));
    }

    [Fact]
    public async Task OneGroup_BatchNamingAnUnreadableVariantRow_RefusedAloneNeighboursStored()
    {
        var store = await database.CreateStoreAsync();
        var (_, experiment) = await SeedAsync(store);
        var control = experiment.Control;
        var version = control.VersionId;
        await store.RecordEventsAsync([UnitEvent(experiment, control, "unit-0")], null, Cancel);
        await using (var damage = await database.Connections.OpenAsync(Cancel))
            await damage.ExecuteAsync("UPDATE variant_unit_stats SET stats = x'00'");

        Task<MetricRecordResult> blocking, before, bad, after;
        await using (await WriteLockAsync())
        {
            blocking = await TakenAloneAsync(store, () => store.RecordEventsAsync([Event(version, Now)], null, Cancel));
            before = store.RecordEventsAsync([Event(version, Now)], null, Cancel);
            bad = store.RecordEventsAsync([Event(version, Now), UnitEvent(experiment, control, "unit-1")], null, Cancel);
            after = store.RecordEventsAsync([Event(version, Now)], null, Cancel);
            await WaitForQueuedAsync(store, 3);
        }

        await Assert.ThrowsAsync<InvalidDataException>(() => bad);
        Assert.Equal(1, (await blocking).Stored);
        Assert.Equal(1, (await before).Stored);
        Assert.Equal(1, (await after).Stored);
        Assert.Equal(4, (await store.ReadVersionTotalAsync(version, Cancel)).Count);
    }

    [Fact]
    public async Task OneGroup_BatchAddingToAnUnreadableRollupRow_RefusedAloneNeighboursStored()
    {
        var store = await database.CreateStoreAsync();
        var (_, damaged, other) = await SeedPromptAsync(store, "rollups");
        await store.RecordEventsAsync([Event(damaged.Id, Now)], null, Cancel);
        await using (var damage = await database.Connections.OpenAsync(Cancel))
            await damage.ExecuteAsync("UPDATE metric_rollups SET aggregate = x'00' WHERE scope_id = @Id", new { damaged.Id });

        Task<MetricRecordResult> blocking, bad, good;
        await using (await WriteLockAsync())
        {
            blocking = await TakenAloneAsync(store, () => store.RecordEventsAsync([Event(other.Id, Now)], null, Cancel));
            bad = store.RecordEventsAsync([Event(damaged.Id, Now)], null, Cancel);
            good = store.RecordEventsAsync([Event(other.Id, Now)], null, Cancel);
            await WaitForQueuedAsync(store, 2);
        }

        // The damaged row is read by the write that adds to it, in its savepoint: that write alone is refused.
        await Assert.ThrowsAsync<InvalidDataException>(() => bad);
        Assert.Equal(1, (await blocking).Stored);
        Assert.Equal(1, (await good).Stored);
        Assert.Equal(2, (await store.ReadVersionTotalAsync(other.Id, Cancel)).Count);
        await using var connection = await database.Connections.OpenAsync(Cancel);
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM metric_events WHERE version_id = @Id", new { damaged.Id }));
    }

    [Fact]
    public async Task OneGroup_RenderExposureReadingAnUnreadableRow_LostAloneOtherExperimentsStored()
    {
        var store = await database.CreateStoreAsync();
        var (version, damaged) = await SeedRunningExperimentAsync(store, "damaged");
        var (_, other) = await SeedRunningExperimentAsync(store, "other");
        var poison = Exposure(damaged, "poison");
        // The unit has an event already, so its first exposure reads the variant's unit statistics, which are then damaged.
        await store.RecordEventsAsync([UnitEvent(damaged, damaged.Variants.Single(v => v.Id == poison.VariantId), "poison")], null, Cancel);
        await using (var damage = await database.Connections.OpenAsync(Cancel))
            await damage.ExecuteAsync("UPDATE variant_unit_stats SET stats = x'00' WHERE experiment_id = @Id", new { damaged.Id });

        for (var render = 0; render < 2; render++)
        {
            Task<MetricRecordResult> blocking;
            await using (await WriteLockAsync())
            {
                // The writer takes the batch and waits for the lock; the render exposures queued meanwhile form the next group.
                blocking = await TakenAloneAsync(store, () => store.RecordEventsAsync([Event(version.Id, Now)], null, Cancel));
                store.QueueExposure(poison);
                store.QueueExposure(Exposure(other, $"unit-{render}-a"));
                store.QueueExposure(Exposure(other, $"unit-{render}-b"));
            }
            await blocking;
        }

        Assert.Equal(4, (await store.CountExposuresAsync(other.Id, Cancel)).Values.Sum());
        Assert.Equal(0, (await store.CountExposuresAsync(damaged.Id, Cancel)).Values.Sum());
    }

    [Fact]
    public async Task WritersConnection_HasItsOwnCacheCheckpointAndTempStoreSettings_OnTopOfTheFactorys()
    {
        await database.CreateStoreAsync();
        await using var queue = new SqliteWriteQueue(database.Connections, capacity: 4, exposureCapacity: 4, maxGroupEvents: 100,
            (_, _) => Task.CompletedTask, (_, _) => { });

        var settings = await queue.EnqueueAsync(WriteKind.Events, 1, context =>
        {
            long Pragma(string name)
            {
                using var command = context.Connection.CreateCommand();
                command.CommandText = $"PRAGMA {name}";
                return (long)command.ExecuteScalar()!;
            }
            return Task.FromResult((Cache: Pragma("cache_size"), Checkpoint: Pragma("wal_autocheckpoint"), TempStore: Pragma("temp_store"),
                ForeignKeys: Pragma("foreign_keys")));
        }, Cancel);

        Assert.Equal((-65536L, 10000L, 2L, 1L), settings); // temp_store 2 is MEMORY
    }

    [Fact]
    public async Task WritersConnection_ClosedAfterAFailedGroup_LeavesItsSettingsToNoOtherConnection()
    {
        await database.CreateStoreAsync();
        await using var queue = new SqliteWriteQueue(database.Connections, capacity: 4, exposureCapacity: 4, maxGroupEvents: 100,
            (_, _) => Task.CompletedTask, (_, _) => { });
        // A write that ends the group's transaction behind its back fails the group, which closes the writer's connection.
        await Assert.ThrowsAsync<SqliteException>(() => queue.EnqueueAsync(WriteKind.Events, 1, EndTheGroupsTransaction, Cancel));

        // Every idle pooled connection at once, so the writer's would be among them had it gone back to the pool.
        var opened = new List<SqliteConnection>();
        try
        {
            for (var i = 0; i < 8; i++) opened.Add(await database.Connections.OpenAsync(Cancel));
            foreach (var connection in opened)
            {
                await using var command = connection.CreateCommand();
                command.CommandText = "PRAGMA cache_size";
                Assert.Equal(-2000L, (long)(await command.ExecuteScalarAsync(Cancel))!);
            }
        }
        finally
        {
            foreach (var connection in opened) await connection.DisposeAsync();
        }
    }

    [Fact]
    public async Task DiskFull_TheGroupFailsAsStoreFull_NothingStored_TheNextGroupWrites()
    {
        await database.CreateStoreAsync();
        await using (var setup = await database.Connections.OpenAsync(Cancel))
            await setup.ExecuteAsync("CREATE TABLE written (pad TEXT NOT NULL); CREATE INDEX written_pad ON written (pad);");
        await using var queue = new SqliteWriteQueue(database.Connections, capacity: 4, exposureCapacity: 4, maxGroupEvents: 100,
            (_, _) => Task.CompletedTask, (_, _) => { });
        // The disk fills: the writer's connection may not grow the file by more than a few pages.
        await queue.EnqueueAsync(WriteKind.Events, 1, async context =>
        {
            var pages = await context.Connection.ExecuteScalarAsync<long>("PRAGMA page_count", transaction: context.Transaction);
            return await context.Connection.ExecuteAsync($"PRAGMA max_page_count = {pages + 2}", transaction: context.Transaction);
        }, Cancel);

        // SQLite rolls the whole transaction back on a full disk, not only the write's savepoint: the group fails, and says why.
        var full = await Assert.ThrowsAsync<StoreFullException>(() => queue.EnqueueAsync(WriteKind.Events, 1, async context =>
        {
            for (var row = 0; row < 1000; row++)
                await context.Connection.ExecuteAsync("INSERT INTO written (pad) VALUES (@pad)", new { pad = new string('x', 2000) }, context.Transaction);
            return true;
        }, Cancel));
        Assert.Equal(13, Assert.IsType<SqliteException>(full.InnerException).SqliteErrorCode); // SQLITE_FULL

        // The failed group closed the writer's connection; the next one writes.
        await queue.EnqueueAsync(WriteKind.Events, 1, context =>
            context.Connection.ExecuteAsync("INSERT INTO written (pad) VALUES (x'01')", transaction: context.Transaction), Cancel);
        await using var connection = await database.Connections.OpenAsync(Cancel);
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM written"));
    }

    [Fact]
    public async Task Checkpointer_CopiesCommittedWritesIntoTheDatabaseFile_BeforeTheWritersOwnCheckpointWould()
    {
        await database.CreateStoreAsync();
        await using (var setup = await database.Connections.OpenAsync(Cancel))
            await setup.ExecuteAsync("CREATE TABLE written (n INTEGER NOT NULL); PRAGMA wal_checkpoint(TRUNCATE);");
        await using var queue = new SqliteWriteQueue(database.Connections, capacity: 4, exposureCapacity: 4, maxGroupEvents: 100,
            (_, _) => Task.CompletedTask, (_, _) => { });

        // A few pages of log, far below the 10,000 at which the writer checkpoints itself.
        for (var n = 0; n < 100; n++)
        {
            var value = n;
            await queue.EnqueueAsync(WriteKind.Events, 1, context =>
                context.Connection.ExecuteAsync("INSERT INTO written (n) VALUES (@value)", new { value }, context.Transaction), Cancel);
        }
        await Eventually(() => queue.CopiedGroups >= queue.CommittedGroups);

        // The database file alone, without its log, holds what the writer committed.
        var copy = Path.Combine(Path.GetDirectoryName(database.FilePath)!, "copy.db");
        File.Copy(database.FilePath, copy);
        await using var file = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = copy, Pooling = false }.ToString());
        await file.OpenAsync(Cancel);
        Assert.Equal(100, await file.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM written"));
    }

    [Fact]
    public async Task Checkpointer_DatabaseItCannotOpen_KeepsTryingWithoutEndingTheProcess_LogsTheFirstFailureAndTheRecovery()
    {
        // A file where the database's folder should be: opening fails with an IOException, not a SQLite error. Thrown out
        // of the checkpointer's thread, it would end the test process.
        var blocker = Path.Combine(Path.GetTempPath(), "promptvault-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.GetDirectoryName(blocker)!);
        await File.WriteAllTextAsync(blocker, "", Cancel);
        try
        {
            using var outcomes = new CheckpointOutcomes();
            var logger = new FakeLogger();
            var commits = 0L;
            using var checkpointer = new SqliteCheckpointer(new SqliteConnectionFactory(Path.Combine(blocker, "promptvault.db")),
                TimeSpan.FromMilliseconds(10), () => Interlocked.Increment(ref commits), logger);

            await Eventually(() => Interlocked.Read(ref commits) >= 6); // five attempts ended, the sixth begun

            Assert.Equal(0, checkpointer.CopiedCommits);
            // Each failure is counted with its cause, so a checkpointer that always fails can be seen and alerted on; the
            // log says it once, with the exception, not at every attempt.
            Assert.True(outcomes.Count("failed", typeof(IOException).FullName) >= 5, string.Join(", ", outcomes.All));
            var failed = Assert.Single(logger.Collector.GetSnapshot());
            Assert.Equal((3003, LogLevel.Warning), (failed.Id.Id, failed.Level));
            Assert.IsAssignableFrom<IOException>(failed.Exception);

            // The folder becomes usable: the next checkpoint succeeds, and the log says so once.
            File.Delete(blocker);
            Directory.CreateDirectory(blocker);
            await Eventually(() => logger.Collector.Count >= 2);
            var recovered = logger.Collector.LatestRecord;
            Assert.Equal((3004, LogLevel.Information), (recovered.Id.Id, recovered.Level));
            Assert.Matches("after [0-9]+ failed", recovered.Message);
        }
        finally
        {
            if (File.Exists(blocker)) File.Delete(blocker);
            else if (Directory.Exists(blocker)) Directory.Delete(blocker, recursive: true);
        }
    }

    [Fact]
    public async Task Writes_RunOnTheWritersOwnThread_NotOnAThreadPoolWorker()
    {
        await database.CreateStoreAsync();
        await using var queue = new SqliteWriteQueue(database.Connections, capacity: 4, exposureCapacity: 4, maxGroupEvents: 100,
            (_, _) => Task.CompletedTask, (_, _) => { });

        // The second write is taken after the writer awaited more work: its continuation stays on the writer's thread too.
        var first = await queue.EnqueueAsync(WriteKind.Events, 1, _ => Task.FromResult(Thread.CurrentThread.IsThreadPoolThread), Cancel);
        var second = await queue.EnqueueAsync(WriteKind.Events, 1, _ => Task.FromResult(Thread.CurrentThread.IsThreadPoolThread), Cancel);

        Assert.False(first, "the first write ran on a thread-pool worker");
        Assert.False(second, "a write after the writer's wait ran on a thread-pool worker");
    }

    [Fact]
    public async Task WritesSentOneAfterAnother_EachArrivingAsTheWriterGoesBackToWaiting_NoneIsLeftWaiting()
    {
        await database.CreateStoreAsync();
        await using var queue = new SqliteWriteQueue(database.Connections, capacity: 4, exposureCapacity: 4, maxGroupEvents: 100,
            (_, _) => Task.CompletedTask, (_, _) => { });

        // Each write is sent as the writer, having committed the one before, goes back to waiting on its two queues, at a
        // slightly different moment each time; a write that lands while it looks at them must still wake it. The lost
        // wake-up this guards against needs a preemption between two reads, so the test cannot force it, only cover the
        // hand-over (docs/benchmarks.md, stop 24).
        const int writes = 2_000;
        var jitter = new Random(1);
        for (var i = 0; i < writes; i++)
        {
            Thread.SpinWait(jitter.Next(0, 400));
            var write = queue.EnqueueAsync(WriteKind.Events, 1, _ => Task.FromResult(true), Cancel);
            Assert.True(await write.WaitAsync(TimeSpan.FromSeconds(10), Cancel), $"write {i} was not applied");
        }
        Assert.Equal(writes, queue.CommittedGroups);
    }

    [Fact]
    public async Task QueueFull_WriterWaitsForRoom_CancelledWaiterNotStored()
    {
        await database.CreateStoreAsync();
        var store = new SqlitePromptStore(database.Connections, writeQueueCapacity: 2, maxEventsPerTransaction: 1);
        var (_, experiment) = await SeedAsync(store);

        Task<bool>[] stored;
        Task<bool> waiting;
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(Cancel);
        await using (await WriteLockAsync())
        {
            var taken = await TakenAloneAsync(store, () => store.RecordExposureAsync(Exposure(experiment, "unit-0"), Cancel));
            var queued = new[] { "unit-1", "unit-2" }.Select(unit => store.RecordExposureAsync(Exposure(experiment, unit), Cancel)).ToList();
            await WaitForQueuedAsync(store, 2);

            // The queue is full and its writer is blocked: the next request waits for room instead of being queued.
            waiting = store.RecordExposureAsync(Exposure(experiment, "unit-3"), cancellation.Token);
            var blocked = store.RecordExposureAsync(Exposure(experiment, "unit-4"), Cancel);
            Assert.Equal(2, store.QueuedWrites);
            Assert.False(waiting.IsCompleted);
            Assert.False(blocked.IsCompleted);
            await cancellation.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
            stored = [taken, .. queued, blocked];
        }

        Assert.All(await Task.WhenAll(stored), Assert.True);
        await using var connection = await database.Connections.OpenAsync(Cancel);
        Assert.Equal(["unit-0", "unit-1", "unit-2", "unit-4"], await connection.QueryAsync<string>("SELECT unit_id FROM exposures ORDER BY unit_id"));
        await store.DisposeAsync();
    }

    [Fact]
    public async Task Group_CappedByEventsNotByWrites()
    {
        await database.CreateStoreAsync();
        await using var store = new SqlitePromptStore(database.Connections, writeQueueCapacity: 16, maxEventsPerTransaction: 10);
        var (version, _) = await SeedAsync(store);

        Task<MetricRecordResult> first;
        List<Task<MetricRecordResult>> queued;
        long groupsBefore;
        await using (await WriteLockAsync())
        {
            first = await TakenAloneAsync(store, () => store.RecordEventsAsync([Event(version, Now)], null, Cancel));
            groupsBefore = store.CommittedWriteGroups;
            // Three batches of 6 events: 6 + 6 reach the cap of 10, so the third waits for the next group.
            queued = Enumerable.Range(0, 3).Select(_ => store.RecordEventsAsync(Enumerable.Range(0, 6).Select(_ => Event(version, Now)).ToList(), null, Cancel)).ToList();
            await WaitForQueuedAsync(store, 3);
        }
        await first;
        await Task.WhenAll(queued);

        Assert.Equal(3, store.CommittedWriteGroups - groupsBefore);
        Assert.Equal(19, (await store.ReadVersionTotalAsync(version, Cancel)).Count);
    }

    [Fact]
    public async Task QueueExposure_ReturnsAtOnce_StoredBeforeALaterAcknowledgedWrite_AndBringsInEarlierEvents()
    {
        var store = await database.CreateStoreAsync();
        var (_, experiment) = await SeedAsync(store);
        var exposure = Exposure(experiment, "unit-0");
        var variant = experiment.Variants.Single(v => v.Id == exposure.VariantId);
        await store.RecordEventsAsync([UnitEvent(experiment, variant, "unit-0")], null, Cancel);

        ExposureQueueOutcome queued, repeated;
        await using (await WriteLockAsync())
        {
            // The writer cannot commit while the lock is held: the render's exposure is queued without waiting for it.
            queued = store.QueueExposure(exposure);
            repeated = store.QueueExposure(exposure with { At = Now.AddMinutes(1) });
        }
        await store.RecordEventsAsync([UnitEvent(experiment, variant, "unit-0")], null, Cancel);

        Assert.Equal(ExposureQueueOutcome.Queued, queued);
        Assert.Equal(ExposureQueueOutcome.Repeat, repeated);
        Assert.Equal(1, (await store.CountExposuresAsync(experiment.Id, Cancel))[variant.Id]);
        var stats = (await store.ReadVariantUnitStatsAsync(experiment.Id, Cancel))[variant.Id];
        Assert.Equal(0, stats.UnattributedEvents);
        Assert.Equal(1, stats.ErrorRate.Units);
        Assert.Equal(2, stats.ErrorRate.SumN);
    }

    [Fact]
    public async Task QueueExposure_QueueFull_DroppedNotRemembered_NextRenderQueuesIt()
    {
        await database.CreateStoreAsync();
        var logger = new FakeLogger();
        var store = new SqlitePromptStore(database.Connections, writeQueueCapacity: 4, maxEventsPerTransaction: 100, exposureQueueCapacity: 2, logger: logger);
        var (version, experiment) = await SeedAsync(store);

        ExposureQueueOutcome[] outcomes;
        await using (await WriteLockAsync())
        {
            Assert.Equal(ExposureQueueOutcome.Queued, await TakenAloneAsync(store, () => store.QueueExposure(Exposure(experiment, "unit-0"))));
            // The writer holds unit-0 and waits for the lock; the queue takes two more, the third is refused at once.
            outcomes = new[] { "unit-1", "unit-2", "unit-3" }.Select(unit => store.QueueExposure(Exposure(experiment, unit))).ToArray();
        }
        // An acknowledged write commits what was queued before it, so the queue has room again.
        await store.RecordEventsAsync([Event(version, Now)], null, Cancel);
        var again = store.QueueExposure(Exposure(experiment, "unit-3"));
        await store.RecordEventsAsync([Event(version, Now)], null, Cancel);

        Assert.Equal([ExposureQueueOutcome.Queued, ExposureQueueOutcome.Queued, ExposureQueueOutcome.Dropped], outcomes);
        Assert.Equal(ExposureQueueOutcome.Queued, again);
        var dropped = Assert.Single(logger.Collector.GetSnapshot());
        Assert.Equal((3002, LogLevel.Warning), (dropped.Id.Id, dropped.Level));
        Assert.StartsWith("1 render exposures were dropped", dropped.Message);
        await using var connection = await database.Connections.OpenAsync(Cancel);
        Assert.Equal(["unit-0", "unit-1", "unit-2", "unit-3"], await connection.QueryAsync<string>("SELECT unit_id FROM exposures ORDER BY unit_id"));
        await store.DisposeAsync();
    }

    [Fact]
    public async Task QueueExposure_OnlyRenderExposuresWaiting_WriterLingersSoOneTransactionHoldsThemAll()
    {
        var (store, time, experiment) = await LingeringStoreAsync();
        var groups = store.CommittedWriteGroups;

        // The writer took the first and lingers on a clock that does not move: a writer that did not linger would have
        // committed it, with no timer to wait on.
        Assert.Equal(ExposureQueueOutcome.Queued, store.QueueExposure(Exposure(experiment, "unit-0")));
        Assert.Equal(SqliteWriteQueue.ExposureLinger, await time.NextTimerAsync());
        for (var i = 1; i < 10; i++)
            Assert.Equal(ExposureQueueOutcome.Queued, store.QueueExposure(Exposure(experiment, $"unit-{i}")));
        Assert.Equal(groups, store.CommittedWriteGroups);
        time.Advance(SqliteWriteQueue.ExposureLinger);
        await Eventually(() => store.CommittedWriteGroups != groups);

        Assert.Equal(groups + 1, store.CommittedWriteGroups);
        Assert.Equal(10, (await store.CountExposuresAsync(experiment.Id, Cancel)).Values.Sum());
        await store.DisposeAsync();
    }

    [Fact]
    public async Task QueueExposure_OneOfAGroupNamesNoExperiment_LostAloneAndForgottenTheOtherStoredOnce()
    {
        var (store, _, experiment) = await LingeringStoreAsync();
        // One group, bob's exposure first: ann's names no experiment, so the render exposures' write fails; tried one by one,
        // bob's is stored and ann's alone is lost.
        Assert.Equal(ExposureQueueOutcome.Queued, store.QueueExposure(Exposure(experiment, "bob")));
        Assert.Equal(ExposureQueueOutcome.Queued, store.QueueExposure(new Exposure("no-such-experiment", experiment.Control.Id, "ann", Now)));
        Assert.Equal(1, (await store.CountExposuresAsync(experiment.Id, Cancel)).Values.Sum());

        // The store forgot ann's lost exposure, so it is queued again; bob's is remembered as stored, and stored once.
        Assert.Equal(ExposureQueueOutcome.Queued, store.QueueExposure(new Exposure("no-such-experiment", experiment.Control.Id, "ann", Now)));
        Assert.Equal(ExposureQueueOutcome.Repeat, store.QueueExposure(Exposure(experiment, "bob")));
        Assert.Equal(1, (await store.CountExposuresAsync(experiment.Id, Cancel)).Values.Sum());
        await using var connection = await database.Connections.OpenAsync(Cancel);
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM exposures"));
        await store.DisposeAsync();
    }

    [Fact]
    public async Task QueueExposure_Lingering_AnAcknowledgedWriteEndsTheWaitAndCommitsWithThem()
    {
        var (store, time, experiment) = await LingeringStoreAsync();
        var variant = experiment.Variants.Single(v => v.Id == Exposure(experiment, "unit-0").VariantId);
        store.QueueExposure(Exposure(experiment, "unit-0"));
        Assert.Equal(SqliteWriteQueue.ExposureLinger, await time.NextTimerAsync()); // the writer lingers

        // The fake clock never moves: only the acknowledged write can end the linger, and its unit's exposure is stored first.
        await store.RecordEventsAsync([UnitEvent(experiment, variant, "unit-0")], null, Cancel);

        Assert.Equal(1, (await store.CountExposuresAsync(experiment.Id, Cancel))[variant.Id]);
        Assert.Equal(0, (await store.ReadVariantUnitStatsAsync(experiment.Id, Cancel))[variant.Id].UnattributedEvents);
        await store.DisposeAsync();
    }

    [Fact]
    public async Task DisposeAsync_RenderExposuresQueued_CommitsThemBeforeReturning()
    {
        var store = await database.CreateStoreAsync();
        var (_, experiment) = await SeedAsync(store);
        var units = Enumerable.Range(0, 50).Select(i => $"unit-{i}").ToList();

        ValueTask disposing;
        await using (await WriteLockAsync())
        {
            Assert.All(units, unit => Assert.Equal(ExposureQueueOutcome.Queued, store.QueueExposure(Exposure(experiment, unit))));
            disposing = store.DisposeAsync();
            Assert.False(disposing.IsCompleted);
        }
        await disposing;

        var reopened = await database.CreateStoreAsync();
        Assert.Equal(units.Count, (await reopened.CountExposuresAsync(experiment.Id, Cancel)).Values.Sum());
        await reopened.DisposeAsync();
    }

    private static async Task<(string Version, Experiment Experiment)> SeedAsync(SqlitePromptStore store)
    {
        var (control, experiment) = await SeedRunningExperimentAsync(store, "measured");
        return (control.Id, experiment);
    }

    /// <summary>A store whose writer lingers for render exposures on a fake clock that only the test moves.</summary>
    private async Task<(SqlitePromptStore Store, WatchedTimeProvider Time, Experiment Experiment)> LingeringStoreAsync()
    {
        await database.CreateStoreAsync();
        var time = new WatchedTimeProvider(Now);
        var store = new SqlitePromptStore(database.Connections, writeQueueCapacity: 16, maxEventsPerTransaction: 4_096, time: time);
        var (_, experiment) = await SeedAsync(store);
        return (store, time, experiment);
    }

    private static MetricEvent UnitEvent(Experiment experiment, Variant variant, string unit) =>
        Event(variant.VersionId, Now) with { ExperimentId = experiment.Id, VariantId = variant.Id, UnitId = unit };

    private static IdempotencyRecord Idempotency(string key) => new("owner", key, "hash", "{}", Now, Now.AddDays(1));

    /// <summary>Holds the database's write lock from another connection until disposed, so queued writes pile up.</summary>
    private async Task<IAsyncDisposable> WriteLockAsync()
    {
        var connection = await database.Connections.OpenAsync(Cancel);
        var transaction = connection.BeginTransaction();
        return new WriteLock(connection, transaction);
    }

    /// <summary>
    /// Starts a write and waits until the writer has taken it as a group of its own, so that what is queued after it waits
    /// for the next group (and, while the test holds the write lock, queues up). An empty queue does not say that: the
    /// writer may still be taking what is queued meanwhile into the same group.
    /// </summary>
    private static async Task<T> TakenAloneAsync<T>(SqlitePromptStore store, Func<T> write)
    {
        var taken = store.TakenWriteGroups;
        var started = write();
        await Eventually(() => store.TakenWriteGroups > taken);
        return started;
    }

    private static Task WaitForQueuedAsync(SqlitePromptStore store, int count) =>
        Eventually(() => Task.FromResult(store.QueuedWrites), queued => queued == count);

    private sealed class WriteLock(SqliteConnection connection, SqliteTransaction transaction) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            transaction.Rollback();
            transaction.Dispose();
            await connection.DisposeAsync();
        }
    }

    [Fact]
    public async Task RenderExposures_TheirWriteFails_GivenUpOnceWithTheError_EvenWhenTheirGroupFailsToo()
    {
        await database.CreateStoreAsync();
        var givenUp = new List<(string Unit, string Error)>();
        await using var queue = new SqliteWriteQueue(database.Connections, capacity: 4, exposureCapacity: 4, maxGroupEvents: 100,
            (_, _) => throw new InvalidOperationException("the exposures' insert failed"),
            (lost, error) => { lock (givenUp) givenUp.AddRange(lost.Select(e => (e.UnitId, error.Message))); });

        Assert.True(queue.TryQueue(new Exposure("experiment-1", "variant-1", "unit-1", Now)));
        Assert.True(queue.TryQueue(new Exposure("experiment-1", "variant-1", "unit-2", Now)));
        // A write that ends the transaction behind the group's back, so the group that held the exposures fails as well.
        await Assert.ThrowsAsync<SqliteException>(() => queue.EnqueueAsync(WriteKind.Events, 1, EndTheGroupsTransaction, Cancel));
        await queue.SettleExposuresAsync(Cancel);

        lock (givenUp) Assert.Equal([("unit-1", "the exposures' insert failed"), ("unit-2", "the exposures' insert failed")], givenUp);
    }

    [Fact]
    public async Task RenderExposures_TheirWriteFailsPartWay_LeavesNoTrace_AndTheGroupsAcknowledgedWriteIsCommitted()
    {
        await database.CreateStoreAsync();
        await using (var connection = await database.Connections.OpenAsync(Cancel))
            await connection.ExecuteAsync("CREATE TABLE written (what TEXT NOT NULL)");
        var givenUp = new List<string>();
        await using var queue = new SqliteWriteQueue(database.Connections, capacity: 4, exposureCapacity: 4, maxGroupEvents: 100,
            (context, _) =>
            {
                Insert(context, "part of the exposures");
                throw new InvalidOperationException("the exposures' write failed part-way");
            },
            (lost, _) => { lock (givenUp) givenUp.AddRange(lost.Select(e => e.UnitId)); });

        // The first write holds the writer, so the exposure and the second write are taken into one group after it.
        var (running, gate) = (new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), new TaskCompletionSource());
        var held = queue.EnqueueAsync(WriteKind.Events, 1, async context =>
        {
            running.SetResult();
            await gate.Task;
            return Insert(context, "first");
        }, Cancel);
        await running.Task.WaitAsync(Cancel);
        var groups = queue.CommittedGroups;
        Assert.True(queue.TryQueue(new Exposure("experiment-1", "variant-1", "unit-1", Now)));
        var second = queue.EnqueueAsync(WriteKind.Events, 1, context => Task.FromResult(Insert(context, "second")), Cancel);
        gate.SetResult();
        await Task.WhenAll(held, second);

        Assert.Equal(groups + 2, queue.CommittedGroups);
        lock (givenUp) Assert.Equal(["unit-1"], givenUp);
        await using var reader = await database.Connections.OpenAsync(Cancel);
        Assert.Equal(["first", "second"], await reader.QueryAsync<string>("SELECT what FROM written ORDER BY rowid"));
    }

    [Fact]
    public async Task QueueExposure_ExperimentGone_LostIsLoggedWithTheError_AndForgottenSoTheNextRenderQueuesIt()
    {
        await database.CreateStoreAsync();
        var logger = new FakeLogger();
        await using var store = new SqlitePromptStore(database.Connections, writeQueueCapacity: 4, maxEventsPerTransaction: 100, logger: logger);
        var exposure = new Exposure("no-such-experiment", "variant-1", "unit-1", Now);

        Assert.Equal(ExposureQueueOutcome.Queued, store.QueueExposure(exposure));
        await store.CountExposuresAsync(exposure.ExperimentId, Cancel); // waits until the writer has given it up

        var lost = Assert.Single(logger.Collector.GetSnapshot());
        Assert.Equal((3001, LogLevel.Warning, "1"), (lost.Id.Id, lost.Level, lost.GetStructuredStateValue("Count")));
        Assert.IsType<NotFoundException>(lost.Exception);
        Assert.Equal(ExposureQueueOutcome.Queued, store.QueueExposure(exposure));
    }

    [Fact]
    public void DroppedExposuresLog_FirstDropAtOnce_ThenOneLinePerIntervalWithTheDropsSinceTheLast()
    {
        var time = new FakeTimeProvider();
        var logger = new FakeLogger();
        var log = new DroppedExposuresLog(logger, time);

        log.Dropped();
        for (var i = 0; i < 3; i++)
        {
            time.Advance(TimeSpan.FromSeconds(10));
            log.Dropped();
        }
        var quiet = logger.Collector.Count;
        time.Advance(DroppedExposuresLog.Interval);
        log.Dropped();

        Assert.Equal(1, quiet);
        Assert.Equal(["1 render", "4 render"], logger.Collector.GetSnapshot().Select(r => r.Message[..8]));
    }

    /// <summary>Writes one row of the test's own <c>written</c> table in the group's transaction.</summary>
    private static int Insert(SqliteWriteContext context, string what)
    {
        using var command = context.Connection.CreateCommand();
        command.Transaction = context.Transaction;
        command.CommandText = "INSERT INTO written (what) VALUES ($what)";
        command.Parameters.AddWithValue("$what", what);
        return command.ExecuteNonQuery();
    }

    /// <summary>A write that commits the group's transaction behind the writer's back, so the group's own commit fails.</summary>
    private static Task<int> EndTheGroupsTransaction(SqliteWriteContext context)
    {
        using var command = context.Connection.CreateCommand();
        command.Transaction = context.Transaction;
        command.CommandText = "COMMIT";
        return Task.FromResult(command.ExecuteNonQuery());
    }

    /// <summary>
    /// The checkpoints counted in <see cref="Telemetry.CheckpointsCounter"/> while it listens, as outcome and error type: every
    /// checkpointer's in the test process (the meter is static), so a test looks for an outcome only its own can have.
    /// </summary>
    private sealed class CheckpointOutcomes : IDisposable
    {
        private readonly MeterListener listener = new();
        private readonly ConcurrentQueue<(string? Outcome, string? Error)> seen = new();

        public CheckpointOutcomes()
        {
            listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == Telemetry.Name && instrument.Name == Telemetry.CheckpointsCounter) l.EnableMeasurementEvents(instrument);
            };
            listener.SetMeasurementEventCallback<long>((_, count, tags, _) =>
            {
                string? outcome = null, error = null;
                foreach (var tag in tags)
                {
                    if (tag.Key == Telemetry.OutcomeTag) outcome = tag.Value as string;
                    if (tag.Key == Telemetry.ErrorTypeTag) error = tag.Value as string;
                }
                for (var i = 0; i < count; i++) seen.Enqueue((outcome, error));
            });
            listener.Start();
        }

        public IEnumerable<string> All => seen.Select(s => $"{s.Outcome} {s.Error}");

        public int Count(string outcome, string? error = null) => seen.Count(s => s.Outcome == outcome && s.Error == error);

        public void Dispose() => listener.Dispose();
    }
}
