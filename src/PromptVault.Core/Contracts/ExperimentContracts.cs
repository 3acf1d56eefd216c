using System.ComponentModel.DataAnnotations;
using PromptVault.Core.Experiments;
using PromptVault.Core.Metrics;

namespace PromptVault.Core.Contracts;

// Request and response bodies of the experiment routes (SPEC §3, §5).

/// <summary>A new experiment on <c>prompt</c> (the prompt's name); the first variant is the control.</summary>
/// <param name="MinimumSampleSize">Units (users) per variant with the target metric before it may complete by itself (default 100, never fewer than 50).</param>
public sealed record CreateExperimentRequest(
    string? Name,
    string? Prompt,
    IReadOnlyList<VariantRequest>? Variants,
    MetricName? TargetMetric = null,
    string? Description = null,
    [property: Range(ExperimentRules.MinMinimumSampleSize, int.MaxValue)] int? MinimumSampleSize = null,
    [property: Range(ExperimentRules.MinConfidenceLevel, ExperimentRules.MaxConfidenceLevel)] double? ConfidenceLevel = null,
    [property: Range(ExperimentRules.MinMinimumDetectableEffect, ExperimentRules.MaxMinimumDetectableEffect)] double? MinimumDetectableEffect = null,
    [property: Range(ExperimentRules.MinPower, ExperimentRules.MaxPower)] double? Power = null,
    IReadOnlyList<GuardrailRequest>? Guardrails = null,
    bool? PromoteWinner = null);

/// <param name="VersionId">A version of the experiment's prompt: its id, or its number (<c>1.0.2</c>).</param>
/// <param name="Weight">Percent of traffic, in steps of 0.01.</param>
public sealed record VariantRequest(string? Name, string? VersionId, decimal? Weight);

public sealed record GuardrailRequest(MetricName? Metric,
    [property: Range(ExperimentRules.MinGuardrailThreshold, ExperimentRules.MaxGuardrailThreshold)] double? Threshold);

/// <param name="HashSeed">The assignment seed as 16 hex digits (see docs/assignment.md).</param>
/// <param name="PromotionRefused">Why the winner of a completion with <c>promoteWinner</c> was not promoted (a gate refused it);
/// null when it was promoted, or none was due.</param>
public sealed record ExperimentResponse(
    string Id,
    string Name,
    string Description,
    string Prompt,
    ExperimentStatus Status,
    string? Winner,
    string? StatusReason,
    IReadOnlyList<VariantResponse> Variants,
    MetricName TargetMetric,
    int MinimumSampleSize,
    double ConfidenceLevel,
    double MinimumDetectableEffect,
    double Power,
    IReadOnlyList<Guardrail> Guardrails,
    bool PromoteWinner,
    string HashSeed,
    int AssignmentVersion,
    DateTimeOffset CreatedAt,
    string CreatedBy,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? EndedAt,
    string? PromotionRefused = null);

/// <param name="Version">The version's number, for people.</param>
public sealed record VariantResponse(string Id, string Name, string VersionId, string Version, decimal Weight, bool IsControl);

/// <param name="Total">How many experiments match, on every page.</param>
/// <param name="Next">The URL of the next page; null on the last.</param>
public sealed record ExperimentListResponse(IReadOnlyList<ExperimentResponse> Experiments, int Total, string? Next = null);

/// <param name="Bucket">The unit's bucket in [0, 10,000) (docs/assignment.md).</param>
public sealed record AssignmentResponse(string ExperimentId, string UnitId, int Bucket, string VariantId, string VariantName, string VersionId);
