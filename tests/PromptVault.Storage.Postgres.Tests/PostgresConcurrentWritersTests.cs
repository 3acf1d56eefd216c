using Microsoft.Extensions.Logging.Testing;
using Npgsql;
using PromptVault.Core.Analysis;
using PromptVault.Core.Experiments;
using PromptVault.Core.Metrics;
using PromptVault.Core.Storage;
using PromptVault.Storage.Testing;
using static PromptVault.Storage.Testing.Samples;

namespace PromptVault.Storage.Postgres.Tests;

/// <summary>
/// Several PromptVault instances on one database: two stores, each on its own data source (as two server processes
/// would be), writing events and exposures of the same versions and experiment at once.
/// </summary>
public sealed class PostgresConcurrentWritersTests : IAsyncDisposable
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private readonly List<IAsyncDisposable> disposables = [];
    private PostgresTestDatabase? database;

    public async ValueTask DisposeAsync()
    {
        foreach (var disposable in Enumerable.Reverse(disposables))
            await disposable.DisposeAsync();
        if (database is not null)
            await database.DisposeAsync();
    }

    [Fact]
    public async Task RecordEventsAsync_100000EventsToTwoInstancesAtOnce_AggregatesAddUpExactly()
    {
        var (first, second) = await CreateInstancesAsync();
        var (versions, experiment) = await SeedAsync(first);
        var events = Events(versions, experiment, count: 100_000, units: 2_000, seed: 1);
        var batches = events.Chunk(500).ToList();
        // Two units in three see their variant, through either instance, while the events arrive: renders' queued
        // exposures and awaited ones.
        var exposed = Enumerable.Range(0, 2_000).Where(u => u % 3 != 0).ToDictionary(Unit, u => Assignment.VariantFor(experiment, Unit(u)).Id);
        var exposures = exposed.Select((unit, i) => (Store: i % 2 == 0 ? first : second, Exposure: new Exposure(experiment.Id, unit.Value, unit.Key, Now))).ToList();
        // Every tenth batch goes to both instances at once: its events must count once.
        var sends = batches.SelectMany((batch, i) => i % 10 == 0
            ? new[] { (Store: first, Batch: batch), (Store: second, Batch: batch) }
            : [(Store: i % 2 == 0 ? first : second, Batch: batch)]).ToList();

        var recording = RunConcurrentlyAsync(sends, 8, send => send.Store.RecordEventsAsync(send.Batch, null, Cancel));
        var exposing = RunConcurrentlyAsync(exposures, 4, async x =>
        {
            if (x.Exposure.UnitId.Length % 2 == 0)
                await x.Store.RecordExposureAsync(x.Exposure, Cancel);
            else
                Assert.NotEqual(ExposureQueueOutcome.Dropped, x.Store.QueueExposure(x.Exposure));
            return true;
        });
        var results = await recording;
        await exposing;
        await first.DisposeAsync();
        await second.DisposeAsync(); // both commit their queued render exposures

        var reader = database!.CreateStore();
        Assert.Equal(events.Count, results.Sum(r => r.Stored));
        Assert.Equal(batches.Where((_, i) => i % 10 == 0).Sum(b => b.Length), results.Sum(r => r.DuplicateIds.Count));
        foreach (var version in versions)
        {
            var ofVersion = events.Where(e => e.VersionId == version).ToList();
            var total = await reader.ReadVersionTotalAsync(version, Cancel);
            AggregateAssert.Equal(Aggregate(ofVersion), total);
            Assert.Equal(ofVersion.Count, total.Count);
            var hours = await reader.ReadVersionHoursAsync(version, DateTimeOffset.MinValue, Cancel);
            Assert.Equal(ofVersion.Count, hours.Sum(h => h.Aggregate.Count));
        }
        Assert.Equal(exposed.Values.CountBy(v => v).ToDictionary(c => c.Key, c => (long)c.Value), await reader.CountExposuresAsync(experiment.Id, Cancel));
        var stats = await reader.ReadVariantUnitStatsAsync(experiment.Id, Cancel);
        UnitStatsAssert.Equal(UnitStatsAssert.Expected(events, exposed), stats);
        Assert.Equal(events.Count(e => e.VariantId is not null && (e.UnitId is null || !exposed.ContainsKey(e.UnitId))), stats.Values.Sum(s => s.UnattributedEvents));
    }

    [Fact]
    public async Task RecordEventsAsync_SameIdsToBothInstancesAtOnce_EachEventCountedOnce()
    {
        var (first, second) = await CreateInstancesAsync();
        var (versions, experiment) = await SeedAsync(first);
        var events = Events(versions, experiment, count: 6_000, units: 100, seed: 2);
        // The same ids in another order and cut differently on the other instance, so their transactions overlap every way.
        var sends = events.Chunk(100).Select(b => (Store: first, Batch: b))
            .Concat(events.AsEnumerable().Reverse().Chunk(70).Select(b => (Store: second, Batch: b))).ToList();

        var results = await RunConcurrentlyAsync(sends, 8, send => send.Store.RecordEventsAsync(send.Batch, null, Cancel));

        Assert.Equal(events.Count, results.Sum(r => r.Stored));
        Assert.Equal(events.Count, results.Sum(r => r.DuplicateIds.Count));
        foreach (var version in versions)
            AggregateAssert.Equal(Aggregate(events.Where(e => e.VersionId == version)), await first.ReadVersionTotalAsync(version, Cancel));
        UnitStatsAssert.Equal(UnitStatsAssert.Expected(events, new Dictionary<string, string>()), await second.ReadVariantUnitStatsAsync(experiment.Id, Cancel));
    }

    [Fact]
    public async Task SaveSequentialStateAsync_LooksFromBothInstancesAtOnce_KeepEachKeysSmallestMinimum()
    {
        var (first, second) = await CreateInstancesAsync();
        var (_, experiment) = await SeedAsync(first);
        var looks = Enumerable.Range(0, 200).Select(i => new SequentialState(new Dictionary<string, double>
        {
            ["a"] = 1.0 / (i + 1), ["b"] = (i * 37 % 200) / 1000.0,
        })).ToList();

        await RunConcurrentlyAsync(looks.Select((look, i) => (Store: i % 2 == 0 ? first : second, Look: look)).ToList(), 8, async x =>
        {
            await x.Store.SaveSequentialStateAsync(experiment.Id, x.Look, [], Cancel);
            return true;
        });

        var state = await first.ReadSequentialStateAsync(experiment.Id, Cancel);
        // Every look counted, as each one merged with what the others stored.
        Assert.Equal(new Dictionary<string, double> { ["a"] = 1.0 / 200, ["b"] = 0.0, [SequentialState.LooksKey] = 200 }, state!.Values);
    }

    [Fact]
    public async Task QueueExposure_WriterBlocked_DropsWhenFullAndStoresTheQueuedOnStop()
    {
        database = await PostgresServer.CreateDatabaseAsync(cancellationToken: Cancel);
        var seeder = database.CreateStore();
        var (_, experiment) = await SeedAsync(seeder);
        var logger = new FakeLogger();
        var store = new PostgresPromptStore(database.DataSource, exposureQueueCapacity: 10, logger: logger);
        // The test holds the experiment's lock, so the writer waits in its first transaction and the queue fills up.
        await using var blocker = await database.DataSource.OpenConnectionAsync(Cancel);
        await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_lock(hashtextextended('experiment:' || $1, 0))", blocker))
        {
            lockCommand.Parameters.Add(new NpgsqlParameter { Value = experiment.Id });
            await lockCommand.ExecuteNonQueryAsync(Cancel);
        }

        var outcomes = new List<ExposureQueueOutcome>();
        for (var i = 0; i < 100; i++)
        {
            outcomes.Add(store.QueueExposure(new Exposure(experiment.Id, experiment.Control.Id, Unit(i), Now)));
            if (i == 0)
                await AdvisoryLockWaits.WriterWaitsAsync(blocker); // the writer took the first and no longer takes from the queue
        }
        var repeat = store.QueueExposure(new Exposure(experiment.Id, experiment.Control.Id, Unit(1), Now));
        // A dropped unit is not remembered as recorded: its next render tries again (and is dropped again: still full).
        var retried = store.QueueExposure(new Exposure(experiment.Id, experiment.Control.Id, Unit(99), Now));
        await using (var unlock = new NpgsqlCommand("SELECT pg_advisory_unlock_all()", blocker))
            await unlock.ExecuteNonQueryAsync(Cancel);
        await store.DisposeAsync();

        Assert.Equal((11, 89), (outcomes.Count(o => o == ExposureQueueOutcome.Queued), outcomes.Count(o => o == ExposureQueueOutcome.Dropped)));
        Assert.Equal((ExposureQueueOutcome.Repeat, ExposureQueueOutcome.Dropped), (repeat, retried));
        // The first drop is logged at once; the other 89 within the minute wait for the next line.
        var dropped = Assert.Single(logger.Collector.GetSnapshot());
        Assert.Equal((3002, "1 render exposures were dropped"), (dropped.Id.Id, dropped.Message[..31]));
        Assert.Equal(new Dictionary<string, long> { [experiment.Control.Id] = 11 }, await seeder.CountExposuresAsync(experiment.Id, Cancel));
    }

    [Fact]
    public async Task QueueExposure_OneTheDatabaseRefuses_LostAloneTheRestOfItsBatchStored()
    {
        database = await PostgresServer.CreateDatabaseAsync(cancellationToken: Cancel);
        var seeder = database.CreateStore();
        var (_, experiment) = await SeedAsync(seeder);
        var store = new PostgresPromptStore(database.DataSource, exposureQueueCapacity: 100, logger: new FakeLogger());
        // The test holds the experiment's lock, so the writer waits in its first transaction while the next batch is queued.
        await using var blocker = await database.DataSource.OpenConnectionAsync(Cancel);
        await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_lock(hashtextextended('experiment:' || $1, 0))", blocker))
        {
            lockCommand.Parameters.Add(new NpgsqlParameter { Value = experiment.Id });
            await lockCommand.ExecuteNonQueryAsync(Cancel);
        }
        store.QueueExposure(new Exposure(experiment.Id, experiment.Control.Id, Unit(0), Now));
        await AdvisoryLockWaits.WriterWaitsAsync(blocker);
        // U+0000, which PostgreSQL's text cannot hold (the API refuses it; the store is the last line).
        store.QueueExposure(new Exposure(experiment.Id, experiment.Control.Id, "unit-\0", Now));
        for (var i = 1; i <= 50; i++)
            store.QueueExposure(new Exposure(experiment.Id, experiment.Control.Id, Unit(i), Now));

        await using (var unlock = new NpgsqlCommand("SELECT pg_advisory_unlock_all()", blocker))
            await unlock.ExecuteNonQueryAsync(Cancel);
        await store.DisposeAsync();

        Assert.Equal(new Dictionary<string, long> { [experiment.Control.Id] = 51 }, await seeder.CountExposuresAsync(experiment.Id, Cancel));
    }

    [Fact]
    public async Task RecordEventsAsync_AfterTheUnitsQueuedExposure_CountsForItsVariant()
    {
        database = await PostgresServer.CreateDatabaseAsync(cancellationToken: Cancel);
        var store = database.CreateStore();
        var (_, experiment) = await SeedAsync(store);
        var variant = experiment.Variants[1];

        Assert.Equal(ExposureQueueOutcome.Queued, store.QueueExposure(new Exposure(experiment.Id, variant.Id, "ann", Now)));
        await store.RecordEventsAsync([Event(variant.VersionId, Now) with { ExperimentId = experiment.Id, VariantId = variant.Id, UnitId = "ann", LatencyMs = 5 }], null, Cancel);

        var stats = (await store.ReadVariantUnitStatsAsync(experiment.Id, Cancel))[variant.Id];
        Assert.Equal((1L, 0L), (stats.LatencyMs.Units, stats.UnattributedEvents));
    }

    private async Task<(PostgresPromptStore First, PostgresPromptStore Second)> CreateInstancesAsync()
    {
        database = await PostgresServer.CreateDatabaseAsync(cancellationToken: Cancel);
        var stores = new List<PostgresPromptStore>();
        for (var i = 0; i < 2; i++)
        {
            var dataSource = NpgsqlDataSource.Create(database.ConnectionString);
            var store = new PostgresPromptStore(dataSource);
            disposables.Add(dataSource);
            disposables.Add(store);
            stores.Add(store);
        }
        return (stores[0], stores[1]);
    }

    /// <summary>Two prompts, three versions, and a running two-variant experiment on the first prompt.</summary>
    private static async Task<(string[] Versions, Experiment Experiment)> SeedAsync(PostgresPromptStore store)
    {
        var (prompt, v1, v2) = await SeedPromptAsync(store, "measured");
        var (_, other, _) = await SeedPromptAsync(store, "other");
        var experiment = Experiment(prompt, v1, v2, status: ExperimentStatus.Running);
        await store.CreateExperimentAsync(experiment, [], Cancel);
        return ([v1.Id, v2.Id, other.Id], experiment);
    }

    private static string Unit(int number) => $"unit-{number}";

    /// <summary>Events with ids over three hours; half in the experiment (from the unit's variant), one in twenty without a unit.</summary>
    private static List<MetricEvent> Events(string[] versions, Experiment experiment, int count, int units, int seed)
    {
        var random = new Random(seed);
        double? Maybe(double value) => random.Next(3) == 0 ? null : value;
        return Enumerable.Range(0, count).Select(i =>
        {
            var unit = Unit(random.Next(units));
            var variant = Assignment.VariantFor(experiment, unit);
            var inExperiment = random.Next(2) == 0;
            return new MetricEvent($"event-{seed}-{i}", inExperiment ? variant.VersionId : versions[random.Next(versions.Length)],
                inExperiment ? experiment.Id : null, inExperiment ? variant.Id : null, random.Next(20) == 0 ? null : unit,
                Now.AddMinutes(random.Next(-90, 90)), Maybe(Math.Round(random.NextDouble() * 2_000, 3)), (long?)Maybe(random.Next(5_000)),
                (long?)Maybe(random.Next(1_000)), Maybe(Math.Round(random.NextDouble() / 100, 6)), Maybe(Math.Round(random.NextDouble(), 3)),
                Maybe(random.Next(-1, 2)), random.Next(3) switch { 0 => null, 1 => true, _ => false }, random.Next(10) == 0 ? "timeout" : null, null);
        }).ToList();
    }

    private static MetricAggregate Aggregate(IEnumerable<MetricEvent> events)
    {
        var aggregate = new MetricAggregate();
        foreach (var e in events)
            aggregate.Add(e);
        return aggregate;
    }

    /// <summary>Runs <paramref name="work"/> over the items, <paramref name="parallelism"/> at a time.</summary>
    private static async Task<List<TResult>> RunConcurrentlyAsync<TItem, TResult>(IReadOnlyList<TItem> items, int parallelism, Func<TItem, Task<TResult>> work)
    {
        var results = new TResult[items.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, items.Count), new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = Cancel },
            async (i, _) => results[i] = await work(items[i]));
        return [.. results];
    }
}
