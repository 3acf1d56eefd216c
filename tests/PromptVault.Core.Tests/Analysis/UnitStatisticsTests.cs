using PromptVault.Core.Analysis;
using PromptVault.Core.Metrics;
using static PromptVault.Core.Tests.Analysis.AnalysisData;

namespace PromptVault.Core.Tests.Analysis;

public sealed class UnitStatisticsTests
{
    /// <summary>
    /// Units 0..999 with 1 + u mod 3 latencies each, event j of unit u at 100,000 ± 0.005 ms (+ when u + j is even).
    /// The delta-method variance of the ratio Σs/Σn, in exact rational arithmetic (Python fractions):
    /// var = (s²_S − 2r·c_SN + r²·s²_N) / (K·n̄²) = 4.177087488511149e-09, r = 100000.0000025012559.
    /// </summary>
    private static IEnumerable<MeasureSum> Units() => Enumerable.Range(0, 1000).Select(u =>
        Enumerable.Range(0, 1 + u % 3).Aggregate(default(MeasureSum), (sum, j) => sum.Add(100_000 + ((u + j) % 2 == 0 ? 0.005 : -0.005))));

    [Fact]
    public void VarianceOfMean_LargeValuesSmallSpread_RightToSixDigits()
    {
        var moments = Units().Aggregate(default(RatioMoments), (m, unit) => m.Add(unit));

        Assert.Equal(1000, moments.Units);
        Close(4.177087488511149e-09, moments.VarianceOfMean, digits: 6);
        Close(100_000.0000025012559, moments.Mean, digits: 12);
    }

    [Fact]
    public void Remove_UndoesAdd()
    {
        var units = Units().ToList();
        var all = units.Aggregate(default(RatioMoments), (m, unit) => m.Add(unit));

        var fewer = all.Remove(units[0]).Remove(units[1]);
        var direct = units.Skip(2).Aggregate(default(RatioMoments), (m, unit) => m.Add(unit));

        Assert.Equal(998, fewer.Units);
        Close(direct.VarianceOfMean, fewer.VarianceOfMean, digits: 6);
        Close(direct.Mean, fewer.Mean, digits: 12);
        Assert.Equal(default, default(RatioMoments).Add(units[0]).Remove(units[0]));
    }

    [Fact]
    public void VarianceOfMean_OneEventPerUnit_IsTheSampleVarianceOverK()
    {
        double[] values = [3, 7, 8, 12, 20];
        var ratio = values.Aggregate(default(RatioMoments), (m, v) => m.Add(new MeasureSum(1, v)));

        Close(Values(values).SampleVariance / 5, ratio.VarianceOfMean, digits: 12);
        Assert.Equal(IndependentValues(Values(values)).VarianceOfMean, ratio.VarianceOfMean, 12);
    }

    [Fact]
    public void VarianceOfMean_CorrelatedEventsInAUnit_ExceedsTheNaiveVariance()
    {
        // Two units of four identical events each, two of 0 and two of 1: per event the values look like 16 independent
        // ones (variance of the mean 0.25·16/15/16), but there are only 4 independent units.
        MeasureSum[] units = [new(4, 0), new(4, 0), new(4, 4), new(4, 4)];
        var byUnit = units.Aggregate(default(RatioMoments), (m, u) => m.Add(u));
        var byEvent = IndependentValues(Moments.OfRate(8, 16));

        Close(0.5, byUnit.Mean);
        Close(1.0 / 3 / 4, byUnit.VarianceOfMean); // the unit means' variance 1/3 over 4 units
        Close(0.25 * 16 / 15 / 16, byEvent.VarianceOfMean);
    }

    [Fact]
    public void Replace_MovesAUnitsSums()
    {
        var before = default(UnitSums);
        var after = new UnitSums(2, 1, true, new(2, 300), new(1, 0.01), default, default);

        var stats = new VariantUnitStats().Replace(before, after).Replace(after, after with { Converted = false });

        Assert.Equal(0, stats.ConvertedUnits);
        Assert.Equal(1, stats.LatencyMs.Units);
        Close(150, stats.LatencyMs.Mean);
        Close(0.5, stats.ErrorRate.Mean);
    }
}
