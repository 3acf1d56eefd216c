using BenchmarkDotNet.Attributes;
using PromptVault.Core.Experiments;
using PromptVault.Core.Storage;
using PromptVault.Storage.Sqlite;

namespace PromptVault.Benchmarks;

/// <summary>
/// A render's exposure, written: <c>SqlitePromptStore.QueueExposure</c> for 1,000 new units (random GUIDs, as SDKs send
/// them) of a running three-variant experiment, then a read that waits until the writer has committed them. Per exposure:
/// the queue, the writer's insert, its look for the unit's earlier events and the variants' unit counts.
/// </summary>
/// <remarks>A fresh database file per run in the temp folder (WAL, synchronous=NORMAL as the server uses); the table grows as the run goes on.</remarks>
[MemoryDiagnoser]
[MedianColumn]
public class SqliteExposureBenchmarks
{
    private const int ExposuresPerInvoke = 1_000;

    private BenchmarkSqlite _database = null!;
    private SqlitePromptStore _store = null!;
    private Experiment _experiment = null!;

    [GlobalSetup]
    public void Setup() => SetupAsync().GetAwaiter().GetResult();

    [GlobalCleanup]
    public void Cleanup() => _database.DisposeAsync().AsTask().GetAwaiter().GetResult();

    [Benchmark(OperationsPerInvoke = ExposuresPerInvoke)]
    public async Task<int> QueueAndWrite()
    {
        var now = DateTimeOffset.UtcNow;
        for (var i = 0; i < ExposuresPerInvoke; i++)
        {
            var unit = Guid.NewGuid().ToString();
            _store.QueueExposure(new Exposure(_experiment.Id, Assignment.VariantFor(_experiment, unit).Id, unit, now));
        }
        return (await _store.CountExposuresAsync(_experiment.Id)).Count;
    }

    private async Task SetupAsync()
    {
        _database = await BenchmarkSqlite.CreateAsync();
        _store = _database.Store;

        _experiment = await BenchmarkExperiment.SeedAsync(_store, ("control", "Control", 50), ("concise", "Concise", 25), ("warm", "Warm", 25));
    }
}
