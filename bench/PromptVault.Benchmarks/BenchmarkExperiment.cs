using PromptVault.Core.Experiments;
using PromptVault.Core.Metrics;
using PromptVault.Core.Prompts;
using PromptVault.Core.Storage;
using PromptVault.Core.Versioning;

namespace PromptVault.Benchmarks;

/// <summary>The prompt and running experiment the storage benchmarks write against.</summary>
internal static class BenchmarkExperiment
{
    /// <summary>
    /// Saves a prompt with one production version (<c>version-1</c>) and starts experiment <c>experiment-1</c> on it, each
    /// of <paramref name="variants"/> serving that version.
    /// </summary>
    public static async Task<Experiment> SeedAsync<TStore>(TStore store, params (string Id, string Name, decimal Weight)[] variants)
        where TStore : IPromptStore, IExperimentStore
    {
        var now = DateTimeOffset.UnixEpoch;
        var prompt = new Prompt("prompt-1", "customer-support", "", PromptType.System, [], null, now, "bench", now, "bench");
        var version = new PromptVersion("version-1", prompt.Id, 1, new SemanticVersion(1, 0, 0), "Hello", [], PromptMetadata.Empty, "first", "bench", now, VersionStatus.Production);
        await store.SaveAsync(new PromptChanges { NewPrompt = prompt, NewVersion = version });
        var experiment = new Experiment("experiment-1", prompt.Id, prompt.Name, "Tone", "", variants.Select(v => new Variant(v.Id, v.Name, version.Id, v.Weight)).ToArray(),
            MetricName.ConversionRate, 1_000, 0.95, 0.10, 0.8, [], PromoteWinner: false, ExperimentStatus.Running, HashSeed: 42, Winner: null,
            StatusReason: null, now, "bench", now, now, EndedAt: null);
        await store.CreateExperimentAsync(experiment, []);
        return experiment;
    }
}
