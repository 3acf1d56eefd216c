using PromptVault.Core.Metrics;
using static PromptVault.Core.Tests.Analysis.AnalysisData;

namespace PromptVault.Core.Tests.Metrics;

public sealed class MomentsTests
{
    // 1,000 latencies alternating 100,000.005 and 99,999.995 ms: the sample standard deviation is
    // 0.005 · √(1000/999) = 0.0050025019 (exact rational arithmetic). Sums of squares (about 10¹³) lose it: they gave
    // a standard deviation 3.5× too large.
    private static readonly double[] Latencies = Enumerable.Range(0, 1000).Select(i => 100_000 + (i % 2 == 0 ? 0.005 : -0.005)).ToArray();

    [Fact]
    public void SampleVariance_LargeValuesSmallSpread_RightToSixDigits()
    {
        var moments = Values(Latencies);

        Close(0.0050025019, Math.Sqrt(moments.SampleVariance), digits: 6);
        Close(100_000, moments.Mean, digits: 12);
    }

    [Fact]
    public void Merge_ChanFormula_SameAsAddingOneByOne()
    {
        var merged = Values(Latencies[..300]) + Values(Latencies[300..]) + default(Moments);

        Assert.Equal(1000, merged.Count);
        Close(0.0050025019, Math.Sqrt(merged.SampleVariance), digits: 6);
        Assert.Equal(Values(1, 2, 3, 4), Values(1, 2) + Values(3, 4));
        Assert.Equal(Values(5), default(Moments) + Values(5));
    }

    [Fact]
    public void OfRate_IsTheMomentsOfZerosAndOnes()
    {
        Assert.Equal(Values(1, 1, 0, 0, 0), Moments.OfRate(2, 5));
        Assert.Equal(default, Moments.OfRate(0, 0));
    }

    [Fact]
    public void FromSums_ConvertsTheOldForm()
    {
        var moments = Moments.FromSums(3, 6, 14); // 1, 2, 3

        Assert.Equal(new Moments(3, 6, 2), moments);
        Assert.Equal(2, moments.Mean);
        Assert.Equal(6, moments.Sum);
        Assert.Equal(14, moments.SumOfSquares);
        Assert.Equal(1, moments.SampleVariance);
    }
}
