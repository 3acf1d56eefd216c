using PromptVault.Core.Metrics;

namespace PromptVault.Core.Experiments;

/// <summary>An experiment on one prompt (SPEC §3). Immutable: every change is a new record saved by the experiment store.</summary>
/// <param name="Variants">At least two; the first is the control. Weights are percentages summing to 100.</param>
/// <param name="HashSeed">The seed of <see cref="Assignment"/>; chosen at creation and never changed.</param>
/// <param name="Winner">The winning variant's id once the experiment completed with one.</param>
/// <param name="StatusReason">Why the status last changed, when the system changed it (a guardrail, a significant winner).</param>
/// <param name="PromotionRefused">Why the winner of a completion with <c>promoteWinner</c> was not promoted (a gate refused it); null
/// when it was promoted, or none was due.</param>
public sealed record Experiment(
    string Id,
    string PromptId,
    string PromptName,
    string Name,
    string Description,
    IReadOnlyList<Variant> Variants,
    MetricName TargetMetric,
    int MinimumSampleSize,
    double ConfidenceLevel,
    double MinimumDetectableEffect,
    double Power,
    IReadOnlyList<Guardrail> Guardrails,
    bool PromoteWinner,
    ExperimentStatus Status,
    ulong HashSeed,
    string? Winner,
    string? StatusReason,
    DateTimeOffset CreatedAt,
    string CreatedBy,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? EndedAt,
    string? PromotionRefused = null)
{
    public Variant Control => Variants[0];

    public Variant? FindVariant(string variantId) => Variants.FirstOrDefault(v => v.Id == variantId);
}

/// <param name="Weight">Percent of traffic, in steps of 0.01 (one assignment bucket).</param>
public sealed record Variant(string Id, string Name, string VersionId, decimal Weight);

/// <summary>The worst relative change allowed on <paramref name="Metric"/> in its harmful direction (0.10: at most 10% worse).</summary>
public sealed record Guardrail(MetricName Metric, double Threshold);
