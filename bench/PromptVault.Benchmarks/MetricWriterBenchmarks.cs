using BenchmarkDotNet.Attributes;
using Npgsql;
using PromptVault.Core.Experiments;
using PromptVault.Core.Metrics;
using PromptVault.Core.Storage;
using PromptVault.Storage.Postgres;
using PromptVault.Storage.Sqlite;

namespace PromptVault.Benchmarks;

/// <summary>
/// <c>RecordEventsAsync</c> per event on each engine, in the load test's batches of 500 events with ids, 8 batches at once
/// (as concurrent <c>POST /api/metrics</c> requests): SQLite's one writer (group commit) against PostgreSQL's concurrent
/// transactions (binary COPY, per-version and per-experiment locks). Every event is in a running two-variant experiment,
/// from one of 10,000 units, all exposed, so each batch also updates unit rows and variant statistics.
/// </summary>
/// <remarks>
/// PostgreSQL is the server named by <c>PROMPTVAULT_BENCH_PG</c> (a connection string with rights to create databases);
/// each run creates a database of its own and drops it after. SQLite is a fresh file in the temp folder (WAL,
/// synchronous=NORMAL, as the server uses).
/// </remarks>
[MemoryDiagnoser]
[MedianColumn]
public class MetricWriterBenchmarks
{
    private const int EventsPerBatch = 500;
    private const int ConcurrentBatches = 8;
    private const int Units = 10_000;

    private BenchmarkSqlite _sqliteDatabase = null!;
    private string _database = null!;
    private NpgsqlDataSource _admin = null!;
    private NpgsqlDataSource _dataSource = null!;
    private SqlitePromptStore _sqlite = null!;
    private PostgresPromptStore _postgres = null!;
    private MetricEvent[] _events = null!;
    private long _sent;

    [GlobalSetup]
    public void Setup() => SetupAsync().GetAwaiter().GetResult();

    [GlobalCleanup]
    public void Cleanup() => CleanupAsync().GetAwaiter().GetResult();

    [Benchmark(Baseline = true, OperationsPerInvoke = EventsPerBatch * ConcurrentBatches)]
    public Task Sqlite() => RecordAsync(_sqlite);

    [Benchmark(OperationsPerInvoke = EventsPerBatch * ConcurrentBatches)]
    public Task Postgres() => RecordAsync(_postgres);

    private Task RecordAsync(IMetricStore store) => Task.WhenAll(Enumerable.Range(0, ConcurrentBatches).Select(_ =>
    {
        // New ids each time, so every event is stored (the stores look each id up first).
        var first = Interlocked.Add(ref _sent, EventsPerBatch) - EventsPerBatch;
        var batch = new MetricEvent[EventsPerBatch];
        for (var i = 0; i < batch.Length; i++)
            batch[i] = _events[(first + i) % _events.Length] with { Id = $"event-{first + i}" };
        return store.RecordEventsAsync(batch, null);
    }));

    private async Task SetupAsync()
    {
        var server = Environment.GetEnvironmentVariable("PROMPTVAULT_BENCH_PG")
            ?? throw new InvalidOperationException("Set PROMPTVAULT_BENCH_PG to a PostgreSQL connection string that may create databases.");
        _admin = NpgsqlDataSource.Create(server);
        _database = $"promptvault_bench_{Guid.NewGuid():N}";
        await using (var create = _admin.CreateCommand($"CREATE DATABASE {_database}"))
            await create.ExecuteNonQueryAsync();
        _dataSource = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(server) { Database = _database }.ConnectionString);
        await new PostgresDatabase(_dataSource).MigrateAsync();
        _postgres = new PostgresPromptStore(_dataSource);

        _sqliteDatabase = await BenchmarkSqlite.CreateAsync();
        _sqlite = _sqliteDatabase.Store;

        var experiment = await SeedAsync(_sqlite);
        await SeedAsync(_postgres);
        var random = new Random(3);
        _events = BenchmarkEvents.Create(100_000, seed: 1).Select(e =>
        {
            var unit = $"unit-{random.Next(Units):D5}";
            var variant = Assignment.VariantFor(experiment, unit);
            return e with { VersionId = variant.VersionId, ExperimentId = experiment.Id, VariantId = variant.Id, UnitId = unit };
        }).ToArray();
    }

    /// <summary>A prompt with a version, a running experiment on it, and every unit exposed.</summary>
    private static async Task<Experiment> SeedAsync<TStore>(TStore store) where TStore : IPromptStore, IExperimentStore
    {
        var now = DateTimeOffset.UnixEpoch;
        var experiment = await BenchmarkExperiment.SeedAsync(store, ("control", "Control", 50), ("challenger", "Challenger", 50));
        for (var unit = 0; unit < Units; unit++)
        {
            var unitId = $"unit-{unit:D5}";
            store.QueueExposure(new Exposure(experiment.Id, Assignment.VariantFor(experiment, unitId).Id, unitId, now));
        }
        await store.CountExposuresAsync(experiment.Id); // waits for the queued exposures
        return experiment;
    }

    private async Task CleanupAsync()
    {
        await _sqliteDatabase.DisposeAsync();
        await _postgres.DisposeAsync();
        await _dataSource.DisposeAsync();
        await using (var drop = _admin.CreateCommand($"DROP DATABASE IF EXISTS {_database} WITH (FORCE)"))
            await drop.ExecuteNonQueryAsync();
        await _admin.DisposeAsync();
    }
}
