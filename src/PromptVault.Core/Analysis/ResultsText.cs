using System.Globalization;
using PromptVault.Core.Experiments;
using PromptVault.Core.Metrics;

namespace PromptVault.Core.Analysis;

/// <summary>
/// An experiment's results and a version's metrics as people read them: the CLI's <c>experiment results</c> and <c>metrics</c>
/// and the dashboard's experiment and prompt pages format through here, in the invariant culture, so a figure reads the same in both (docs/statistics.md).
/// </summary>
public static class ResultsText
{
    /// <summary>What an undefined figure (null in the results document) shows.</summary>
    public const string Missing = "–";

    /// <summary>The label of <see cref="MetricResult.AdjustedSequentialPValue"/>, the p-value auto-completion compares with α.</summary>
    public const string SequentialPLabel = "Sequential p (Holm)";

    /// <summary>The label of <see cref="MetricResult.AdjustedPValue"/>: fixed-horizon, Holm-adjusted like the sequential one.</summary>
    public const string FixedPLabel = "p (fixed, Holm)";

    /// <summary>What marks a comparison that is not <see cref="MetricResult.Settled"/>: its figures are not a result yet.</summary>
    public const string UnsettledNote = "below minimum sample";

    /// <summary>A metric's value: a rate in percent, a cost in dollars (<see cref="Cost"/>), other means to three decimals.</summary>
    public static string Value(MetricName metric, double? value) => value switch
    {
        null => Missing,
        { } v when metric.IsRate() => Percent(v),
        { } v when metric == MetricName.AvgCost => Cost(v),
        { } v => v.ToString("0.###", CultureInfo.InvariantCulture),
    };

    /// <summary>
    /// An amount of cost in dollars, as the CLI and docs write it (the built-in price table is in USD): below a dollar to six
    /// decimals, as a call costs fractions of a cent; from a dollar, to the cent.
    /// </summary>
    public static string Cost(double? value) =>
        value is { } v ? "$" + v.ToString(Math.Abs(v) < 1 ? "0.######" : "#,0.00", CultureInfo.InvariantCulture) : Missing;

    /// <summary>
    /// treatment − control: percentage points for a rate, dollars to six decimals for a cost (a difference of fractions of a
    /// cent), the metric's unit to three decimals for another mean.
    /// </summary>
    public static string Difference(MetricName metric, double? difference)
    {
        if (difference is not { } d) return Missing;
        if (metric.IsRate()) return (d * 100).ToString("+0.0#;-0.0#;0.0", CultureInfo.InvariantCulture) + " pp";
        var format = metric == MetricName.AvgCost ? "+$0.######;-$0.######;$0" : "+0.###;-0.###;0";
        return d.ToString(format, CultureInfo.InvariantCulture);
    }

    /// <summary>An interval of the difference (<c>sequentialCi</c>, <c>differenceCi</c>), "low to high" in <see cref="Difference"/>'s terms.</summary>
    public static string DifferenceInterval(MetricName metric, IReadOnlyList<double>? interval) =>
        interval is [var low, var high] ? $"{Difference(metric, low)} to {Difference(metric, high)}" : Missing;

    /// <summary>
    /// A share or probability (confidence level, chance to beat control, a rate): 0.95 is "95%". One that would round to
    /// 0% or 100% without being it reads "&lt;0.01%" or "&gt;99.99%", as a p-value reads "&lt;0.0001": a chance to beat control of
    /// 0.999992 read "100%", a certainty no test gives.
    /// </summary>
    public static string Percent(double? value) => value switch
    {
        null => Missing,
        > 0 and < 0.00005 => "<0.01%",
        >= 0.99995 and < 1 => ">99.99%",
        { } v => v.ToString("0.##%", CultureInfo.InvariantCulture),
    };

    /// <summary>A relative change (lift, a guardrail's change): 0.05 is "+5.0%".</summary>
    public static string SignedPercent(double? value) => value?.ToString("+0.0%;-0.0%;0.0%", CultureInfo.InvariantCulture) ?? Missing;

    /// <summary>An interval of a relative change (<c>relativeCi</c>, a guardrail's), "low to high" in <see cref="SignedPercent"/>'s terms.</summary>
    public static string SignedPercentInterval(IReadOnlyList<double>? interval) =>
        interval is [var low, var high] ? $"{SignedPercent(low)} to {SignedPercent(high)}" : Missing;

    /// <summary>
    /// One guardrail of one variant, as the CLI and the dashboard list them: its change, always-valid interval and limit,
    /// then its state (breached, holding, or waiting for more units while not <see cref="GuardrailResult.Settled"/>).
    /// </summary>
    public static string GuardrailLine(GuardrailResult guardrail, string? variantName) =>
        $"{Names.Of(guardrail.Metric)} on {variantName}: change {SignedPercent(guardrail.RelativeChange)} (always-valid "
        + $"{SignedPercentInterval(guardrail.RelativeChangeCi)}), limit {Percent(guardrail.Threshold)} — "
        + (guardrail.Breached ? "breached" : guardrail.Settled ? "holding" : "waiting for more units");

    /// <summary>
    /// What the experiment has decided, as the CLI's <c>experiment results</c> and the dashboard's experiment page say it: the
    /// winner on the target, or why there is none (yet); then why: what the analysis would do now (<see cref="ExperimentDecision.Reason"/>)
    /// or, when it does nothing, why the system last moved the experiment (<see cref="ExperimentResults.StatusReason"/>).
    /// </summary>
    public static string Decision(ExperimentResults results)
    {
        var winner = results.Variants.FirstOrDefault(v => v.VariantId == results.Winner)?.Name ?? results.Winner;
        var outcome = (winner, results.Status) switch
        {
            ({ } w, _) => $"{w} wins on {Names.Of(results.TargetMetric)}.",
            (null, ExperimentStatus.Draft) => "Not started: start it to send traffic to the variants.",
            (null, ExperimentStatus.Completed) => "No winner: it completed with no significant difference under the sequential test.",
            (null, ExperimentStatus.Cancelled) => "No winner: it was cancelled.",
            _ when results.Srm.Mismatch => "No winner yet: withheld while the exposures do not follow the weights.",
            _ => "No winner yet: no significant difference under the sequential test.",
        };
        return (results.Decision.Reason ?? results.StatusReason) is { } reason ? $"{outcome} {reason}" : outcome;
    }

    /// <summary>A p-value to four decimals; below 0.0001 "&lt;0.0001", not a rounded 0 that reads as impossible.</summary>
    public static string P(double? p) => p switch
    {
        null => Missing,
        < 0.0001 => "<0.0001",
        { } v => v.ToString("0.####", CultureInfo.InvariantCulture),
    };

    /// <summary>
    /// What a completed experiment's progress says of its size: the units it ended with and, when a winner stopped it before
    /// the planned sample size, why that is sound (docs/statistics.md: the always-valid test may be looked at any time).
    /// </summary>
    public static string Ended(long units, long? planned, bool decided)
    {
        var ended = $"It ended with {units.ToString("N0", CultureInfo.InvariantCulture)} units per variant (the smallest variant counts)";
        if (planned is not { } size)
            return ended + ".";
        var sized = size.ToString("N0", CultureInfo.InvariantCulture);
        return decided && units < size
            ? $"{ended}, before the {sized} planned to detect the minimum detectable effect with the planned power: the sequential test allows stopping as soon as the evidence is strong enough, without raising the chance of a false winner."
            : $"{ended}; detecting the minimum detectable effect with the planned power needed {sized}.";
    }

    /// <summary>A p-value within a sentence, as <see cref="P"/> shows it: "p = 0.0123", or "p &lt; 0.0001".</summary>
    public static string PIs(double? p) => p < 0.0001 ? "p < 0.0001" : $"p = {P(p)}";

    /// <summary>
    /// A latency percentile in milliseconds, marked ≈: stored as histogram buckets, it is within 1% of the true one
    /// (docs/metrics.md), while a mean is exact; with one event of 500 ms the median reads ≈495.3.
    /// </summary>
    public static string Percentile(double? milliseconds) =>
        milliseconds is { } ms ? "≈" + ms.ToString("0.#", CultureInfo.InvariantCulture) : Missing;
}
