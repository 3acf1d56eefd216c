using PromptVault.Core.Audit;
using PromptVault.Core.Prompts;
using PromptVault.Core.Storage;
using PromptVault.Core.Versioning;

namespace PromptVault.Core.Tests.Registry;

/// <summary>
/// A small <see cref="IPromptStore"/> that keeps everything in memory and enforces the same optimistic checks as the real
/// stores, so the registry's use cases can be tested without a database.
/// </summary>
internal sealed class InMemoryPromptStore : IPromptStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Prompt> _prompts = new(StringComparer.Ordinal);
    private readonly List<PromptVersion> _versions = [];
    private readonly List<Label> _labels = [];
    private readonly List<AuditEntry> _audit = [];

    public Task<Prompt?> FindPromptAsync(string name, CancellationToken cancellationToken = default)
    {
        lock (_gate) return Task.FromResult(_prompts.GetValueOrDefault(name));
    }

    public Task<IReadOnlyList<PromptListing>> ListPromptsAsync(PromptFilter filter, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            IReadOnlyList<PromptListing> listings = _prompts.Values
                .Where(p => (filter.Type is null || p.Type == filter.Type)
                    && (filter.Category is null || p.Category == filter.Category)
                    && (filter.Tag is null || p.Tags.Contains(filter.Tag)))
                .OrderBy(p => p.Name, StringComparer.Ordinal)
                .Select(p => new PromptListing(p, Latest(p.Id)!, _labels.Where(l => l.PromptId == p.Id).ToList()))
                .ToList();
            return Task.FromResult(listings);
        }
    }

    public Task<IReadOnlyList<PromptVersion>> ListVersionsAsync(string promptId, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            IReadOnlyList<PromptVersion> versions = _versions.Where(v => v.PromptId == promptId).OrderByDescending(v => v.Sequence).ToList();
            return Task.FromResult(versions);
        }
    }

    public Task<PromptVersion?> FindVersionAsync(string promptId, SemanticVersion version, CancellationToken cancellationToken = default)
    {
        lock (_gate) return Task.FromResult(_versions.FirstOrDefault(v => v.PromptId == promptId && v.Version == version));
    }

    public Task<PromptVersion?> FindVersionByIdAsync(string promptId, string versionId, CancellationToken cancellationToken = default)
    {
        lock (_gate) return Task.FromResult(_versions.FirstOrDefault(v => v.PromptId == promptId && v.Id == versionId));
    }

    public Task<PromptVersion?> FindLatestVersionAsync(string promptId, CancellationToken cancellationToken = default)
    {
        lock (_gate) return Task.FromResult(Latest(promptId));
    }

    public Task<IReadOnlyList<Label>> ListLabelsAsync(string promptId, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            IReadOnlyList<Label> labels = _labels.Where(l => l.PromptId == promptId).ToList();
            return Task.FromResult(labels);
        }
    }

    public Task SaveAsync(PromptChanges changes, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (changes.NewPrompt is { } newPrompt && _prompts.ContainsKey(newPrompt.Name))
                throw new ConflictException("prompt_exists", $"prompt '{newPrompt.Name}' already exists.", "name");
            if (changes.NewVersion is { } newVersion
                && _versions.Any(v => v.PromptId == newVersion.PromptId && (v.Sequence == newVersion.Sequence || v.Version == newVersion.Version)))
                throw new ConcurrentWriteException($"version {newVersion.Version} is taken.");
            foreach (var change in changes.StatusChanges)
            {
                var current = _versions.FirstOrDefault(v => v.Id == change.VersionId)?.Status ?? changes.NewVersion?.Status;
                if (current != change.From) throw new ConcurrentWriteException($"version {change.VersionId} is no longer {change.From}.");
            }
            foreach (var change in changes.LabelChanges)
            {
                var current = _labels.FirstOrDefault(l => l.PromptId == change.PromptId && l.Name == change.Label)?.VersionId;
                if (current != change.FromVersionId) throw new ConcurrentWriteException($"label {change.Label} moved.");
            }

            if (changes.NewPrompt is { } prompt) _prompts[prompt.Name] = prompt;
            if (changes.TouchedPrompt is { } touched) _prompts[touched.Name] = touched;
            if (changes.NewVersion is { } version) _versions.Add(version);
            foreach (var change in changes.StatusChanges)
            {
                var index = _versions.FindIndex(v => v.Id == change.VersionId);
                _versions[index] = _versions[index] with { Status = change.To };
            }
            foreach (var change in changes.LabelChanges)
            {
                _labels.RemoveAll(l => l.PromptId == change.PromptId && l.Name == change.Label);
                if (change.ToVersionId is null) continue;
                var target = _versions.Single(v => v.Id == change.ToVersionId);
                _labels.Add(new Label(change.PromptId, change.Label, target.Id, target.Version, change.At, change.By));
            }
            foreach (var entry in changes.Audit) _audit.Add(entry with { Id = _audit.Count + 1 });
        }
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<AuditEntry>> ListAuditAsync(AuditQuery query, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            IReadOnlyList<AuditEntry> entries = _audit
                .Where(e => query.PromptName is null || e.PromptName == query.PromptName)
                .OrderByDescending(e => e.Id)
                .Take(query.Limit)
                .ToList();
            return Task.FromResult(entries);
        }
    }

    private PromptVersion? Latest(string promptId) =>
        _versions.Where(v => v.PromptId == promptId).MaxBy(v => v.Sequence);
}
