using System.Diagnostics.Metrics;
using Dapper;
using Microsoft.Extensions.Time.Testing;
using PromptVault.Core;
using PromptVault.Core.Experiments;
using PromptVault.Core.Storage;
using PromptVault.Storage.Testing;
using static PromptVault.Storage.Testing.Samples;

namespace PromptVault.Storage.Sqlite.Tests;

/// <summary>
/// Exposures are appended with no key (migration 012); the writer's <see cref="ExposedUnits"/>, read from the table, keeps
/// each unit's first exposure the only one, across restarts and an upgrade from the keyed table.
/// </summary>
public sealed class ExposedUnitsTests : IDisposable
{
    private readonly TempDatabase database = new();

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public void Dispose() => database.Dispose();

    [Fact]
    public async Task MigrateAsync_KeyedExposures_KeepsEveryRow_AndTheirUnitsStayExposedOnce()
    {
        var migrations = new SqliteDatabase(database.Connections);
        await migrations.MigrateAsync(throughVersion: 11, Cancel);
        // Today's store uses the columns migrations 016, 018 and 019 add: they stand in for them while the store seeds the schema-11 database.
        const string LaterColumns =
            "ALTER TABLE versions {0} declared_variables{1}; ALTER TABLE experiments {0} promotion_refused{1}; ALTER TABLE webhooks {0} key_id{1};";
        await using (var early = await database.Connections.OpenAsync(Cancel))
            await early.ExecuteAsync(string.Format(LaterColumns, "ADD COLUMN", " TEXT"));
        var store = database.CreateStore();
        var (_, experiment) = await SeedRunningExperimentAsync(store, "exposed");
        await store.DisposeAsync();
        await using (var early = await database.Connections.OpenAsync(Cancel))
            await early.ExecuteAsync(string.Format(LaterColumns, "DROP COLUMN", ""));
        // Stored as a PromptVault before migration 012 left them: keyed rows, and their counts.
        var units = Enumerable.Range(0, 300).Select(i => $"unit-{i:D3}").ToList();
        await using var connection = await database.Connections.OpenAsync(Cancel);
        await connection.ExecuteAsync("""
            INSERT INTO exposures (experiment_id, unit_id, variant_id, at) VALUES (@ExperimentId, @UnitId, @VariantId, '2026-01-01T00:00:00.000Z')
            """, units.Select(unit => Exposure(experiment, unit)).Select(e => new { e.ExperimentId, e.UnitId, e.VariantId }));
        await connection.ExecuteAsync("INSERT INTO exposure_counts SELECT experiment_id, variant_id, COUNT(*) FROM exposures GROUP BY 1, 2");
        const string Rows = "SELECT experiment_id, unit_id, variant_id, at FROM exposures ORDER BY experiment_id, unit_id";
        var before = (await connection.QueryAsync<(string, string, string, string)>(Rows)).ToList();

        Assert.Equal(1, await migrations.MigrateAsync(throughVersion: 12, Cancel));

        Assert.Equal(before, await connection.QueryAsync<(string, string, string, string)>(Rows));
        Assert.Empty(await connection.QueryAsync<string>("SELECT name FROM pragma_index_list('exposures') WHERE origin = 'pk'"));
        var upgraded = await database.CreateStoreAsync();
        Assert.False(await upgraded.RecordExposureAsync(Exposure(experiment, units[7]), Cancel));
        Assert.True(await upgraded.RecordExposureAsync(Exposure(experiment, "new-unit"), Cancel));
        Assert.Equal(units.Count + 1, (await upgraded.CountExposuresAsync(experiment.Id, Cancel)).Values.Sum());
        Assert.Equal(units.Count + 1, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM exposures"));
        await upgraded.DisposeAsync();
    }

    [Fact]
    public async Task QueueExposure_UnitsExposedBeforeARestart_AreNotStoredAgain()
    {
        var store = await database.CreateStoreAsync();
        var (_, experiment) = await SeedRunningExperimentAsync(store, "exposed");
        // Read back as the stored UTF-8, so ids beyond ASCII must hash as they did when written.
        var units = Enumerable.Range(0, 500).Select(_ => Guid.NewGuid().ToString()).Concat(["zoë", "日本-7", "👩‍💻"]).ToList();
        foreach (var unit in units)
            store.QueueExposure(Exposure(experiment, unit));
        await store.DisposeAsync();

        // A new store remembers no unit in its recent slots, so every render below reaches the writer.
        var restarted = await database.CreateStoreAsync();
        foreach (var unit in units.Concat(units.Take(10).Select(u => u + "-new")))
            restarted.QueueExposure(Exposure(experiment, unit));

        var counts = await restarted.CountExposuresAsync(experiment.Id, Cancel);
        Assert.Equal(units.Count + 10, counts.Values.Sum());
        await using var connection = await database.Connections.OpenAsync(Cancel);
        Assert.Equal(units.Count + 10, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM exposures"));
        Assert.Equal(units.Count + 10, await connection.ExecuteScalarAsync<long>("SELECT COUNT(DISTINCT unit_id) FROM exposures"));
        await restarted.DisposeAsync();
    }

    [Fact]
    public async Task RecordEventsAsync_UnitExposedBeforeARestart_CountsForItsVariant()
    {
        var store = await database.CreateStoreAsync();
        var (_, experiment) = await SeedRunningExperimentAsync(store, "exposed");
        var exposure = Exposure(experiment, "ann");
        Assert.True(await store.RecordExposureAsync(exposure, Cancel));
        await store.DisposeAsync();

        var restarted = await database.CreateStoreAsync();
        var variant = experiment.Variants.Single(v => v.Id == exposure.VariantId);
        await restarted.RecordEventsAsync([Event(variant.VersionId, Now) with { ExperimentId = experiment.Id, VariantId = variant.Id, UnitId = "ann", Converted = true }], null, Cancel);

        var stats = (await restarted.ReadVariantUnitStatsAsync(experiment.Id, Cancel))[variant.Id];
        Assert.Equal(0, stats.UnattributedEvents);
        Assert.Equal(1, stats.ConvertedUnits);
        await restarted.DisposeAsync();
    }

    [Fact]
    public async Task RecordExposureAsync_UnitStoredByAnotherConnection_IsNotStoredAgain()
    {
        var store = await database.CreateStoreAsync();
        var (_, experiment) = await SeedRunningExperimentAsync(store, "exposed");
        Assert.True(await store.RecordExposureAsync(Exposure(experiment, "ann"), Cancel)); // the writer now holds the experiment
        var bob = Exposure(experiment, "bob");
        await using var other = await database.Connections.OpenAsync(Cancel);
        await other.ExecuteAsync("""
            INSERT INTO exposures (experiment_id, unit_id, variant_id, at) VALUES (@ExperimentId, @UnitId, @VariantId, '2026-01-01T00:00:00.000Z')
            """, new { bob.ExperimentId, bob.UnitId, bob.VariantId });

        Assert.False(await store.RecordExposureAsync(bob, Cancel));
        Assert.True(await store.RecordExposureAsync(Exposure(experiment, "carl"), Cancel));

        Assert.Equal(3, await other.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM exposures"));
        await store.DisposeAsync();
    }

    [Fact]
    public async Task RenderExposuresFailing_AnotherConnectionsExposureStoredBeforeTheWriterBeginsAgain_IsNotStoredAgain()
    {
        var seeding = await database.CreateStoreAsync();
        var (_, experiment) = await SeedRunningExperimentAsync(seeding, "exposed");
        await seeding.DisposeAsync();
        var bob = Exposure(experiment, "bob");
        var failed = 0;
        await using var queue = new SqliteWriteQueue(database.Connections, capacity: 4, exposureCapacity: 4, maxGroupEvents: 100,
            (context, exposures) =>
            {
                if (Interlocked.Exchange(ref failed, 1) == 1) return Task.FromResult(Store(context, exposures));
                // The render exposures fail and their transaction ends; before the writer begins another, a second
                // connection (an import, another process) takes the write lock and stores bob.
                using (var rollback = context.Connection.CreateCommand())
                {
                    rollback.Transaction = context.Transaction;
                    rollback.CommandText = "ROLLBACK";
                    rollback.ExecuteNonQuery();
                }
                using (var other = database.Connections.OpenAsync(Cancel).GetAwaiter().GetResult())
                    InsertExposure(other, bob);
                throw new InvalidDataException("a damaged row");
            }, (_, _) => { });

        Assert.True((await queue.EnqueueAsync(WriteKind.Exposure, 1, c => Task.FromResult(Store(c, [Exposure(experiment, "ann")])), Cancel)).Single());
        Assert.True(queue.TryQueue(Exposure(experiment, "carl")));
        await queue.SettleExposuresAsync(Cancel);

        // The writer's index must know bob, stored by the other connection while no transaction of the writer was open.
        Assert.False((await queue.EnqueueAsync(WriteKind.Exposure, 1, c => Task.FromResult(Store(c, [bob])), Cancel)).Single());
        await using var connection = await database.Connections.OpenAsync(Cancel);
        Assert.Equal(["ann", "bob", "carl"], await connection.QueryAsync<string>("SELECT unit_id FROM exposures ORDER BY unit_id"));

        static bool[] Store(SqliteWriteContext context, IReadOnlyList<Exposure> exposures)
        {
            var first = exposures.Select(context.TryAddExposure).ToArray();
            foreach (var exposure in exposures.Where((_, i) => first[i]))
                InsertExposure(context.Connection, exposure, context.Transaction);
            return first;
        }
    }

    private static void InsertExposure(Microsoft.Data.Sqlite.SqliteConnection connection, Exposure exposure, Microsoft.Data.Sqlite.SqliteTransaction? transaction = null) =>
        connection.Execute("""
            INSERT INTO exposures (experiment_id, unit_id, variant_id, at) VALUES (@ExperimentId, @UnitId, @VariantId, '2026-01-01T00:00:00.000Z')
            """, new { exposure.ExperimentId, exposure.UnitId, exposure.VariantId }, transaction);

    [Fact]
    public async Task RecordExposureAsync_OverTheBudget_ForgetsOnlyIdleExperiments_AndReadsThemAgainWhenAsked()
    {
        await database.CreateStoreAsync();
        var time = new FakeTimeProvider(Now);
        await using var store = new SqlitePromptStore(database.Connections, writeQueueCapacity: 16, maxEventsPerTransaction: 4_096,
            time: time, exposedUnitBudget: 3);
        var (_, finished) = await SeedRunningExperimentAsync(store, "finished");
        var (_, running) = await SeedRunningExperimentAsync(store, "running");
        foreach (var unit in new[] { "ann", "bob", "carl" })
            Assert.True(await store.RecordExposureAsync(Exposure(finished, unit), Cancel));
        Assert.True(await store.RecordExposureAsync(Exposure(running, "ann"), Cancel));
        Assert.Equal((2, 4L), store.HeldExposedUnits); // over the budget, but neither has been idle

        time.Advance(ExposedUnits.IdleBeforeForgetting - TimeSpan.FromSeconds(1));
        Assert.True(await store.RecordExposureAsync(Exposure(running, "bob"), Cancel));
        Assert.Equal((2, 5L), store.HeldExposedUnits);
        Assert.Contains(5L, ExposedUnitsReported()); // the gauge reads each store's count as of its last commit

        time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(await store.RecordExposureAsync(Exposure(running, "carl"), Cancel));
        Assert.True(await store.RecordExposureAsync(Exposure(running, "dave"), Cancel));
        Assert.Equal((1, 4L), store.HeldExposedUnits); // the idle one forgotten; the one in use kept above the budget

        Assert.False(await store.RecordExposureAsync(Exposure(finished, "bob"), Cancel));
        Assert.True(await store.RecordExposureAsync(Exposure(finished, "erin"), Cancel));
        Assert.Equal((2, 8L), store.HeldExposedUnits);
        Assert.Contains(8L, ExposedUnitsReported());
        Assert.Equal(4, (await store.CountExposuresAsync(finished.Id, Cancel)).Values.Sum());
        Assert.Equal(4, (await store.CountExposuresAsync(running.Id, Cancel)).Values.Sum());
    }

    /// <summary>What <see cref="Telemetry.ExposedUnitsGauge"/> reports now, one value a store in this process.</summary>
    private static List<long> ExposedUnitsReported()
    {
        var reported = new List<long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == Telemetry.Name && instrument.Name == Telemetry.ExposedUnitsGauge) l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => reported.Add(value));
        listener.Start();
        listener.RecordObservableInstruments();
        return reported;
    }
}
