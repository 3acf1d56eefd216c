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
    public SemanticVersion? Number { get; } = SemanticVersion.TryParse(version.Version, out var number) ? number : null;

    /// <summary>The version's model settings as Microsoft.Extensions.AI options; a new instance per call, as callers may change it.</summary>
    public ChatOptions NewChatOptions()
    {
        var metadata = Version.Metadata ?? PromptMetadata.Empty;
        return new ChatOptions
        {
            ModelId = metadata.Model,
            Temperature = (float?)metadata.Temperature,
            MaxOutputTokens = metadata.MaxTokens,
            TopP = (float?)metadata.TopP,
            FrequencyPenalty = (float?)metadata.FrequencyPenalty,
            PresencePenalty = (float?)metadata.PresencePenalty,
        };
    }
}

internal sealed record ExperimentView(string Id, ulong HashSeed, int[] BucketEnds, (string VariantId, VersionView Version)[] Variants);
