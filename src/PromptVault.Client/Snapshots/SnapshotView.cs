using System.Collections.Concurrent;
using System.Collections.Frozen;
using Microsoft.Extensions.AI;
using PromptVault.Core;
using PromptVault.Core.Contracts;
using PromptVault.Core.Experiments;
using PromptVault.Core.Prompts;
using PromptVault.Core.Templates;
using PromptVault.Core.Versioning;

namespace PromptVault.Client.Snapshots;

/// <summary>
/// A snapshot made ready to serve: prompts by name, labels and versions resolved to compiled templates, each running
/// experiment's bucket ends computed once. Immutable; replaced whole when a newer snapshot arrives.
/// </summary>
internal sealed class SnapshotView
{
    private SnapshotView(long sequence, FrozenDictionary<string, PromptView> prompts)
    {
        Sequence = sequence;
        Prompts = prompts;
    }

    public long Sequence { get; }

    public FrozenDictionary<string, PromptView> Prompts { get; }

    private readonly ConcurrentDictionary<string, Lazy<PromptIncludes>> _includes = new(StringComparer.Ordinal);

    /// <summary>
    /// The versions <paramref name="version"/> includes, resolved within this snapshot as the server resolves them (labels as
    /// the snapshot holds them, pinned versions carried with it); once per version, as the snapshot never changes.
    /// </summary>
    /// <exception cref="InvalidInputException">An include names no version in the snapshot.</exception>
    /// <exception cref="ConflictException">The includes form a cycle, or include an archived version.</exception>
    public PromptIncludes IncludesOf(PromptView prompt, VersionView version) =>
        version.References.Count == 0
            ? PromptIncludes.None
            : _includes.GetOrAdd(version.Version.Id, _ => new(() => PromptIncludes.Resolve(prompt.Name, version.References, FindIncluded))).Value;

    private IncludedPrompt? FindIncluded(PromptReference reference)
    {
        if (!Prompts.TryGetValue(reference.Name, out var prompt)) return null;
        var version = reference.Version is { } number ? prompt.VersionsByNumber.GetValueOrDefault(number) : prompt.Labels.GetValueOrDefault(reference.Label!);
        if (version is null) return null;
        Serving.EnsureServable(prompt.Name, version.Version.Version, version.Version.Status);
        return new IncludedPrompt(new ReferencedVersion(prompt.Name, version.Version.Version, version.Version.Id), version.Template);
    }

    /// <exception cref="InvalidDataException">The snapshot uses an assignment algorithm this SDK does not know, or is inconsistent.</exception>
    /// <exception cref="InvalidInputException">A version's template does not compile (the server checked it, so the snapshot is damaged).</exception>
    public static SnapshotView Build(SdkSnapshot snapshot, TemplateEngine templates)
    {
        if (snapshot.AssignmentVersion != Assignment.AlgorithmVersion)
            throw new InvalidDataException(
                $"the snapshot assigns units with algorithm version {snapshot.AssignmentVersion}; this SDK knows version {Assignment.AlgorithmVersion}. Update PromptVault.Client.");
        var experiments = (snapshot.Experiments ?? []).ToDictionary(e => e.Prompt, StringComparer.Ordinal);
        var prompts = (snapshot.Prompts ?? []).ToFrozenDictionary(p => p.Name, p => PromptView.Build(p, experiments.GetValueOrDefault(p.Name), templates), StringComparer.Ordinal);
        return new SnapshotView(snapshot.Sequence, prompts);
    }
}

internal sealed class PromptView
{
    public required string Name { get; init; }
    public required PromptType Type { get; init; }
    public required FrozenDictionary<string, VersionView> Labels { get; init; }
    public required FrozenDictionary<string, VersionView> VersionsById { get; init; }
    public required FrozenDictionary<SemanticVersion, VersionView> VersionsByNumber { get; init; }
    public VersionView? Latest { get; init; }
    public ExperimentView? Experiment { get; init; }

    /// <summary>Version id → number of the prompt's archived versions (the snapshot's <c>archived</c>).</summary>
    public required FrozenDictionary<string, SemanticVersion> ArchivedById { get; init; }

    /// <summary>The number of the archived version <paramref name="version"/> names (a number or an id); null when it names none.</summary>
    public SemanticVersion? ArchivedNumber(string version) =>
        SemanticVersion.TryParse(version, out var number) ? (ArchivedById.Values.Contains(number) ? number : null)
        : ArchivedById.TryGetValue(version, out var byId) ? byId : null;

    public static PromptView Build(SdkPrompt prompt, SdkExperiment? experiment, TemplateEngine templates)
    {
        var versions = prompt.Versions.ToFrozenDictionary(v => v.Id, v => new VersionView(v, templates.For(v.Id, v.Content, v.Variables),
            v.Messages is null ? null : templates.ChatFor(v.Id, v.Messages, v.Variables)), StringComparer.Ordinal);
        VersionView Find(string id, string what) => versions.GetValueOrDefault(id)
            ?? throw new InvalidDataException($"the snapshot's {what} of prompt '{prompt.Name}' names version '{id}', which the snapshot does not carry.");
        return new PromptView
        {
            Name = prompt.Name,
            Type = prompt.Type,
            Labels = prompt.Labels.ToFrozenDictionary(l => l.Key, l => Find(l.Value, $"label '{l.Key}'"), StringComparer.Ordinal),
            VersionsById = versions,
            VersionsByNumber = versions.Values.Where(v => v.Number is not null).ToFrozenDictionary(v => v.Number!.Value),
            Latest = prompt.Latest is null ? null : Find(prompt.Latest, "newest version"),
            ArchivedById = (prompt.Archived ?? FrozenDictionary<string, string>.Empty)
                .Select(a => (Id: a.Value, Number: SemanticVersion.TryParse(a.Key, out var number) ? number : (SemanticVersion?)null))
                .Where(a => a.Number is not null).ToFrozenDictionary(a => a.Id, a => a.Number!.Value, StringComparer.Ordinal),
            Experiment = experiment is null ? null : new ExperimentView(experiment.Id, experiment.HashSeed,
                Assignment.BucketEnds(experiment.Variants.Select(v => v.Weight).ToList()),
                experiment.Variants.Select(v => (v.Id, Find(v.VersionId, $"experiment variant '{v.Name}'"))).ToArray()),
        };
    }
}

internal sealed class VersionView(SdkVersion version, CompiledPrompt template, CompiledChat? chat = null)
{
    public SdkVersion Version { get; } = version;
    public CompiledPrompt Template { get; } = template;

    /// <summary>A chat prompt's compiled messages (SPEC §7); null for a text prompt.</summary>
    public CompiledChat? Chat { get; } = chat;

    /// <summary>The prompts the version includes: its messages' for a chat prompt, else its template's.</summary>
    public IReadOnlyList<PromptReference> References => Chat?.References ?? Template.References;
    public SemanticVersion? Number { get; } = SemanticVersion.TryParse(version.Version, out var number) ? number : null;

    // Declarations and formats are immutable, so each version builds its own once; the list holding them is new per call.
    private readonly Lazy<(AITool[]? Tools, ChatResponseFormat? ResponseFormat)> _toolsAndFormat =
        new(() => PromptMetadataChatOptions.ToolsAndFormat(version.Metadata ?? PromptMetadata.Empty));

    /// <summary>The version's model settings as Microsoft.Extensions.AI options; a new instance per call, as callers may change it.</summary>
    public ChatOptions NewChatOptions()
    {
        var (tools, responseFormat) = _toolsAndFormat.Value;
        return (Version.Metadata ?? PromptMetadata.Empty).ToChatOptions(tools, responseFormat);
    }
}

internal sealed record ExperimentView(string Id, ulong HashSeed, int[] BucketEnds, (string VariantId, VersionView Version)[] Variants);
