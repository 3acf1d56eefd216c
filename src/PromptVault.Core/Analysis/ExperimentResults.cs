using System.Text.Json.Serialization;

using PromptVault.Core.Experiments;
using PromptVault.Core.Metrics;

namespace PromptVault.Core.Analysis;

// The results document of SPEC §3 (GET /api/experiments/{id}/results). Undefined figures (no data yet, or the
// control row's comparisons) are null, never NaN.

/// <param name="Winner">The winning variant's id: the experiment's recorded winner once completed, else what the
/// sequential test supports right now (null when nothing is significant yet).</param>
/// <param name="RequiredSampleSize">Events per variant on the target metric needed to detect the minimum detectable
/// effect with the experiment's power under the sequential test, and at least <c>minimumSampleSize</c>; null until the
/// control has the data for a baseline (or when its value is 0).</param>
/// <param name="RemainingSampleSize">How many more target-metric events the variants need in all to reach it.</param>
/// <param name="Guardrails">One result per guardrail and non-control variant.</param>
public sealed record ExperimentResults(
    string ExperimentId,
    ExperimentStatus Status,
    MetricName TargetMetric,
    double ConfidenceLevel,
    string? Winner,
    SampleRatioCheck Srm,
    long? RequiredSampleSize,
    long? RemainingSampleSize,
    IReadOnlyList<VariantResults> Variants,
    IReadOnlyList<GuardrailResult> Guardrails,
    ExperimentDecision Decision);

/// <param name="PValue">Chi-square goodness of fit of the exposures against the weights; null without exposures.</param>
/// <param name="Mismatch">True when <paramref name="PValue"/> is below 0.001.</param>
public sealed record SampleRatioCheck(double? PValue, bool Mismatch);

/// <param name="Metrics">By metric wire name (<c>conversionRate</c>, …), the target metric first.</param>
public sealed record VariantResults(
    string VariantId,
    string Name,
    bool IsControl,
    decimal Weight,
    long Exposures,
    IReadOnlyDictionary<string, MetricResult> Metrics);

/// <param name="N">Events carrying the metric (all events for the error rate).</param>
/// <param name="Value">The rate or mean.</param>
/// <param name="DifferenceCi">Two-element [lo, hi] at the experiment's confidence level.</param>
/// <param name="PValue">Two-sided, fixed-horizon: the two-proportion z-test for rates, Welch's t-test for means.</param>
/// <param name="AdjustedPValue"><paramref name="PValue"/> after Holm's adjustment across the non-control variants.</param>
/// <param name="SequentialPValue">The always-valid p-value of the mSPRT: valid however often it is looked at.</param>
/// <param name="AdjustedSequentialPValue"><paramref name="SequentialPValue"/> after Holm's adjustment across the
/// non-control variants; auto-completion compares this one with 1 − confidenceLevel.</param>
/// <param name="ChanceToBeatControl">The probability that this variant is better than control, in the metric's good direction.</param>
public sealed record MetricResult(
    long N,
    double? Value,
    double? Difference,
    IReadOnlyList<double>? DifferenceCi,
    double? RelativeDifference,
    IReadOnlyList<double>? RelativeCi,
    double? PValue,
    double? AdjustedPValue,
    double? SequentialPValue,
    double? AdjustedSequentialPValue,
    double? ChanceToBeatControl);

/// <summary>One guardrail checked for one variant against control.</summary>
/// <param name="RelativeChange">The relative change in the harmful direction (positive is worse).</param>
/// <param name="RelativeChangeCi">The always-valid (mSPRT) interval of <paramref name="RelativeChange"/>, [lo, hi].</param>
/// <param name="Breached">True when that interval lies entirely above the threshold.</param>
public sealed record GuardrailResult(
    MetricName Metric,
    double Threshold,
    string VariantId,
    double? RelativeChange,
    IReadOnlyList<double>? RelativeChangeCi,
    bool Breached);

/// <summary>What auto-completion should do now.</summary>
/// <param name="Action"><c>none</c>, <c>complete</c> (a significant winner on the target) or <c>pause</c> (a guardrail breached).</param>
/// <param name="Winner">The winning variant's id when completing.</param>
/// <param name="Reason">A sentence for the audit log and the experiment's status reason.</param>
public sealed record ExperimentDecision(DecisionAction Action, string? Winner, string? Reason);

public enum DecisionAction
{
    [JsonStringEnumMemberName("none")] None,
    [JsonStringEnumMemberName("complete")] Complete,
    [JsonStringEnumMemberName("pause")] Pause,
}
