using PromptVault.Core.Experiments;
using PromptVault.Core.Metrics;

namespace PromptVault.Core.Analysis;

/// <summary>
/// The results of an experiment (SPEC §3) from its exposures and per-variant aggregates: every metric of every variant
/// against control, the sample ratio check, the sample size the sequential test needs, the guardrails, and what
/// auto-completion should do. Pure arithmetic on a few sums, so its cost does not depend on the number of events.
/// The formulas and choices are in <c>docs/statistics.md</c>.
/// </summary>
public static class ExperimentAnalyzer
{
    /// <summary>Analyses <paramref name="experiment"/>; a variant missing from either dictionary has no exposures or events.</summary>
    public static ExperimentResults Analyze(
        Experiment experiment,
        IReadOnlyDictionary<string, long> exposuresByVariantId,
        IReadOnlyDictionary<string, MetricAggregate> aggregatesByVariantId)
    {
        ArgumentNullException.ThrowIfNull(experiment);
        ArgumentNullException.ThrowIfNull(exposuresByVariantId);
        ArgumentNullException.ThrowIfNull(aggregatesByVariantId);
        var exposures = experiment.Variants.Select(v => exposuresByVariantId.GetValueOrDefault(v.Id)).ToList();
        return Analyze(experiment, exposures, (variant, metric) =>
            aggregatesByVariantId.TryGetValue(experiment.Variants[variant].Id, out var aggregate) ? aggregate.MomentsOf(metric) : default);
    }

    /// <summary>
    /// Analyses <paramref name="experiment"/> by unit (SPEC §3) from each variant's exposed units and unit-level statistics,
    /// continuing the running minima of <paramref name="previous"/>. A variant missing from a dictionary has no data.
    /// </summary>
    /// <remarks>TRANSITIONAL: maps the unit statistics onto per-value moments; the unit-level analysis replaces this body.</remarks>
    public static ExperimentResults Analyze(
        Experiment experiment,
        IReadOnlyDictionary<string, long> exposuresByVariantId,
        IReadOnlyDictionary<string, VariantUnitStats> statsByVariantId,
        SequentialState? previous)
    {
        ArgumentNullException.ThrowIfNull(experiment);
        ArgumentNullException.ThrowIfNull(exposuresByVariantId);
        ArgumentNullException.ThrowIfNull(statsByVariantId);
        var exposures = experiment.Variants.Select(v => exposuresByVariantId.GetValueOrDefault(v.Id)).ToList();
        return Analyze(experiment, exposures, (variant, metric) =>
        {
            var stats = statsByVariantId.GetValueOrDefault(experiment.Variants[variant].Id) ?? new VariantUnitStats();
            if (metric == MetricName.ConversionRate)
                return Moments.OfRate(stats.ConvertedUnits, exposures[variant]);
            var ratio = stats.Of(metric);
            var n = ratio.Units;
            var variance = ratio.VarianceOfMean * n;
            return n == 0 ? default : new Moments(n, ratio.Mean * n, (double.IsFinite(variance) ? variance * (n - 1) : 0) + ratio.Mean * ratio.Mean * n);
        });
    }

    /// <summary>The same from the moments of each variant (by index) and metric.</summary>
    internal static ExperimentResults Analyze(Experiment experiment, IReadOnlyList<long> exposures, Func<int, MetricName, Moments> momentsOf)
    {
        var metrics = MetricNames.All.OrderBy(m => m != experiment.TargetMetric).ToList();
        var analyses = metrics.ToDictionary(m => m, m => AnalyzeMetric(experiment, m,
            Enumerable.Range(0, experiment.Variants.Count).Select(i => momentsOf(i, m)).ToArray()));
        var target = analyses[experiment.TargetMetric];

        var required = RequiredSampleSize(experiment, target.Moments[0]);
        long? remaining = required is { } n ? target.Moments.Sum(m => Math.Max(0, n - m.Count)) : null;
        var guardrails = CheckGuardrails(experiment, analyses);
        var significantWinner = SignificantWinner(experiment, target);
        var winner = experiment.Status is ExperimentStatus.Completed or ExperimentStatus.Cancelled
            ? experiment.Winner
            : significantWinner is { } index ? experiment.Variants[index].Id : null;

        OrderedDictionary<string, MetricResult> MetricsOf(int variant)
        {
            var results = new OrderedDictionary<string, MetricResult>();
            foreach (var metric in metrics)
                results.Add(Names.Of(metric), ResultOf(analyses[metric], variant));
            return results;
        }
        var variants = experiment.Variants
            .Select((variant, i) => new VariantResults(variant.Id, variant.Name, i == 0, variant.Weight, exposures[i], MetricsOf(i)))
            .ToList();

        return new ExperimentResults(
            experiment.Id, experiment.Status, experiment.TargetMetric, experiment.ConfidenceLevel, winner,
            Statistics.SampleRatio(exposures, experiment.Variants.Select(v => v.Weight).ToList()),
            required, remaining, variants, guardrails, Decide(experiment, target, guardrails, significantWinner));
    }

    /// <summary>One metric: each variant's moments and, for each non-control variant, its comparison with control.</summary>
    private sealed record MetricAnalysis(MetricName Metric, Moments[] Moments, Comparison?[] Comparisons);

    private sealed record Comparison(
        DifferenceTest? Test,
        RelativeEstimate? Relative,
        double? SequentialPValue,
        double? AdjustedPValue,
        double? AdjustedSequentialPValue);

    private static MetricAnalysis AnalyzeMetric(Experiment experiment, MetricName metric, Moments[] moments)
    {
        var control = moments[0];
        var tests = new DifferenceTest?[moments.Length];
        var sequential = new double?[moments.Length];
        for (var i = 1; i < moments.Length; i++)
        {
            tests[i] = Statistics.Compare(metric, control, moments[i], experiment.ConfidenceLevel);
            sequential[i] = tests[i] is { } test
                ? SequentialTest.PValue(test.Difference, test.Variance, Tau(experiment, metric, control, moments[i]))
                : null;
        }
        // The control's slots are null, so Holm counts the non-control variants only.
        var adjusted = Statistics.HolmAdjust(tests.Select(t => t?.PValue).ToList());
        var adjustedSequential = Statistics.HolmAdjust(sequential);

        var comparisons = new Comparison?[moments.Length];
        for (var i = 1; i < moments.Length; i++)
        {
            var relative = Statistics.Relative(control, moments[i], metric.IsRate(), experiment.ConfidenceLevel);
            comparisons[i] = new Comparison(tests[i], relative, sequential[i], adjusted[i], adjustedSequential[i]);
        }
        return new MetricAnalysis(metric, moments, comparisons);
    }

    /// <summary>
    /// τ, the standard deviation of the mSPRT's mixing distribution over the absolute difference: the minimum detectable
    /// effect in absolute terms, MDE × |control's value|, so the test is most powerful for effects of about that size.
    /// When the control's value is 0 (no errors yet), MDE × the standard deviation of one value of both arms together.
    /// </summary>
    private static double Tau(Experiment experiment, MetricName metric, Moments control, Moments treatment)
    {
        var mde = experiment.MinimumDetectableEffect;
        var tau = mde * Math.Abs(control.Mean);
        return tau > 0 ? tau : mde * Math.Sqrt(Statistics.VarianceOfValue(control + treatment, metric.IsRate()) ?? 0);
    }

    /// <summary>
    /// The sequential test's sample size per variant for an effect of MDE × the control's observed value, with the
    /// treatment's variance at that effect, and α split over the non-control variants (Holm's first step needs p &lt; α/m);
    /// at least the experiment's minimum sample size.
    /// </summary>
    private static long? RequiredSampleSize(Experiment experiment, Moments control)
    {
        var metric = experiment.TargetMetric;
        if (Statistics.VarianceOfValue(control, metric.IsRate()) is not { } controlVariance)
            return null;
        var mde = experiment.MinimumDetectableEffect;
        var effect = mde * Math.Abs(control.Mean);
        var treatmentVariance = controlVariance;
        if (metric.IsRate())
        {
            var rate = Math.Clamp(control.Mean * (1 + (metric.LowerIsBetter() ? -mde : mde)), 0, 1);
            treatmentVariance = rate * (1 - rate);
        }
        var alpha = (1 - experiment.ConfidenceLevel) / (experiment.Variants.Count - 1);
        var n = SequentialTest.RequiredSampleSize(effect, effect, controlVariance + treatmentVariance, alpha, experiment.Power);
        return n is null ? null : Math.Max(n.Value, experiment.MinimumSampleSize);
    }

    /// <summary>
    /// Once every variant has <c>minimumSampleSize</c> target events: the variant with the largest improvement among
    /// those whose Holm-adjusted sequential p-value is below 1 − confidenceLevel; the control when every variant is
    /// significantly worse; otherwise none. The winner's index.
    /// </summary>
    private static int? SignificantWinner(Experiment experiment, MetricAnalysis target)
    {
        if (target.Moments.Any(m => m.Count < experiment.MinimumSampleSize))
            return null;
        var alpha = 1 - experiment.ConfidenceLevel;
        var significant = Enumerable.Range(1, experiment.Variants.Count - 1)
            .Where(i => target.Comparisons[i]?.AdjustedSequentialPValue < alpha)
            .ToList();
        var better = significant.Where(i => Gain(target.Metric, target.Comparisons[i]) > 0).ToList();
        if (better.Count > 0)
            return better.MaxBy(i => Gain(target.Metric, target.Comparisons[i]));
        return significant.Count == experiment.Variants.Count - 1 ? 0 : null;
    }

    /// <summary>The difference in the metric's good direction (positive is better).</summary>
    private static double Gain(MetricName metric, Comparison? comparison) =>
        (comparison?.Test?.Difference ?? 0) * (metric.LowerIsBetter() ? -1 : 1);

    /// <summary>
    /// Each guardrail for each non-control variant. The harm beyond the threshold is measured on the absolute scale, like
    /// the target's test: for a lower-is-better metric the excess is T − (1 + threshold)·C, otherwise (1 − threshold)·C − T,
    /// with variance Var(T̄) + (1 ± threshold)²·Var(C̄). Breached when its always-valid interval (mSPRT confidence
    /// sequence, the target's τ, α = 1 − confidenceLevel) lies entirely above 0. The interval is reported as a relative
    /// change in the harmful direction (excess / |C| + threshold).
    /// </summary>
    /// <remarks>
    /// The relative difference itself is a poor scale for this: when the control's value is small (a 2% error rate) its
    /// delta-method variance is large next to any τ expressed in relative terms, and the interval never excludes the threshold.
    /// </remarks>
    private static List<GuardrailResult> CheckGuardrails(Experiment experiment, Dictionary<MetricName, MetricAnalysis> analyses)
    {
        var alpha = 1 - experiment.ConfidenceLevel;
        var results = new List<GuardrailResult>();
        foreach (var guardrail in experiment.Guardrails)
        {
            var metric = guardrail.Metric;
            var harm = metric.LowerIsBetter() ? 1 : -1;
            var bound = 1 + harm * guardrail.Threshold;
            var analysis = analyses[metric];
            var control = analysis.Moments[0];
            for (var i = 1; i < experiment.Variants.Count; i++)
            {
                var treatment = analysis.Moments[i];
                var relative = analysis.Comparisons[i]?.Relative;
                Interval? excess = null;
                if (Statistics.VarianceOfMean(control, metric.IsRate()) is { } controlVariance
                    && Statistics.VarianceOfMean(treatment, metric.IsRate()) is { } treatmentVariance)
                {
                    excess = SequentialTest.ConfidenceSequence(harm * (treatment.Mean - bound * control.Mean),
                        treatmentVariance + bound * bound * controlVariance, Tau(experiment, metric, control, treatment), alpha);
                }
                var scale = Math.Abs(control.Mean);
                var relativeInterval = excess is { } e && scale > 0
                    ? new Interval(e.Low / scale + guardrail.Threshold, e.High / scale + guardrail.Threshold)
                    : (Interval?)null;
                results.Add(new GuardrailResult(
                    metric, guardrail.Threshold, experiment.Variants[i].Id,
                    Finite(harm * relative?.Value), ListOf(relativeInterval), excess?.Low > 0));
            }
        }
        return results;
    }

    /// <summary>Only a running experiment is acted on; a breached guardrail pauses it before any winner completes it.</summary>
    private static ExperimentDecision Decide(
        Experiment experiment, MetricAnalysis target, List<GuardrailResult> guardrails, int? winner)
    {
        if (experiment.Status != ExperimentStatus.Running)
            return new(DecisionAction.None, null, null);
        if (guardrails.FirstOrDefault(g => g.Breached) is { } breach)
        {
            var variant = experiment.FindVariant(breach.VariantId)!.Name;
            var worse = breach.RelativeChangeCi is [var low, _] ? $"at least {low * 100:F1}% worse than control" : "worse than control";
            return new(DecisionAction.Pause, null,
                $"Guardrail {Names.Of(breach.Metric)} breached by '{variant}': it is {worse}, beyond the {breach.Threshold * 100:F1}% allowed.");
        }
        if (winner is not { } index)
            return new(DecisionAction.None, null, null);
        var metric = Names.Of(target.Metric);
        var reason = index == 0
            ? $"Every variant is significantly worse than control on {metric}."
            : $"'{experiment.Variants[index].Name}' beats control on {metric} " +
              $"(always-valid p = {target.Comparisons[index]!.AdjustedSequentialPValue:G3}, Holm-adjusted).";
        return new(DecisionAction.Complete, experiment.Variants[index].Id, reason);
    }

    private static MetricResult ResultOf(MetricAnalysis analysis, int variant)
    {
        var moments = analysis.Moments[variant];
        var comparison = analysis.Comparisons[variant];
        var test = comparison?.Test;
        return new MetricResult(
            moments.Count,
            Finite(moments.Mean),
            Finite(test?.Difference),
            ListOf(test?.Ci),
            Finite(comparison?.Relative?.Value),
            ListOf(comparison?.Relative?.Ci),
            Finite(test?.PValue),
            Finite(comparison?.AdjustedPValue),
            Finite(comparison?.SequentialPValue),
            Finite(comparison?.AdjustedSequentialPValue),
            test is null ? null : Finite(Statistics.ChanceToBeatControl(test.Difference, test.Variance, analysis.Metric.LowerIsBetter())));
    }

    // JSON carries no NaN or Infinity: whatever is not a finite number is reported as null.
    private static double? Finite(double? value) => value is { } v && double.IsFinite(v) ? v : null;

    private static IReadOnlyList<double>? ListOf(Interval? interval) =>
        interval is { } i && double.IsFinite(i.Low) && double.IsFinite(i.High) ? [i.Low, i.High] : null;
}
