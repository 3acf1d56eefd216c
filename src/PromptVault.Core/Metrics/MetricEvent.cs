using System.Text.Json;

namespace PromptVault.Core.Metrics;

/// <summary>One recorded call of a prompt version (SPEC §4), after validation; every measure is optional.</summary>
/// <param name="Id">The caller's id for the event; an event whose id was stored before is not counted again.</param>
/// <param name="Cost">As sent, or computed from the model's prices when the event carries tokens but no cost.</param>
/// <param name="Error">A short error kind; an event with one counts towards the error rate.</param>
public sealed record MetricEvent(
    string? Id,
    string VersionId,
    string? ExperimentId,
    string? VariantId,
    string? UnitId,
    DateTimeOffset Timestamp,
    double? LatencyMs,
    long? InputTokens,
    long? OutputTokens,
    double? Cost,
    double? QualityScore,
    double? UserFeedback,
    bool? Converted,
    string? Error,
    JsonElement? Metadata)
{
    /// <summary>
    /// What the event's tokens were priced at when that came to more than <see cref="MetricEventRules.MaxCost"/>, so that
    /// <see cref="Cost"/> is null (<see cref="MetricEventRules.PricedEventCost"/>): for the caller to report; never stored.
    /// </summary>
    public double? CostAboveMax { get; init; }
}
