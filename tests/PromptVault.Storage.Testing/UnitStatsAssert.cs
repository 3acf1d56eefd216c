using PromptVault.Core.Analysis;
using PromptVault.Core.Metrics;

namespace PromptVault.Storage.Testing;

/// <summary>
/// The unit statistics of SPEC §3 computed in memory from raw events and exposures, and a comparison with what a store
/// kept incrementally: counts exactly, means and variances to 9 significant digits (a store folds units in another order,
/// and the shift of <see cref="RatioMoments"/> is the first unit it saw).
/// </summary>
public static class UnitStatsAssert
{
    /// <summary>Each variant's statistics from scratch: a unit counts for the variant it was exposed to, everything else is unattributed.</summary>
    public static Dictionary<string, VariantUnitStats> Expected(IEnumerable<MetricEvent> events, IReadOnlyDictionary<string, string> exposedVariantByUnit)
    {
        var stats = new Dictionary<string, VariantUnitStats>(StringComparer.Ordinal);
        VariantUnitStats Of(string variantId) => stats.GetValueOrDefault(variantId) ?? new VariantUnitStats();
        var inExperiment = events.Where(e => e is { ExperimentId: not null, VariantId: not null }).ToList();
        foreach (var e in inExperiment.Where(e => e.UnitId is null))
            stats[e.VariantId!] = Of(e.VariantId!).AddUnattributed(1);
        foreach (var unit in inExperiment.Where(e => e.UnitId is not null).GroupBy(e => (e.UnitId!, e.VariantId!)))
        {
            var (unitId, variantId) = unit.Key;
            var sums = unit.Aggregate(default(UnitSums), (s, e) => s.Add(e));
            stats[variantId] = exposedVariantByUnit.GetValueOrDefault(unitId) == variantId
                ? Of(variantId).Replace(default, sums)
                : Of(variantId).AddUnattributed(sums.Events);
        }
        return stats;
    }

    public static void Equal(IReadOnlyDictionary<string, VariantUnitStats> expected, IReadOnlyDictionary<string, VariantUnitStats> actual)
    {
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (variantId, stats) in expected)
            Equal(stats, actual[variantId]);
    }

    public static void Equal(VariantUnitStats expected, VariantUnitStats actual)
    {
        Assert.Equal((expected.ConvertedUnits, expected.UnattributedEvents), (actual.ConvertedUnits, actual.UnattributedEvents));
        foreach (var metric in (MetricName[])[MetricName.ErrorRate, MetricName.AvgLatencyMs, MetricName.AvgCost, MetricName.AvgQualityScore, MetricName.AvgUserFeedback])
        {
            var (e, a) = (expected.Of(metric), actual.Of(metric));
            Assert.Equal((e.Units, e.SumN, e.SumNN), (a.Units, a.SumN, a.SumNN));
            Close(e.Mean, a.Mean);
            Close(e.VarianceOfMean, a.VarianceOfMean);
        }
    }

    private static void Close(double expected, double actual) =>
        Assert.True(double.IsNaN(expected) ? double.IsNaN(actual) : Math.Abs(expected - actual) <= 1e-9 * Math.Max(1e-12, Math.Abs(expected)),
            $"expected {expected:R}, got {actual:R}");
}
