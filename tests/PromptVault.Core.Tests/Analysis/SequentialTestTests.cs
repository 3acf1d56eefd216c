using MathNet.Numerics.Distributions;
using PromptVault.Core.Analysis;
using static PromptVault.Core.Tests.Analysis.AnalysisData;

namespace PromptVault.Core.Tests.Analysis;

// The mSPRT of Johari, Pekelis & Walsh (2017), worked by hand from Λ = √(V/(V+τ²)) · exp(θ̂²τ² / (2V(V+τ²))).
public sealed class SequentialTestTests
{
    [Fact]
    public void PValue_HandComputedFromTheFormula()
    {
        // The z-test example (200/2000 vs 250/2000): θ̂ = 0.025, V = 9.96875e-5; τ = MDE 0.10 × control 0.10 = 0.01, τ² = 1e-4.
        // V/(V+τ²) = 9.96875e-5 / 1.996875e-4 = 0.49921753, √ = 0.70655327
        // θ̂²τ² / (2V(V+τ²)) = 6.25e-8 / 3.9812695e-8 = 1.5698510, e^1.5698510 = 4.8059321
        // Λ = 0.70655327 · 4.8059321 = 3.3956471, p = 1/Λ = 0.29449468
        Close(0.29449468, SequentialTest.PValue(0.025, 9.96875e-5, 0.01));
    }

    [Fact]
    public void PValue_LargeEffect_NoOverflow()
    {
        // θ̂/√V = 100: ln Λ ≈ 5000, far beyond exp's range; the p-value is simply 0.
        Assert.Equal(0, SequentialTest.PValue(1, 1e-4, 0.01));
    }

    [Fact]
    public void PValue_NoEvidence_IsOne_AndUndefinedInputs_AreNull()
    {
        // θ̂ = 0: Λ = √(V/(V+τ²)) < 1, so min(1, 1/Λ) = 1.
        Assert.Equal(1, SequentialTest.PValue(0, 9.96875e-5, 0.01));
        Assert.Null(SequentialTest.PValue(0.025, 0, 0.01));
        Assert.Null(SequentialTest.PValue(0.025, 9.96875e-5, 0));
    }

    [Fact]
    public void ConfidenceSequence_HandComputedHalfWidth()
    {
        // θ̂ = 0.25, V = 0.0125, τ = 0.1 (τ² = 0.01), α = 0.05:
        // c² = 2V(V+τ²)/τ² · (ln 20 + ½ ln((V+τ²)/V)) = 0.05625 · (2.9957323 + ½ ln 1.8) = 0.05625 · 3.2896256 = 0.18504144
        // c = 0.43016443 → [−0.18016443, 0.68016443]
        var interval = SequentialTest.ConfidenceSequence(0.25, 0.0125, 0.1, 0.05);

        Assert.NotNull(interval);
        Close(-0.18016443, interval.Value.Low);
        Close(0.68016443, interval.Value.High);
    }

    [Fact]
    public void ConfidenceSequence_EdgeIsWhereThePValueEqualsAlpha()
    {
        var interval = SequentialTest.ConfidenceSequence(0.25, 0.0125, 0.1, 0.05)!.Value;

        Close(0.05, SequentialTest.PValue(0.25 - interval.Low, 0.0125, 0.1), digits: 8);
        Close(0.05, SequentialTest.PValue(0.25 - interval.High, 0.0125, 0.1), digits: 8);
    }

    [Fact]
    public void RequiredSampleSize_TenPercentBaselineTwentyPercentLift_ExceedsFixedHorizon()
    {
        // Control 10%, treatment 12% (MDE 0.20 relative): effect θ = τ = 0.02, σ²_c + σ²_t = 0.09 + 0.1056 = 0.1956.
        // At n per arm, V = 0.1956/n and the mSPRT rejects when |θ̂| ≥ c(V) (the confidence sequence's half-width), so the
        // power is Φ((θ − c)/√V) + Φ((−θ − c)/√V). Scanning n upwards (an independent SciPy loop):
        // power(7437) = 0.79992950, power(7438) = 0.80000030 → n = 7438 per arm. A Monte Carlo check of 200,000 binomial
        // experiments at n = 7438 with plug-in variances rejected in 79.99% of them.
        // The fixed-horizon z-test would need (1.9599640 + 0.8416212)² · 0.1956 / 0.02² = 3839 per arm: about half.
        var n = SequentialTest.RequiredSampleSize(0.02, 0.02, 0.1956, 0.05, 0.8);

        Assert.Equal(7438, n);
        var fixedHorizon = Math.Pow(Normal.InvCDF(0, 1, 0.975) + Normal.InvCDF(0, 1, 0.8), 2) * 0.1956 / (0.02 * 0.02);
        Assert.Equal(3839, Math.Ceiling(fixedHorizon));
    }

    [Fact]
    public void RequiredSampleSize_MeanMetric_AndSplitAlpha()
    {
        // Mean 1200 ms, s = 400 ms, MDE 0.10: θ = τ = 120, σ² sum = 2 · 400² = 320,000 → 339 per arm (SciPy scan:
        // power(338) = 0.79997836, power(339) = 0.80153150).
        Assert.Equal(339, SequentialTest.RequiredSampleSize(120, 120, 320_000, 0.05, 0.8));
        // Two treatments share α = 0.05 (Holm's first step needs p < α/2): 8379 per arm for the 10% → 12% case.
        Assert.Equal(8379, SequentialTest.RequiredSampleSize(0.02, 0.02, 0.1956, 0.025, 0.8));
    }

    [Fact]
    public void RequiredSampleSize_NoEffectOrVariance_IsNull()
    {
        Assert.Null(SequentialTest.RequiredSampleSize(0, 0.02, 0.1956, 0.05, 0.8));
        Assert.Null(SequentialTest.RequiredSampleSize(0.02, 0.02, 0, 0.05, 0.8));
        Assert.Null(SequentialTest.RequiredSampleSize(1e-12, 1e-12, 1, 0.05, 0.8));
    }

    // The Dirichlet–multinomial SRM test of Lindon & Malek (2022), its Bayes factor averaged over C = 10², …, 10⁶, against
    // an independent reference in mpmath at 50 digits (exact shares, exact log-gamma):
    //   from mpmath import mp, mpf, loggamma, log, exp, fsum; mp.dps = 50
    //   def lbf(x, w, C):
    //       C = mpf(C); th = [mpf(a) / sum(w) for a in w]
    //       return loggamma(C) - loggamma(C + sum(x)) + fsum(loggamma(C*q + xi) - loggamma(C*q) - xi*log(q) for xi, q in zip(x, th))
    //   def p(x, w): return min(1, 5 / fsum(exp(lbf(x, w, 10**k)) for k in range(2, 7)))
    [Theory]
    [InlineData(new long[] { 5300, 4700 }, new double[] { 50, 50 }, 5.3095287589102046e-7)]
    [InlineData(new long[] { 5100, 4900 }, new double[] { 50, 50 }, 0.75102265919772927)]
    [InlineData(new long[] { 50600, 49400 }, new double[] { 50, 50 }, 0.012386425812854758)]
    [InlineData(new long[] { 10450, 5000, 4550 }, new double[] { 50, 25, 25 }, 1.2912811543921972e-11)]
    [InlineData(new long[] { 1000, 520, 480 }, new double[] { 50, 25, 25 }, 1.0)]
    [InlineData(new long[] { 870, 130 }, new double[] { 90, 10 }, 0.17132179370277589)]
    [InlineData(new long[] { 300, 500, 200 }, new double[] { 30, 50, 20 }, 1.0)]
    [InlineData(new long[] { 10000, 8000 }, new double[] { 50, 50 }, 5.405797900959624e-47)]
    [InlineData(new long[] { 50_030_000, 49_970_000 }, new double[] { 50, 50 }, 5.9286383533406624e-7)]
    [InlineData(new long[] { 20_030_000, 79_970_000 }, new double[] { 20, 80 }, 2.5667199298152486e-11)]
    [InlineData(new long[] { 50_000_000, 25_030_000, 24_970_000 }, new double[] { 50, 25, 25 }, 1.4484835408169529e-13)]
    [InlineData(new long[] { 33_350_000, 33_330_000, 33_320_000 }, new double[] { 1, 1, 1 }, 0.44105251838356699)]
    [InlineData(new long[] { 50_012_000, 49_988_000 }, new double[] { 50, 50 }, 1.0)]
    public void SampleRatioPValue_MatchesTheMixedBayesFactorComputedInMpmath(long[] exposures, double[] weights, double expected)
    {
        Close(expected, SequentialTest.SampleRatioPValue(exposures, weights.Select(w => (decimal)w).ToList()), digits: 6);
    }

    [Fact]
    public void SampleRatioPValue_GrossImbalanceAmongFewUnits_IsFlagged()
    {
        // The experiment walk's exposures: 399 against 616 at 50/50 (chi-square p 9.7e-12). C = 10⁴ alone gave ln BF 2.09,
        // p = 0.124, no mismatch; C = 10² gives ln BF 20.06, so the mixture's p is 9.6765818e-9 (mpmath, as above).
        var pValue = SequentialTest.SampleRatioPValue([399, 616], [50m, 50m]);

        Close(9.6765817914125766e-9, pValue, digits: 6);
        Assert.True(pValue < Statistics.SampleRatioMismatchThreshold);
    }

    [Fact]
    public void SampleRatioPValue_NoExposures_IsNull_AndExposuresOnAZeroWeight_IsZero()
    {
        Assert.Null(SequentialTest.SampleRatioPValue([0, 0], [50m, 50m]));
        Assert.Equal(0, SequentialTest.SampleRatioPValue([10, 5, 1], [50m, 50m, 0m]));
    }
}
