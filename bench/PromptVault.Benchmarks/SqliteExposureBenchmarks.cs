using BenchmarkDotNet.Attributes;
using PromptVault.Core.Experiments;
using PromptVault.Core.Metrics;
using PromptVault.Core.Storage;
using PromptVault.Core.Prompts;
using PromptVault.Core.Versioning;
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

    private string _directory = null!;
    private SqlitePromptStore _store = null!;
    private Experiment _experiment = null!;

    [GlobalSetup]
    public void Setup() => SetupAsync().GetAwaiter().GetResult();

    [GlobalCleanup]
    public void Cleanup()
    {
        _store.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

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
        _directory = Path.Combine(Path.GetTempPath(), "promptvault-bench", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_directory);
        var connections = new SqliteConnectionFactory(Path.Combine(_directory, "promptvault.db"));
        await new SqliteDatabase(connections).MigrateAsync();
        _store = new SqlitePromptStore(connections);

        var now = DateTimeOffset.UnixEpoch;
        var prompt = new Prompt("prompt-1", "customer-support", "", PromptType.System, [], null, now, "bench", now, "bench");
        var version = new PromptVersion("version-1", prompt.Id, 1, new SemanticVersion(1, 0, 0), "Hello", [], PromptMetadata.Empty, "first", "bench", now, VersionStatus.Production);
        await _store.SaveAsync(new PromptChanges { NewPrompt = prompt, NewVersion = version });
        Variant[] variants = [new("control", "Control", version.Id, 50), new("concise", "Concise", version.Id, 25), new("warm", "Warm", version.Id, 25)];
        _experiment = new Experiment("experiment-1", prompt.Id, prompt.Name, "Tone", "", variants, MetricName.ConversionRate, 1_000, 0.95, 0.10, 0.8,
            [], PromoteWinner: false, ExperimentStatus.Running, HashSeed: 42, Winner: null, StatusReason: null, now, "bench", now, now, EndedAt: null);
        await _store.CreateExperimentAsync(_experiment, []);
    }
}
