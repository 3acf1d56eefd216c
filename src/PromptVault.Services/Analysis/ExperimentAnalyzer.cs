using PromptVault.Core.Experiments;
using PromptVault.Core.Metrics;

namespace PromptVault.Core.Analysis;

/// <summary>
/// The results of an experiment (SPEC §3), analysed by unit: every metric of every variant against control, the
/// sequential sample ratio check, the sample size the sequential test needs, the guardrails, and what auto-completion
/// should do. Pure arithmetic on each variant's sufficient statistics, so its cost does not depend on the number of
/// units or events. The formulas and choices are in <c>docs/statistics.md</c>.
/// </summary>
public static class ExperimentAnalyzer
{
    /// <summary>
    /// Analyses <paramref name="experiment"/> by unit (SPEC §3) from each variant's exposed units and unit-level statistics,
    /// continuing the running minima of <paramref name="previous"/> (the <see cref="ExperimentResults.State"/> of the last
    /// look; null on the first). A variant missing from a dictionary has no data.
    /// </summary>
    public static ExperimentResults Analyze(
        Experiment experiment,
        IReadOnlyDictionary<string, long> exposuresByVariantId,
        IReadOnlyDictionary<string, VariantUnitStats> statsByVariantId,
        SequentialState? previous)
    {
        ArgumentNullException.ThrowIfNull(experiment);
        ArgumentNullException.ThrowIfNull(exposuresByVariantId);
        ArgumentNullException.ThrowIfNull(statsByVariantId);
        var exposures = experiment.Variants.Select(v => exposuresByVariantId.GetValueOrDefault(v.Id)).ToArray();
        var stats = experiment.Variants.Select(v => statsByVariantId.GetValueOrDefault(v.Id) ?? Empty).ToArray();
        var minima = new Dictionary<string, double>((previous ?? SequentialState.Empty).Values, StringComparer.Ordinal);

        var metrics = MetricNames.All.OrderBy(m => m != experiment.TargetMetric).ToList();
        var analyses = metrics.ToDictionary(m => m, m => AnalyzeMetric(experiment, m, exposures, stats, minima));
        var target = analyses[experiment.TargetMetric];

        var (required, requiredReason) = RequiredSampleSize(experiment, target.Arms[0]);
        // A finished experiment collects no more units: nothing remains, though what it needed is still worth knowing.
        long? remaining = required is { } n && !ExperimentLifecycle.IsFinal(experiment.Status) ? target.Arms.Sum(a => Math.Max(0, n - a.N)) : null;
        var guardrails = CheckGuardrails(experiment, analyses, exposures, stats);
        var significantWinner = SignificantWinner(experiment, target, guardrails);
        var srm = SampleRatio(experiment, exposures, minima);
        // A mismatch withholds the winner as it withholds the completion (Decide).
        var winner = experiment.Status is ExperimentStatus.Completed or ExperimentStatus.Cancelled
            ? experiment.Winner
            : significantWinner is { } index && !srm.Mismatch ? experiment.Variants[index].Id : null;

        OrderedDictionary<string, MetricResult> MetricsOf(int variant)
        {
            var results = new OrderedDictionary<string, MetricResult>();
            foreach (var metric in metrics)
                results.Add(Names.Of(metric), ResultOf(analyses[metric], variant));
            return results;
        }
        var variants = experiment.Variants
            .Select((variant, i) => new VariantResults(variant.Id, variant.Name, i == 0, variant.Weight, exposures[i], MetricsOf(i),
                stats[i].UnattributedEvents))
            .ToList();

        return new ExperimentResults(
            experiment.Id, experiment.Status, experiment.StatusReason, experiment.TargetMetric, experiment.ConfidenceLevel, winner, srm,
            required, requiredReason, remaining, variants, guardrails, Decide(experiment, target, guardrails, srm, significantWinner))
        {
            State = new SequentialState(minima),
        };
    }

    private static readonly VariantUnitStats Empty = new();

    /// <summary>One variant on one metric: its n, its value, and the variance of that value as an estimate.</summary>
    private readonly record struct Arm(long N, double Value, double Variance)
    {
        /// <summary>The variance of one unit's contribution (Variance × n), the σ² of sample size formulas.</summary>
        public double UnitVariance => Variance * N;
    }

    /// <summary>
    /// The fewest units per arm whose plug-in variance a look may rest on, whatever <c>minimumSampleSize</c> says: an A/A
    /// test on latency with a minimum of 2, looked at after every unit, found a winner in 12% of runs.
    /// </summary>
    public const int FewestSettledUnits = 50;

    /// <summary>The units every arm needs on a metric before its figures are settled: <c>minimumSampleSize</c>, and at least <see cref="FewestSettledUnits"/>.</summary>
    public static int SettledUnits(int minimumSampleSize) => Math.Max(minimumSampleSize, FewestSettledUnits);

    /// <summary>One metric: each variant's arm and, for each non-control variant, its comparison with control.</summary>
    /// <param name="Settled">Every arm has <c>minimumSampleSize</c> (and <see cref="FewestSettledUnits"/>) on this metric:
    /// before that the plug-in variance of a handful of units can be far too small, so nothing is kept (running minima,
    /// intersections) or acted on (a winner, a breached guardrail) until then.</param>
    private sealed record MetricAnalysis(MetricName Metric, Arm[] Arms, Comparison?[] Comparisons, bool Settled);

    private sealed record Comparison(
        DifferenceTest? Test,
        RelativeEstimate? Relative,
        double? SequentialPValue,
        double? AdjustedPValue,
        double? AdjustedSequentialPValue,
        Interval? SequentialCi,
        double? ChanceToBeatControl,
        string? Reason);

    private static MetricAnalysis AnalyzeMetric(
        Experiment experiment, MetricName metric, long[] exposures, VariantUnitStats[] stats, Dictionary<string, double> minima)
    {
        var count = stats.Length;
        var arms = new Arm[count];
        var tests = new DifferenceTest?[count];
        for (var i = 0; i < count; i++)
            arms[i] = ArmOf(metric, exposures[i], stats[i]);
        for (var i = 1; i < count; i++)
        {
            var test = metric == MetricName.ConversionRate
                ? Statistics.ProportionZTest(RateOf(exposures[0], stats[0]), RateOf(exposures[i], stats[i]), experiment.ConfidenceLevel)
                : Statistics.RatioTest(stats[0].Of(metric), stats[i].Of(metric), experiment.ConfidenceLevel);
            tests[i] = test is null ? null : test with { Ci = test.Ci.Within(DifferenceRange(metric)) };
        }

        var settled = arms.All(a => a.N >= SettledUnits(experiment.MinimumSampleSize));
        var state = settled ? minima : null;
        var sequential = new double?[count];
        var tau = new double[count];
        for (var i = 1; i < count; i++)
        {
            var test = tests[i];
            tau[i] = test is null ? double.NaN : Tau(experiment, arms[0], arms[i], test.Variance);
            sequential[i] = RunningMinimum(state, SequentialState.KeyOf(experiment.Variants[i].Id, metric),
                test is null ? null : SequentialTest.PValue(test.Difference, test.Variance, tau[i]));
        }
        // Holm's family is the non-control variants, each with its slot (the control's is skipped), tested yet or not.
        var adjusted = Statistics.HolmAdjust(tests[1..].Select(t => t?.PValue).ToList());
        var adjustedSequential = Statistics.HolmAdjust(sequential[1..]);
        var ciAlpha = (1 - experiment.ConfidenceLevel) / Math.Max(1, count - 1);

        var comparisons = new Comparison?[count];
        for (var i = 1; i < count; i++)
        {
            var test = tests[i];
            var figures = HasFixedHorizonFigures(metric, test);
            var relative = figures ? Relative(arms[0], arms[i], () => PooledVariance(metric, exposures, stats, i), experiment.ConfidenceLevel) : null;
            if (relative is not null && metric == MetricName.ConversionRate)
                relative = ProportionRelative(RateOf(exposures[0], stats[0]), RateOf(exposures[i], stats[i]), relative, experiment.ConfidenceLevel);
            if (relative is not null)
                relative = relative with { Ci = relative.Ci.Within(RelativeRange) };
            var ci = RunningIntersection(state, SequentialState.KeyOf(experiment.Variants[i].Id, metric),
                test is null ? null : SequentialTest.ConfidenceSequence(test.Difference, test.Variance, tau[i], ciAlpha)?.Within(DifferenceRange(metric)));
            double? chance = !figures ? null
                : metric == MetricName.ConversionRate
                    ? Statistics.ProportionChanceToBeatControl(RateOf(exposures[0], stats[0]), RateOf(exposures[i], stats[i]), test!.Variance)
                    : Statistics.ChanceToBeatControl(test!.Difference, test.Variance, metric.LowerIsBetter());
            comparisons[i] = new Comparison(test, relative, sequential[i], adjusted[i - 1], adjustedSequential[i - 1], ci, chance,
                ReasonOf(metric, arms[0], arms[i], test, relative));
        }
        return new MetricAnalysis(metric, arms, comparisons, settled);
    }

    /// <summary>
    /// Whether a comparison has its fixed-horizon figures (p-value, intervals, chance to beat control): a test whose
    /// variance is positive, and a conversion test also without one (every unit of both arms the same outcome), since
    /// Fisher's test, the score intervals and the Beta posteriors are defined there (<see cref="Statistics.NeedsExactFigures"/>).
    /// A mean's normal figures are not. The sequential test rests on the variance, and has none either way.
    /// </summary>
    private static bool HasFixedHorizonFigures(MetricName metric, DifferenceTest? test) =>
        test is { Variance: > 0 } || (test is not null && metric == MetricName.ConversionRate);

    /// <summary>
    /// The relative difference by the delta method on the arms' variances; when an arm's units agree (its variance 0), on
    /// the pooled variance of one unit, s² = V₀ / (1/n₁ + 1/n₂), in both arms. An arm's plug-in variance of 0 is not
    /// knowledge: a variant with no conversions or no errors in 100 units had an interval of −100% to −100%, its
    /// <c>V_t/m_c² + m_t²·V_c/m_c⁴</c> being 0 with m_t and V_t both 0.
    /// </summary>
    private static RelativeEstimate? Relative(Arm control, Arm treatment, Func<double> pooledVariance, double confidenceLevel)
    {
        if (control.Variance > 0 && treatment.Variance > 0)
            return Statistics.Relative(control.Value, control.Variance, treatment.Value, treatment.Variance, confidenceLevel);
        var unitVariance = pooledVariance() / (1.0 / control.N + 1.0 / treatment.N);
        return Statistics.Relative(control.Value, unitVariance / control.N, treatment.Value, unitVariance / treatment.N, confidenceLevel);
    }

    /// <summary>V₀, the variance of the difference were both arms' units exchangeable (<see cref="Statistics.PooledVariance(Moments, Moments)"/>).</summary>
    private static double PooledVariance(MetricName metric, long[] exposures, VariantUnitStats[] stats, int variant) =>
        metric == MetricName.ConversionRate
            ? Statistics.PooledVariance(RateOf(exposures[0], stats[0]), RateOf(exposures[variant], stats[variant]))
            : Statistics.PooledVariance(stats[0].Of(metric), stats[variant].Of(metric));

    /// <summary>
    /// A conversion rate's relative difference: where the normal approximation fails (<see cref="Statistics.NeedsExactFigures"/>)
    /// its interval is the score interval (<see cref="Statistics.RatioScoreInterval"/>), as the difference's is Newcombe's;
    /// else the delta method's.
    /// </summary>
    private static RelativeEstimate? ProportionRelative(Moments control, Moments treatment, RelativeEstimate delta, double confidenceLevel) =>
        !Statistics.NeedsExactFigures(control, treatment) ? delta
        : Statistics.RatioScoreInterval(control, treatment, confidenceLevel) is { } ci ? delta with { Ci = ci }
        : null;

    /// <summary>min(stored, now), stored back; a look where the p-value is undefined keeps what earlier looks found.
    /// Without a state (a look that does not count yet), now.</summary>
    private static double? RunningMinimum(Dictionary<string, double>? state, string key, double? now)
    {
        if (state is null)
            return now;
        double? earlier = state.TryGetValue(key, out var stored) ? stored : null;
        var minimum = now is { } p && !(earlier <= p) ? p : earlier;
        if (minimum is { } kept)
            state[key] = kept;
        return minimum;
    }

    /// <summary>
    /// The intersection of this look's confidence sequence with the earlier looks' (kept in the state beside the p-value's
    /// minimum, <see cref="SequentialState.Intersect"/>): still always valid, and it never widens, like the running minimum.
    /// </summary>
    private static Interval? RunningIntersection(Dictionary<string, double>? state, string key, Interval? now)
    {
        if (state is null)
            return now;
        string lowKey = key + SequentialState.LowSuffix, highKey = key + SequentialState.HighSuffix;
        if (!state.TryGetValue(lowKey, out var low) || !state.TryGetValue(highKey, out var high))
            (low, high) = (double.NegativeInfinity, double.PositiveInfinity);
        Interval? interval = double.IsFinite(low) && double.IsFinite(high) ? new Interval(low, high) : null;
        if (now is { } i)
        {
            var (intersectedLow, intersectedHigh) = SequentialState.Intersect(low, high, i.Low, i.High);
            interval = new Interval(intersectedLow, intersectedHigh);
        }
        if (interval is { } kept)
            (state[lowKey], state[highKey]) = (kept.Low, kept.High);
        return interval;
    }

    /// <summary>
    /// Where the difference of two arms' values can lie: every value is in [0, max] (<see cref="MetricEventRules.MaxOf"/>:
    /// a rate's 1, the largest latency, score or cost an event may carry), so the difference is in [−max, max]. Every interval
    /// of a difference is clipped to it (<see cref="Interval.Within"/>): a confidence set intersected with a set the
    /// parameter lies in still covers it, and the Wald and early always-valid intervals of a rate can pass ±100 points.
    /// </summary>
    private static Interval DifferenceRange(MetricName metric) => new(-MetricEventRules.MaxOf(metric), MetricEventRules.MaxOf(metric));

    /// <summary>Where treatment / control − 1 can lie: every metric's values are nonnegative (SPEC §4), so not below −100%.</summary>
    private static readonly Interval RelativeRange = new(-1, double.PositiveInfinity);

    private static Moments RateOf(long exposures, VariantUnitStats stats) =>
        Moments.OfRate(Math.Min(stats.ConvertedUnits, exposures), exposures);

    private static Arm ArmOf(MetricName metric, long exposures, VariantUnitStats stats)
    {
        if (metric == MetricName.ConversionRate)
        {
            var rate = RateOf(exposures, stats);
            return rate.Count == 0 ? new(0, double.NaN, double.NaN) : new(rate.Count, rate.Mean, rate.Mean * (1 - rate.Mean) / rate.Count);
        }
        var ratio = stats.Of(metric);
        return new(ratio.Units, ratio.Mean, ratio.VarianceOfMean);
    }

    /// <summary>Why a non-control row's comparisons are null, or null when they are numbers.</summary>
    private static string? ReasonOf(MetricName metric, Arm control, Arm treatment, DifferenceTest? test, RelativeEstimate? relative)
    {
        var what = metric == MetricName.ConversionRate ? "exposed units" : "units with this metric";
        if (control.N == 0 || treatment.N == 0)
            return $"no {what} yet in {(control.N == 0 ? "the control" : "this variant")}";
        if (test is null)
            return $"fewer than two {what} in {(control.N < 2 ? "the control" : "this variant")}";
        if (!(test.Variance > 0) && metric == MetricName.ConversionRate)
            return "no variance: every unit of both arms has the same outcome, so the figures are Fisher's test, the score intervals and "
                   + "the Beta posteriors; the sequential test has no variance to rest on and decides nothing"
                   + (control.Value == 0 ? ", and with the control's value 0 there is no relative difference" : "");
        if (!(test.Variance > 0))
            return "no variance: every unit has the same value in both arms, so there is nothing to test against";
        if (!(control.Variance + treatment.Variance > 0))
            return "no variance within the arms: every unit of each arm has the same value (the arms differ), so every test and interval "
                   + "rests on the variance of both arms' units pooled";
        if (relative is null && control.Value == 0)
            return "the control's value is 0, so there is no relative difference";
        return null;
    }

    /// <summary>
    /// τ, the standard deviation of the mSPRT's mixing distribution over the absolute difference: the minimum detectable
    /// effect in absolute terms, MDE × |control's value|, so the test is most powerful for effects of about that size.
    /// When the control's value is 0 (no errors yet), MDE × the standard deviation of one unit: the difference's
    /// variance spread back over the arms' units, V / (1/n₁ + 1/n₂) ((σ₁² + σ₂²)/2 with equal arms).
    /// </summary>
    private static double Tau(Experiment experiment, Arm control, Arm treatment, double variance)
    {
        var mde = experiment.MinimumDetectableEffect;
        var tau = mde * Math.Abs(control.Value);
        return tau > 0 ? tau : mde * Math.Sqrt(variance / (1.0 / control.N + 1.0 / treatment.N));
    }

    /// <summary>
    /// The sequential test's units per variant for an effect of MDE × the control's observed value, with the treatment's
    /// per-unit variance at that effect (for conversion) or the control's (for the ratio metrics), and α split over the
    /// non-control variants (Holm's first step needs p &lt; α/m); at least the experiment's minimum sample size. Null with a
    /// reason when that cannot be told.
    /// </summary>
    private static (long? Size, string? Reason) RequiredSampleSize(Experiment experiment, Arm control) =>
        control.N == 0
            ? (null, "the control has no data on the target metric yet")
            : RequiredSampleSize(experiment.TargetMetric, experiment.MinimumDetectableEffect, experiment.ConfidenceLevel, experiment.Power,
                experiment.Variants.Count, experiment.MinimumSampleSize, control.Value, control.UnitVariance);

    /// <summary>
    /// The same sample size from settings and a control value and per-unit variance (observed, or expected when an
    /// experiment is planned, as the dashboard's new-experiment form does).
    /// </summary>
    public static (long? Size, string? Reason) RequiredSampleSize(MetricName metric, double mde, double confidenceLevel, double power,
        int variants, long minimumSampleSize, double controlValue, double controlVariance)
    {
        if (controlValue == 0)
            return (null, "the control's value is 0, so a relative effect of it is 0");
        if (metric.LowerIsBetter() && mde >= 1)
            return (null, Invariant($"a decrease of {mde * 100:0.#}% would take {Names.Of(metric)} to 0 or below"));
        if (!(controlVariance > 0))
            return (null, "the control's values do not vary yet, so the variance is unknown");
        var treatmentVariance = controlVariance;
        if (metric == MetricName.ConversionRate)
        {
            var rate = controlValue * (1 + mde);
            if (rate >= 1)
                return (null, Invariant($"a rise of {mde * 100:0.#}% would take the conversion rate to 100% or above"));
            treatmentVariance = rate * (1 - rate);
        }
        var effect = mde * Math.Abs(controlValue);
        var alpha = (1 - confidenceLevel) / (variants - 1);
        var n = SequentialTest.RequiredSampleSize(effect, effect, controlVariance + treatmentVariance, alpha, power);
        return n is { } size
            ? (Math.Max(size, minimumSampleSize), null)
            : (null, Invariant($"beyond reach: more than {SequentialTest.MaxSampleSize:N0} units per variant"));
    }

    /// <summary>
    /// Once every variant has <c>minimumSampleSize</c> on the target metric (its <c>n</c>): the variant with the largest
    /// improvement among those whose Holm-adjusted sequential p-value is below 1 − confidenceLevel and that breach no
    /// guardrail (SPEC §3: such a variant is never promoted, also when an operator completes the paused experiment); the
    /// control when every variant is significantly worse; otherwise none. The winner's index.
    /// </summary>
    private static int? SignificantWinner(Experiment experiment, MetricAnalysis target, List<GuardrailResult> guardrails)
    {
        if (!target.Settled)
            return null;
        var alpha = 1 - experiment.ConfidenceLevel;
        var significant = Enumerable.Range(1, experiment.Variants.Count - 1)
            .Where(i => target.Comparisons[i]?.AdjustedSequentialPValue < alpha)
            .ToList();
        var better = significant
            .Where(i => Gain(target, i) > 0 && !guardrails.Any(g => g.Breached && g.VariantId == experiment.Variants[i].Id))
            .ToList();
        if (better.Count > 0)
            return better.MaxBy(i => Gain(target, i));
        return significant.Count(i => Gain(target, i) < 0) == experiment.Variants.Count - 1 ? 0 : null;
    }

    /// <summary>The difference in the metric's good direction (positive is better).</summary>
    private static double Gain(MetricAnalysis analysis, int variant) =>
        (analysis.Arms[variant].Value - analysis.Arms[0].Value) * (analysis.Metric.LowerIsBetter() ? -1 : 1);

    /// <summary>
    /// Each guardrail for each non-control variant. The harm beyond the threshold is measured on the absolute scale, like
    /// the target's test: for a lower-is-better metric the excess is T − (1 + threshold)·C, otherwise (1 − threshold)·C − T,
    /// with the variance of <see cref="GuardrailVariance"/> (b = 1 ± threshold): positive when each arm's units agree but
    /// the arms differ, so a variant plainly beyond the threshold is breached. Breached when its always-valid interval (mSPRT confidence
    /// sequence, τ from <see cref="Tau"/> on the guardrail's metric, α = 1 − confidenceLevel) lies entirely above 0 and every arm has <c>minimumSampleSize</c>
    /// on the guardrail's metric. The interval is reported as a relative change in the harmful direction (excess / |C| + threshold).
    /// </summary>
    /// <remarks>
    /// The relative difference itself is a poor scale for this: when the control's value is small (a 2% error rate) its
    /// delta-method variance is large next to any τ expressed in relative terms, and the interval never excludes the threshold.
    /// </remarks>
    private static List<GuardrailResult> CheckGuardrails(
        Experiment experiment, Dictionary<MetricName, MetricAnalysis> analyses, long[] exposures, VariantUnitStats[] stats)
    {
        var alpha = 1 - experiment.ConfidenceLevel;
        var results = new List<GuardrailResult>();
        foreach (var guardrail in experiment.Guardrails)
        {
            var metric = guardrail.Metric;
            var harm = metric.LowerIsBetter() ? 1 : -1;
            var bound = 1 + harm * guardrail.Threshold;
            var analysis = analyses[metric];
            var control = analysis.Arms[0];
            for (var i = 1; i < experiment.Variants.Count; i++)
            {
                var treatment = analysis.Arms[i];
                var relative = analysis.Comparisons[i]?.Relative;
                var excess = analysis.Comparisons[i]?.Test is not { } test
                    ? null
                    : SequentialTest.ConfidenceSequence(harm * (treatment.Value - bound * control.Value),
                        GuardrailVariance(metric, control, treatment, bound, exposures, stats, i),
                        Tau(experiment, control, treatment, test.Variance), alpha);
                var scale = Math.Abs(control.Value);
                // The relative change in the harmful direction: harm × (T/C − 1), so within harm × RelativeRange.
                var relativeInterval = excess is { } e && scale > 0
                    ? new Interval(e.Low / scale + guardrail.Threshold, e.High / scale + guardrail.Threshold)
                        .Within(harm > 0 ? RelativeRange : new(double.NegativeInfinity, -RelativeRange.Low))
                    : (Interval?)null;
                results.Add(new GuardrailResult(
                    metric, guardrail.Threshold, experiment.Variants[i].Id,
                    Finite(harm * relative?.Value), ListOf(relativeInterval), analysis.Settled && excess?.Low > 0, analysis.Settled));
            }
        }
        return results;
    }

    /// <summary>
    /// The variance a guardrail's excess <c>T̄ − b·C̄</c> rests on. Conversion: Farrington–Manning's, at the rates restricted
    /// to the guardrail's null <c>p_T = b·p_C</c> (<see cref="Statistics.RestrictedVariance"/>), the variance of a
    /// non-inferiority test of two proportions; the arms' own rates would make it small when the variant's rate is low, the
    /// harm the guardrail looks for. A fall of 100% or more allowed (b ≤ 0) has no such null and nothing could breach it;
    /// <see cref="ExperimentRules"/> refuses it, and one stored before that rule keeps the arms' own variance.
    /// The ratio metrics: the arms' own variance, or when that is 0 the pooled one under the null
    /// (<see cref="Statistics.PooledVariance(RatioMoments, RatioMoments, double)"/>, <see cref="Statistics.WithinOrPooled"/>).
    /// </summary>
    private static double GuardrailVariance(MetricName metric, Arm control, Arm treatment, double bound, long[] exposures,
        VariantUnitStats[] stats, int variant) =>
        metric == MetricName.ConversionRate && bound > 0
            ? Statistics.RestrictedVariance(RateOf(exposures[0], stats[0]), RateOf(exposures[variant], stats[variant]), bound)
            : Statistics.WithinOrPooled(treatment.Variance + bound * bound * control.Variance,
                () => metric == MetricName.ConversionRate ? 0 : Statistics.PooledVariance(stats[0].Of(metric), stats[variant].Of(metric), bound));

    /// <summary>
    /// The sequential SRM test (<see cref="SequentialTest.SampleRatioPValue"/>) as a running minimum over looks, flagged
    /// below 0.001, with this look's chi-square p-value beside it for reference.
    /// </summary>
    private static SampleRatioCheck SampleRatio(Experiment experiment, long[] exposures, Dictionary<string, double> minima)
    {
        var weights = experiment.Variants.Select(v => v.Weight).ToList();
        var pValue = RunningMinimum(minima, SequentialState.SrmKey, SequentialTest.SampleRatioPValue(exposures, weights));
        return new(pValue, pValue < Statistics.SampleRatioMismatchThreshold, Sequential: true,
            Statistics.SampleRatioChiSquare(exposures, weights));
    }

    /// <summary>
    /// Only a running experiment is acted on; a breached guardrail pauses it before any winner completes it, and a sample
    /// ratio mismatch withholds the completion: units did not reach the variants as the weights say, so the comparison may
    /// be biased (by lost exposures, or an assignment that differs somewhere), and only an operator can judge it.
    /// </summary>
    private static ExperimentDecision Decide(
        Experiment experiment, MetricAnalysis target, List<GuardrailResult> guardrails, SampleRatioCheck srm, int? winner)
    {
        if (experiment.Status != ExperimentStatus.Running)
            return new(DecisionAction.None, null, null);
        if (guardrails.FirstOrDefault(g => g.Breached) is { } breach)
        {
            var variant = experiment.FindVariant(breach.VariantId)!.Name;
            var worse = breach.RelativeChangeCi is [var low, _] ? Invariant($"at least {low * 100:F1}% worse than control") : "worse than control";
            return new(DecisionAction.Pause, null,
                Invariant($"Guardrail {Names.Of(breach.Metric)} breached by '{variant}': it is {worse}, beyond the {breach.Threshold * 100:F1}% allowed."));
        }
        if (winner is not { } index)
            return new(DecisionAction.None, null, null);
        if (srm.Mismatch)
            return new(DecisionAction.None, null,
                Invariant($"Not completed: the exposures do not match the variants' weights (sample ratio mismatch, always-valid {ResultsText.PIs(srm.PValue)})."));
        var metric = Names.Of(target.Metric);
        var reason = index == 0
            ? $"Every variant is significantly worse than control on {metric}."
            : Invariant($"'{experiment.Variants[index].Name}' beats control on {metric} (always-valid {ResultsText.PIs(target.Comparisons[index]!.AdjustedSequentialPValue)}, Holm-adjusted).");
        return new(DecisionAction.Complete, experiment.Variants[index].Id, reason);
    }

    private static MetricResult ResultOf(MetricAnalysis analysis, int variant)
    {
        var arm = analysis.Arms[variant];
        var comparison = analysis.Comparisons[variant];
        var test = comparison?.Test;
        var varies = HasFixedHorizonFigures(analysis.Metric, test);
        return new MetricResult(
            arm.N,
            Finite(arm.Value),
            Finite(test?.Difference),
            varies ? ListOf(test!.Ci) : null,
            Finite(comparison?.Relative?.Value),
            ListOf(comparison?.Relative?.Ci),
            Finite(test?.PValue),
            Finite(comparison?.AdjustedPValue),
            Finite(comparison?.SequentialPValue),
            Finite(comparison?.AdjustedSequentialPValue),
            Finite(comparison?.ChanceToBeatControl),
            ListOf(comparison?.SequentialCi),
            comparison?.Reason,
            analysis.Settled);
    }

    private static string Invariant(FormattableString text) => FormattableString.Invariant(text);

    // JSON carries no NaN or Infinity: whatever is not a finite number is reported as null.
    private static double? Finite(double? value) => value is { } v && double.IsFinite(v) ? v : null;

    private static IReadOnlyList<double>? ListOf(Interval? interval) =>
        interval is { } i && double.IsFinite(i.Low) && double.IsFinite(i.High) ? [i.Low, i.High] : null;
}
