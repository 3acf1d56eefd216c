using PromptVault.Core.Analysis;
using PromptVault.Core.Experiments;
using PromptVault.Core.Metrics;

namespace PromptVault.Core.Tests.Analysis;

/// <summary>Experiments, moments and comparisons for the analysis tests.</summary>
internal static class AnalysisData
{
    /// <summary>The ratio moments of values that are each a unit of their own (n = 1): the per-event view.</summary>
    public static RatioMoments IndependentValues(Moments values) =>
        values.Count == 0 ? default : new(values.Count, values.Mean, values.Count, 0, values.Count, values.M2, 0);

    /// <summary>
    /// The per-event view of an aggregate: every event a unit of its own, independent of the others. What the analysis
    /// did before SPEC §3 changed; kept to show what treating correlated events as independent does.
    /// </summary>
    public static VariantUnitStats IndependentEvents(MetricAggregate aggregate) => new()
    {
        ConvertedUnits = aggregate.Conversions,
        ErrorRate = IndependentValues(Moments.OfRate(aggregate.Errors, aggregate.Count)),
        LatencyMs = IndependentValues(aggregate.LatencyMs),
        Cost = IndependentValues(aggregate.Cost),
        QualityScore = IndependentValues(aggregate.QualityScore),
        UserFeedback = IndependentValues(aggregate.UserFeedback),
    };

    /// <summary>A running experiment whose variants are <c>control</c>, <c>b</c>, <c>c</c>, … with equal weights.</summary>
    public static Experiment Experiment(
        MetricName target = MetricName.ConversionRate,
        int variants = 2,
        int minimumSampleSize = 100,
        double minimumDetectableEffect = 0.10,
        IReadOnlyList<Guardrail>? guardrails = null,
        ExperimentStatus status = ExperimentStatus.Running,
        string? winner = null)
    {
        var share = Math.Round(100m / variants, 2, MidpointRounding.ToZero);
        var list = Enumerable.Range(0, variants)
            .Select(i => new Variant(VariantId(i), i == 0 ? "Control" : $"Variant {VariantId(i).ToUpperInvariant()}", $"version-{i}",
                i == 0 ? 100 - share * (variants - 1) : share))
            .ToList();
        return new Experiment("exp-1", "prompt-1", "customer-support", "Tone test", "", list, target, minimumSampleSize,
            ConfidenceLevel: 0.95, minimumDetectableEffect, Power: 0.8, guardrails ?? [], PromoteWinner: false, status,
            HashSeed: 42, winner, StatusReason: null, DateTimeOffset.UnixEpoch, "tester", DateTimeOffset.UnixEpoch, null, null);
    }

    public static string VariantId(int index) => index == 0 ? "control" : ((char)('a' + index)).ToString();

    /// <summary>The moments of <paramref name="n"/> values with this mean and sample standard deviation.</summary>
    public static Moments Summary(long n, double mean, double sd) => new(n, n * mean, (n - 1) * sd * sd);

    public static Moments Values(params double[] values) => values.Aggregate(default(Moments), (m, v) => m.Add(v));

    /// <summary>Analyses <paramref name="experiment"/> with these moments on its target metric (one per variant, the
    /// exposures equal to their counts) and nothing on the other metrics.</summary>
    public static ExperimentResults AnalyzeTarget(Experiment experiment, params Moments[] targetMoments) =>
        AnalyzeMoments(experiment, targetMoments.Select(m => m.Count).ToList(),
            (variant, metric) => metric == experiment.TargetMetric ? targetMoments[variant] : default);

    /// <summary>
    /// Analyses <paramref name="experiment"/> with every value a unit of its own (one event per unit): for
    /// <c>conversionRate</c> the moments' sum is the converted units (out of <paramref name="exposures"/>), for the
    /// others they are the values of the units' single events.
    /// </summary>
    public static ExperimentResults AnalyzeMoments(
        Experiment experiment, IReadOnlyList<long> exposures, Func<int, MetricName, Moments> momentsOf, SequentialState? previous = null)
    {
        var stats = new Dictionary<string, VariantUnitStats>();
        var exposed = new Dictionary<string, long>();
        for (var i = 0; i < experiment.Variants.Count; i++)
        {
            RatioMoments Of(MetricName metric) => IndependentValues(momentsOf(i, metric));
            exposed[experiment.Variants[i].Id] = exposures[i];
            stats[experiment.Variants[i].Id] = new VariantUnitStats
            {
                ConvertedUnits = (long)Math.Round(momentsOf(i, MetricName.ConversionRate).Sum),
                ErrorRate = Of(MetricName.ErrorRate),
                LatencyMs = Of(MetricName.AvgLatencyMs),
                Cost = Of(MetricName.AvgCost),
                QualityScore = Of(MetricName.AvgQualityScore),
                UserFeedback = Of(MetricName.AvgUserFeedback),
            };
        }
        return ExperimentAnalyzer.Analyze(experiment, exposed, stats, previous);
    }

    /// <summary>Asserts <paramref name="actual"/> equals <paramref name="expected"/> to <paramref name="digits"/> significant digits.</summary>
    public static void Close(double expected, double? actual, int digits = 5)
    {
        Assert.NotNull(actual);
        var tolerance = Math.Abs(expected) * Math.Pow(10, 1 - digits) / 2;
        Assert.True(Math.Abs(expected - actual.Value) <= tolerance,
            $"expected {expected:G10}, got {actual.Value:G10} (to {digits} significant digits)");
    }
}
