using BenchmarkDotNet.Attributes;
using Dapper;
using PromptVault.Core.Analysis;
using PromptVault.Core.Metrics;
using PromptVault.Storage.Sqlite;

namespace PromptVault.Benchmarks;

/// <summary>
/// <c>SqlitePromptStore.RecordEventsAsync</c> per event, in batches of 100 events from 100 random units of a running
/// two-variant experiment that already has <see cref="Units"/> exposed units, each with a stored unit row: the raw
/// insert, the version rollups and the unit analysis (the unit's row, its exposure, its variant's row), one transaction
/// per batch. It should cost about the same at any number of units (keyed B-tree lookups: one more level at most).
/// </summary>
/// <remarks>
/// A fresh database file per run in the temp folder (WAL, synchronous=NORMAL as the server uses), filled by SQL in the
/// setup; the batches cycle through 1,000 precomputed ones, so units are drawn at random from the whole table.
/// </remarks>
[MemoryDiagnoser]
[MedianColumn]
public class SqliteUnitRecordingBenchmarks
{
    private const int EventsPerBatch = 100;

    private BenchmarkSqlite _database = null!;
    private SqlitePromptStore _store = null!;
    private MetricEvent[][] _batches = null!;
    private int _next;

    [Params(10_000, 10_000_000)]
    public int Units { get; set; }

    [GlobalSetup]
    public void Setup() => SetupAsync().GetAwaiter().GetResult();

    [GlobalCleanup]
    public void Cleanup() => _database.DisposeAsync().AsTask().GetAwaiter().GetResult();

    [Benchmark(OperationsPerInvoke = EventsPerBatch)]
    public async Task<int> RecordEvents()
    {
        var batch = _batches[_next++ % _batches.Length];
        return (await _store.RecordEventsAsync(batch, null)).Stored;
    }

    private async Task SetupAsync()
    {
        _database = await BenchmarkSqlite.CreateAsync();
        _store = _database.Store;
        var connections = _database.Connections;

        var now = DateTimeOffset.UnixEpoch;
        var experiment = await BenchmarkExperiment.SeedAsync(_store, ("control", "Control", 50), ("challenger", "Challenger", 50));

        // Every unit exposed (even units to control, odd ones to challenger) with four events' sums stored.
        var history = BenchmarkEvents.Create(4, seed: 2);
        var sums = history.Aggregate(default(UnitSums), (s, e) => s.Add(e));
        var stats = new VariantUnitStats();
        for (var unit = 0; unit < Units / 2; unit++)
            stats = stats.Replace(default, sums);
        await using (var connection = await connections.OpenAsync())
        {
            await using var transaction = await connection.BeginTransactionAsync();
            var parameters = new { Experiment = experiment.Id, Units, Sums = UnitStatisticsCodec.Encode(sums), Stats = UnitStatisticsCodec.Encode(stats) };
            const string units = "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < @Units - 1)";
            await connection.ExecuteAsync($"""
                {units} INSERT INTO exposures (experiment_id, unit_id, variant_id, at)
                SELECT @Experiment, printf('unit-%08d', i), CASE i % 2 WHEN 0 THEN 'control' ELSE 'challenger' END, '1970-01-01T00:00:00.0000000+00:00' FROM n
                """, parameters, transaction);
            await connection.ExecuteAsync($"""
                {units} INSERT INTO unit_sums (experiment_id, unit_id, variant_id, sums)
                SELECT @Experiment, printf('unit-%08d', i), CASE i % 2 WHEN 0 THEN 'control' ELSE 'challenger' END, @Sums FROM n
                """, parameters, transaction);
            await connection.ExecuteAsync("""
                INSERT INTO exposure_counts (experiment_id, variant_id, units) VALUES (@Experiment, 'control', @Units / 2), (@Experiment, 'challenger', @Units / 2);
                INSERT INTO variant_unit_stats (experiment_id, variant_id, stats) VALUES (@Experiment, 'control', @Stats), (@Experiment, 'challenger', @Stats);
                """, parameters, transaction);
            await transaction.CommitAsync();
        }

        var random = new Random(3);
        var events = BenchmarkEvents.Create(1_000 * EventsPerBatch, seed: 1);
        _batches = events.Select(e =>
        {
            var unit = random.Next(Units);
            return e with { VersionId = experiment.Variants[0].VersionId, ExperimentId = experiment.Id, VariantId = unit % 2 == 0 ? "control" : "challenger", UnitId = $"unit-{unit:D8}", Timestamp = now };
        }).Chunk(EventsPerBatch).ToArray();
    }
}
