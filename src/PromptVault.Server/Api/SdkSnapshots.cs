using System.Text.Json;
using PromptVault.Core.Contracts;
using PromptVault.Core.Experiments;
using PromptVault.Core.Prompts;
using PromptVault.Core.Registry;
using PromptVault.Core.Storage;
using PromptVault.Core.Templates;

namespace PromptVault.Server.Api;

/// <summary>One built snapshot and its JSON, shared by every caller until the registry changes.</summary>
/// <param name="ETag">The strong entity tag of <paramref name="Json"/>, quotes included.</param>
/// <param name="From">The <see cref="RegistryChangeFeed.Sequence"/> the build started from: it is out of date once the feed moved past.</param>
internal sealed record BuiltSnapshot(SdkSnapshot Snapshot, byte[] Json, string ETag, long From);

/// <summary>
/// The SDK snapshot (<c>GET /api/sdk/snapshot</c>), rebuilt only after a prompt or experiment change on the
/// <see cref="RegistryChangeFeed"/>: from the store's prompt list (one read) and the <see cref="RegistryCache"/> (versions
/// and running experiments, mostly in memory). Concurrent requests after a change share one build.
/// </summary>
/// <remarks>
/// <see cref="SdkSnapshot.Sequence"/> comes from the <see cref="IRegistryClock"/>, read before and after the build: when the
/// two readings agree, the snapshot holds exactly the registry state of that number, so snapshots built by different servers
/// on one database compare (an SDK behind a load balancer never takes an older state for a newer one). When writes keep
/// coming, the build is retried a few times, then labelled with the earlier reading: it holds at least that state.
/// </remarks>
internal sealed class SdkSnapshots : IDisposable
{
    private readonly IPromptStore _prompts;
    private readonly RegistryCache _cache;
    private readonly TemplateEngine _templates;
    private readonly IRegistryClock _clock;
    private readonly TimeProvider _time;
    private readonly IDisposable _subscription;
    private readonly Lock _gate = new();
    private long _changed;
    private volatile BuiltSnapshot? _current;
    private Task<BuiltSnapshot>? _building;
    private long _buildingFrom = -1;

    /// <summary>How many times a build whose clock moved while it ran is redone before it is labelled with the earlier reading.</summary>
    private const int BuildAttempts = 5;

    public SdkSnapshots(IPromptStore prompts, RegistryCache cache, TemplateEngine templates, RegistryChangeFeed changes, IRegistryClock clock, TimeProvider time)
    {
        _prompts = prompts;
        _cache = cache;
        _templates = templates;
        _clock = clock;
        _time = time;
        _changed = changes.Sequence;
        _subscription = changes.Subscribe(OnChange);
    }

    /// <summary>Raised (on the writer's thread, before its request is answered) when the snapshot is out of date; the handler
    /// must only hand the news off.</summary>
    public event Action? Changed;

    /// <summary>How many handlers <see cref="Changed"/> has: the open streams.</summary>
    internal int WatcherCount => Changed?.GetInvocationList().Length ?? 0;

    /// <summary>The current snapshot: the one built, or a new build when the registry changed since.</summary>
    public async ValueTask<BuiltSnapshot> GetAsync(CancellationToken cancellationToken)
    {
        var wanted = Volatile.Read(ref _changed);
        if (_current is { } current && current.From >= wanted)
            return current;
        Task<BuiltSnapshot> build;
        lock (_gate)
        {
            if (_building is null || _buildingFrom < wanted || _building.IsFaulted || _building.IsCanceled)
            {
                _buildingFrom = Volatile.Read(ref _changed);
                _building = BuildAsync(_buildingFrom);
            }
            build = _building;
        }
        return await build.WaitAsync(cancellationToken);
    }

    public void Dispose() => _subscription.Dispose();

    private void OnChange(RegistryChange change)
    {
        // API keys are not in the snapshot.
        if (change.Kind == RegistryChangeKind.ApiKeys)
            return;
        long seen;
        do seen = Volatile.Read(ref _changed);
        while (seen < change.Sequence && Interlocked.CompareExchange(ref _changed, change.Sequence, seen) != seen);
        Changed?.Invoke();
    }

    // Not the caller's token: the build is shared, and one caller going away must not fail the others.
    private async Task<BuiltSnapshot> BuildAsync(long from)
    {
        // GetAsync starts this under its lock: the build must run after it is released.
        await Task.Yield();
        var sequence = await _clock.ReadAsync(CancellationToken.None);
        for (var attempt = 1; ; attempt++)
        {
            var (prompts, experiments) = await ReadAsync();
            var after = await _clock.ReadAsync(CancellationToken.None);
            if (after == sequence || attempt == BuildAttempts)
                return Keep(new SdkSnapshot(sequence, Assignment.AlgorithmVersion, _time.GetUtcNow(), prompts, experiments), from);
            // Changes that came in during the read were announced on the feed before the clock moved, so the next read sees them.
            sequence = after;
            from = Volatile.Read(ref _changed);
        }
    }

    private BuiltSnapshot Keep(SdkSnapshot snapshot, long from)
    {
        var built = new BuiltSnapshot(snapshot, JsonSerializer.SerializeToUtf8Bytes(snapshot, PromptVaultJson.Options), $"\"{snapshot.Sequence}\"", from);
        lock (_gate)
        {
            if (_current is null || _current.From < built.From)
                _current = built;
        }
        return built;
    }

    private async Task<(List<SdkPrompt> Prompts, List<SdkExperiment> Experiments)> ReadAsync()
    {
        var listing = await _prompts.ListPromptsAsync(new PromptFilter());
        var carried = new Dictionary<string, (Prompt Prompt, PromptVersion Latest, IReadOnlyList<Label> Labels, List<PromptVersion> Versions)>(StringComparer.Ordinal);
        var experiments = new List<SdkExperiment>();
        foreach (var (prompt, latest, labels) in listing)
        {
            var running = await _cache.FindRunningExperimentAsync(prompt.Id, CancellationToken.None);
            var versionIds = labels.Select(l => l.VersionId)
                .Concat(running?.Variants.Select(v => v.VersionId) ?? [])
                .Where(id => id != latest.Id)
                .Distinct(StringComparer.Ordinal);
            var versions = new List<PromptVersion> { latest };
            foreach (var versionId in versionIds)
            {
                if (await _cache.FindVersionByIdAsync(prompt.Id, versionId, CancellationToken.None) is { } version)
                    versions.Add(version);
            }
            carried[prompt.Name] = (prompt, latest, labels, versions);
            if (running is not null)
                experiments.Add(new SdkExperiment(running.Id, prompt.Name, running.HashSeed,
                    running.Variants.Select(v => new SdkVariant(v.Id, v.Name, v.VersionId, v.Weight)).ToList()));
        }
        await AddPinnedIncludesAsync(carried.Values.Select(c => (c.Prompt, c.Versions)).ToDictionary(c => c.Prompt.Name, StringComparer.Ordinal));
        var archived = (await _prompts.ListArchivedVersionsAsync()).ToLookup(v => v.PromptId, StringComparer.Ordinal);
        var prompts = carried.Values.Select(c => new SdkPrompt(c.Prompt.Name, c.Prompt.Type,
            c.Labels.OrderBy(l => l.Name, StringComparer.Ordinal).ToDictionary(l => l.Name, l => l.VersionId, StringComparer.Ordinal),
            c.Versions.Select(ToSdk).ToList())
        {
            Latest = c.Latest.Id,
            Archived = archived[c.Prompt.Id].ToDictionary(v => v.Version.ToString(), v => v.Id, StringComparer.Ordinal),
        }).ToList();
        return (prompts, experiments);
    }

    /// <summary>
    /// Adds the versions that carried versions include by number (<c>{{&gt; name@1.2.0}}</c>), and theirs in turn, so the SDK
    /// renders includes offline: label references need nothing more, as the snapshot carries every label.
    /// </summary>
    private async Task AddPinnedIncludesAsync(Dictionary<string, (Prompt Prompt, List<PromptVersion> Versions)> carried)
    {
        var pending = new Queue<PromptVersion>(carried.Values.SelectMany(c => c.Versions));
        while (pending.TryDequeue(out var version))
        {
            foreach (var reference in _templates.ReferencesOf(version))
            {
                if (reference.Version is not { } number || !carried.TryGetValue(reference.Name, out var target)) continue;
                if (target.Versions.Any(v => v.Version == number)) continue;
                if (await _cache.FindVersionAsync(target.Prompt.Id, number, CancellationToken.None) is not { } pinned) continue;
                target.Versions.Add(pinned);
                pending.Enqueue(pinned);
            }
        }
    }

    private static SdkVersion ToSdk(PromptVersion version) =>
        new(version.Id, version.Version.ToString(), version.Content, version.Variables, version.Metadata) { Status = version.Status, Messages = version.Messages };
}
