using System.Collections.Concurrent;
using PromptVault.Core.Auth;
using PromptVault.Core.Experiments;
using PromptVault.Core.Prompts;
using PromptVault.Core.Storage;
using PromptVault.Core.Versioning;

namespace PromptVault.Core.Registry;

/// <summary>
/// What render, metric ingest and authentication read, served from memory: prompts by name, labelled versions, versions by
/// id (within a prompt, or alone as a metric event names them), by number and the latest, the running experiment of each
/// prompt, and active API keys by hash and by id. The stores stay the source of truth and take every write; entries
/// are dropped on each <see cref="RegistryChangeFeed"/> change, before the write's request is answered.
/// </summary>
/// <remarks>
/// A read that raced with a change must not put back what it read before the change, not even for an instant (another
/// request could be served it): each miss notes the feed's sequence before reading the store, and inserts only if the sequence
/// has not moved. The check and the insert hold the same lock as invalidation, and the feed moves the sequence before
/// invalidating, so an entry is either refused or inserted early enough to be invalidated. Hits take no lock. Only what exists is remembered
/// (and the absence of a running experiment), so requests naming random prompts, labels or keys cannot grow it. Unknown key hashes are not cached:
/// a key made by <c>promptvault admin-key</c> (another process, so not on this feed) works at once. Revocation only happens
/// through the API, so it is on the feed (through another server on PostgreSQL: by LISTEN/NOTIFY, within milliseconds).
/// </remarks>
public sealed class RegistryCache : IDisposable
{
    private readonly IPromptStore _prompts;
    private readonly IExperimentStore _experiments;
    private readonly IApiKeyStore _keys;
    private readonly RegistryChangeFeed _changes;
    private readonly IDisposable _subscription;
    private readonly Lock _invalidating = new();

    private readonly ConcurrentDictionary<string, Prompt?> _promptsByName = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string PromptId, string Label), PromptVersion?> _labelled = new();
    private readonly ConcurrentDictionary<(string PromptId, string VersionId), PromptVersion?> _versions = new();
    private readonly ConcurrentDictionary<string, PromptVersion?> _anyVersions = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string PromptId, SemanticVersion Number), PromptVersion?> _numbered = new();
    private readonly ConcurrentDictionary<string, PromptVersion?> _latest = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Experiment?> _running = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ApiKey?> _keysByHash = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ApiKey?> _keysById = new(StringComparer.Ordinal);

    public RegistryCache(IPromptStore prompts, IExperimentStore experiments, IApiKeyStore keys, RegistryChangeFeed changes)
    {
        _prompts = prompts;
        _experiments = experiments;
        _keys = keys;
        _changes = changes;
        _subscription = changes.Subscribe(Invalidate);
    }

    public ValueTask<Prompt?> FindPromptAsync(string name, CancellationToken cancellationToken) =>
        GetAsync(_promptsByName, name, "prompt", _prompts, static (store, name, ct) => store.FindPromptAsync(name, ct), cacheMissing: false, cancellationToken);

    public ValueTask<PromptVersion?> FindLabelledVersionAsync(string promptId, string label, CancellationToken cancellationToken) =>
        GetAsync(_labelled, (PromptId: promptId, Label: label), "label", _prompts, static (store, key, ct) => store.FindLabelledVersionAsync(key.PromptId, key.Label, ct), cacheMissing: false, cancellationToken);

    public ValueTask<PromptVersion?> FindVersionByIdAsync(string promptId, string versionId, CancellationToken cancellationToken) =>
        GetAsync(_versions, (PromptId: promptId, VersionId: versionId), "version", _prompts, static (store, key, ct) => store.FindVersionByIdAsync(key.PromptId, key.VersionId, ct), cacheMissing: false, cancellationToken);

    /// <summary>A version by its id alone, of whichever prompt (what a metric event names).</summary>
    public ValueTask<PromptVersion?> FindAnyVersionAsync(string versionId, CancellationToken cancellationToken) =>
        GetAsync(_anyVersions, versionId, "version", _prompts, static (store, versionId, ct) => store.FindAnyVersionAsync(versionId, ct), cacheMissing: false, cancellationToken);

    public ValueTask<PromptVersion?> FindVersionAsync(string promptId, SemanticVersion number, CancellationToken cancellationToken) =>
        GetAsync(_numbered, (PromptId: promptId, Number: number), "version", _prompts, static (store, key, ct) => store.FindVersionAsync(key.PromptId, key.Number, ct), cacheMissing: false, cancellationToken);

    /// <summary>
    /// The versions of <paramref name="pins"/> (a prompt's id and a version number), as <see cref="FindVersionAsync"/> finds each: those
    /// cached, and the rest read in one store call and cached. A pin the store does not hold is absent.
    /// </summary>
    public async Task<Dictionary<(string PromptId, SemanticVersion Number), PromptVersion>> FindVersionsAsync(
        IReadOnlyCollection<(string PromptId, SemanticVersion Number)> pins, CancellationToken cancellationToken)
    {
        var found = new Dictionary<(string PromptId, SemanticVersion Number), PromptVersion>();
        var missed = new List<(string PromptId, SemanticVersion Number)>();
        foreach (var pin in pins)
        {
            var hit = _numbered.TryGetValue(pin, out var cached);
            Telemetry.CacheLookedUp("version", hit);
            if (!hit) missed.Add(pin);
            else if (cached is not null) found[pin] = cached;
        }
        if (missed.Count == 0)
            return found;
        var sequence = _changes.Sequence;
        var read = await _prompts.FindVersionsAsync(missed, cancellationToken);
        lock (_invalidating)
        {
            foreach (var version in read)
            {
                found[(version.PromptId, version.Version)] = version;
                if (_changes.Sequence == sequence)
                    _numbered[(version.PromptId, version.Version)] = version;
            }
        }
        return found;
    }

    public ValueTask<PromptVersion?> FindLatestVersionAsync(string promptId, CancellationToken cancellationToken) =>
        GetAsync(_latest, promptId, "version", _prompts, static (store, promptId, ct) => store.FindLatestVersionAsync(promptId, ct), cacheMissing: false, cancellationToken);

    /// <summary>The prompt's running experiment; "none" is remembered too, as most prompts have none.</summary>
    public ValueTask<Experiment?> FindRunningExperimentAsync(string promptId, CancellationToken cancellationToken) =>
        GetAsync(_running, promptId, "experiment", _experiments, static (store, promptId, ct) => store.FindRunningExperimentAsync(promptId, ct), cacheMissing: true, cancellationToken);

    public ValueTask<ApiKey?> FindActiveKeyByHashAsync(string keyHash, CancellationToken cancellationToken) =>
        GetAsync(_keysByHash, keyHash, "api_key", _keys, static (store, keyHash, ct) => store.FindActiveByHashAsync(keyHash, ct), cacheMissing: false, cancellationToken);

    /// <summary>An active key by its id (what a dashboard sign-in names, rather than the secret).</summary>
    public ValueTask<ApiKey?> FindActiveKeyByIdAsync(string id, CancellationToken cancellationToken) =>
        GetAsync(_keysById, id, "api_key", _keys, static (store, id, ct) => store.FindActiveByIdAsync(id, ct), cacheMissing: false, cancellationToken);

    public void Dispose() => _subscription.Dispose();

    // The read is a static lambda given its store, so a hit allocates no closure.
    private async ValueTask<TValue?> GetAsync<TKey, TValue, TStore>(ConcurrentDictionary<TKey, TValue?> entries, TKey key, string kind,
        TStore store, Func<TStore, TKey, CancellationToken, Task<TValue?>> read, bool cacheMissing, CancellationToken cancellationToken)
        where TKey : notnull
        where TValue : class
    {
        if (entries.TryGetValue(key, out var cached))
        {
            Telemetry.CacheLookedUp(kind, hit: true);
            return cached;
        }
        Telemetry.CacheLookedUp(kind, hit: false);
        var sequence = _changes.Sequence;
        var value = await read(store, key, cancellationToken);
        if (value is null && !cacheMissing)
            return value;
        lock (_invalidating)
        {
            if (_changes.Sequence == sequence)
                entries[key] = value;
        }
        return value;
    }

    private void Invalidate(RegistryChange change)
    {
        lock (_invalidating) InvalidateLocked(change);
    }

    private void InvalidateLocked(RegistryChange change)
    {
        if (change.Kind == RegistryChangeKind.ApiKeys)
        {
            _keysByHash.Clear();
            _keysById.Clear();
            return;
        }
        if (change.PromptId is not { } promptId)
        {
            _promptsByName.Clear();
            _labelled.Clear();
            _versions.Clear();
            _anyVersions.Clear();
            _numbered.Clear();
            _latest.Clear();
            _running.Clear();
            return;
        }
        _running.TryRemove(promptId, out _);
        if (change.Kind == RegistryChangeKind.Experiment)
            return;
        // A change heard from PostgreSQL names the prompt by id only: drop that prompt's entry, not every prompt's.
        if (change.PromptName is { } name) _promptsByName.TryRemove(name, out _);
        else RemoveWhere(_promptsByName, (_, prompt) => prompt?.Id == promptId);
        RemoveWhere(_labelled, (key, _) => key.PromptId == promptId);
        RemoveWhere(_versions, (key, _) => key.PromptId == promptId);
        RemoveWhere(_anyVersions, (_, version) => version?.PromptId == promptId);
        RemoveWhere(_numbered, (key, _) => key.PromptId == promptId);
        _latest.TryRemove(promptId, out _);
    }

    private static void RemoveWhere<TKey, TValue>(ConcurrentDictionary<TKey, TValue> entries, Func<TKey, TValue, bool> match) where TKey : notnull
    {
        // Enumerating the dictionary itself takes no locks, unlike its Keys snapshot.
        foreach (var (key, value) in entries)
            if (match(key, value))
                entries.TryRemove(key, out _);
    }
}
