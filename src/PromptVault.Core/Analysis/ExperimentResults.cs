using System.Text.Json.Serialization;
using PromptVault.Core.Experiments;
using PromptVault.Core.Metrics;

namespace PromptVault.Core.Analysis;

// The results document of SPEC §3 (GET /api/experiments/{id}/results). Undefined figures (no data yet, or the
// control row's comparisons) are null, never NaN.

/// <param name="Winner">The winning variant's id: the experiment's recorded winner once completed, else what the
/// sequential test supports right now (null when nothing is significant yet).</param>
/// <param name="StatusReason">Why the system last moved the experiment (a significant winner, a breached guardrail), as the
/// experiment's own <c>statusReason</c>; null when a person moved it or it never moved.</param>
/// <param name="RequiredSampleSize">Units per variant (the target metric's <c>n</c>) needed to detect the minimum
/// detectable effect with the experiment's power under the sequential test, and at least <c>minimumSampleSize</c>; null
/// with <paramref name="RequiredSampleSizeReason"/> when it cannot be told.</param>
/// <param name="RequiredSampleSizeReason">Why <paramref name="RequiredSampleSize"/> is null (no baseline yet, a control
/// value of 0, no variance yet, an effect that is impossible or beyond reach); null when it is a number.</param>
/// <param name="RemainingSampleSize">How many more units (target-metric <c>n</c>) the variants need in all to reach it; null
/// when it cannot be told, and once the experiment is completed or cancelled, as it takes no more units.</param>
/// <param name="Guardrails">One result per guardrail and non-control variant.</param>
public sealed record ExperimentResults(
    string ExperimentId,
    ExperimentStatus Status,
    string? StatusReason,
    MetricName TargetMetric,
    double ConfidenceLevel,
    string? Winner,
    SampleRatioCheck Srm,
    long? RequiredSampleSize,
    string? RequiredSampleSizeReason,
    long? RemainingSampleSize,
    IReadOnlyList<VariantResults> Variants,
    IReadOnlyList<GuardrailResult> Guardrails,
    ExperimentDecision Decision)
{
    /// <summary>The running minima after this look, for the caller to store and pass back as the next look's
    /// <c>previous</c>; not part of the results document.</summary>
    [JsonIgnore]
    public SequentialState? State { get; init; }
}

/// <param name="PValue">The always-valid p-value of the sequential test (Dirichlet–multinomial mixture, Lindon &amp; Malek
/// 2022) of the exposures against the weights, as a running minimum over looks; null without exposures.</param>
/// <param name="Mismatch">True when <paramref name="PValue"/> is below 0.001.</param>
/// <param name="Sequential">True: <paramref name="PValue"/> is valid however often it is looked at.</param>
/// <param name="ChiSquarePValue">Pearson's chi-square p-value of this look alone: fixed-horizon, for reference.</param>
public sealed record SampleRatioCheck(double? PValue, bool Mismatch, bool Sequential, double? ChiSquarePValue);

/// <param name="Exposures">Exposed units.</param>
/// <param name="Metrics">By metric wire name (<c>conversionRate</c>, …), the target metric first.</param>
/// <param name="UnattributedEvents">Events that named this variant but do not count for it: their unit has no exposure,
/// or an exposure to another variant.</param>
public sealed record VariantResults(
    string VariantId,
    string Name,
    bool IsControl,
    decimal Weight,
    long Exposures,
    IReadOnlyDictionary<string, MetricResult> Metrics,
    long UnattributedEvents);

/// <summary>
/// One metric of one variant. Analysed by unit (SPEC §3). Safe to watch continuously: <paramref name="SequentialPValue"/>,
/// <paramref name="AdjustedSequentialPValue"/> and <paramref name="SequentialCi"/>. Fixed-horizon (valid only when read
/// once, at a sample size fixed in advance): <paramref name="DifferenceCi"/>, <paramref name="RelativeCi"/>,
/// <paramref name="PValue"/>, <paramref name="AdjustedPValue"/>, <paramref name="ChanceToBeatControl"/>.
/// </summary>
/// <param name="N">Exposed units for <c>conversionRate</c>; exposed units with events carrying the metric otherwise.</param>
/// <param name="Value">The rate or mean: converted units / exposed units, or Σ values / Σ events carrying them.</param>
/// <param name="DifferenceCi">Fixed-horizon, two-element [lo, hi] at the experiment's confidence level.</param>
/// <param name="PValue">Two-sided, fixed-horizon: the two-proportion z-test on units for <c>conversionRate</c>, Welch's t
/// on the delta-method variances across units for the ratio metrics.</param>
/// <param name="AdjustedPValue"><paramref name="PValue"/> after Holm's adjustment across the non-control variants.</param>
/// <param name="SequentialPValue">The always-valid p-value of the mSPRT as a running minimum over looks: valid however
/// often it is looked at, and it never rises.</param>
/// <param name="AdjustedSequentialPValue"><paramref name="SequentialPValue"/> after Holm's adjustment across the
/// non-control variants; auto-completion compares this one with 1 − confidenceLevel.</param>
/// <param name="ChanceToBeatControl">Fixed-horizon: the probability that this variant is better than control, in the
/// metric's good direction, under a normal approximation.</param>
/// <param name="SequentialCi">The always-valid (mSPRT) interval of <paramref name="Difference"/>, [lo, hi], at
/// 1 − α/m for m non-control variants: the interval to watch.</param>
/// <param name="Reason">Why this row's comparisons are null (no data, too few units, no variance, a control value of 0);
/// null when they are numbers and on the control.</param>
/// <param name="Settled">Every arm has the units on this metric a decision needs (the experiment's <c>minimumSampleSize</c>,
/// and at least 50), as for a guardrail's <see cref="GuardrailResult.Settled"/>; before that the comparisons are reported
/// but nothing acts on them (no winner, no completion), so they are not a result yet. The same on every row of a metric.</param>
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
    double? ChanceToBeatControl,
    IReadOnlyList<double>? SequentialCi,
    string? Reason,
    bool Settled);

/// <summary>One guardrail checked for one variant against control.</summary>
/// <param name="RelativeChange">The relative change in the harmful direction (positive is worse).</param>
/// <param name="RelativeChangeCi">The always-valid (mSPRT) interval of <paramref name="RelativeChange"/>, [lo, hi].</param>
/// <param name="Breached">True when that interval lies entirely above the threshold and <paramref name="Settled"/>.</param>
/// <param name="Settled">Every arm has the units on the metric a decision needs (the experiment's
/// <c>minimumSampleSize</c>, and at least 50); before that the interval rests on too few units to act on, so the
/// guardrail is neither breached nor holding yet.</param>
public sealed record GuardrailResult(
    MetricName Metric,
    double Threshold,
    string VariantId,
    double? RelativeChange,
    IReadOnlyList<double>? RelativeChangeCi,
    bool Breached,
    bool Settled);

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
