using MathNet.Numerics;
using MathNet.Numerics.Distributions;

namespace PromptVault.Core.Analysis;

/// <summary>
/// The mixture sequential probability ratio test (mSPRT) with a normal mixing distribution N(0, τ²) over the true
/// difference θ (Johari, Pekelis &amp; Walsh 2017, "Always Valid Inference: Bringing Sequential Analysis to A/B Testing", arXiv:1512.04922):
/// for an estimate θ̂ with variance V,
/// <c>Λ = √(V / (V + τ²)) · exp(θ̂²τ² / (2V(V + τ²)))</c>. Under H0: θ = 0, Λ is a nonnegative martingale, so by Ville's
/// inequality <c>P(Λ ever ≥ 1/α) ≤ α</c>: the p-value and the interval below stay valid however often they are looked at.
/// </summary>
/// <remarks>
/// These are the p-values of one look. <see cref="ExperimentAnalyzer"/> keeps their running minimum over looks in a
/// <see cref="SequentialState"/>: still always valid (Ville's bound is on the whole path), and it never rises.
/// </remarks>
public static class SequentialTest
{
    /// <summary>No answer above this many values per arm: the effect is too small to be worth waiting for.</summary>
    public const long MaxSampleSize = 1L << 40;

    /// <summary>The always-valid p-value <c>min(1, 1/Λ)</c>; null unless <paramref name="variance"/> and <paramref name="tau"/> are positive.</summary>
    /// <param name="estimate">θ̂, the observed difference.</param>
    /// <param name="variance">V, the variance of θ̂.</param>
    /// <param name="tau">τ, the standard deviation of the normal mixing distribution, in the units of θ̂.</param>
    public static double? PValue(double estimate, double variance, double tau)
    {
        if (!(variance > 0) || !(tau > 0) || !double.IsFinite(estimate))
            return null;
        return Math.Exp(-Math.Max(0, LogLikelihoodRatio(estimate, variance, tau * tau)));
    }

    /// <summary>
    /// The always-valid (1 − <paramref name="alpha"/>) confidence sequence: the θ₀ that the mSPRT of H0: θ = θ₀ does not
    /// reject, <c>θ̂ ± √(2V(V + τ²)/τ² · (ln(1/α) + ½ ln((V + τ²)/V)))</c> (JPW 2017). Null like <see cref="PValue"/>.
    /// </summary>
    public static Interval? ConfidenceSequence(double estimate, double variance, double tau, double alpha)
    {
        if (!(variance > 0) || !(tau > 0) || !double.IsFinite(estimate))
            return null;
        return Interval.Around(estimate, HalfWidth(variance, tau * tau, alpha));
    }

    /// <summary>
    /// The smallest number of values per arm at which the mSPRT, looked at then, rejects H0: θ = 0 with probability at
    /// least <paramref name="power"/> when the true difference is <paramref name="effect"/>. At n values per arm
    /// <c>θ̂ ~ N(effect, V)</c> with <c>V = valueVarianceSum / n</c>, and the test rejects when <c>|θ̂| ≥ c(V)</c>, the
    /// half-width of <see cref="ConfidenceSequence"/>; so the power is <c>Φ((effect − c)/√V) + Φ((−effect − c)/√V)</c>.
    /// Since an experiment that is looked at earlier too can only stop sooner, this n suffices for auto-completion.
    /// Null when the effect, τ or the variance is not positive, or the answer exceeds <see cref="MaxSampleSize"/>.
    /// </summary>
    /// <param name="valueVarianceSum">The variance of one control value plus that of one treatment value.</param>
    public static long? RequiredSampleSize(double effect, double tau, double valueVarianceSum, double alpha, double power)
    {
        if (!(effect > 0) || !(tau > 0) || !(valueVarianceSum > 0))
            return null;
        bool Enough(long n)
        {
            var variance = valueVarianceSum / n;
            var c = HalfWidth(variance, tau * tau, alpha);
            var se = Math.Sqrt(variance);
            return Normal.CDF(0, 1, (effect - c) / se) + Normal.CDF(0, 1, (-effect - c) / se) >= power;
        }

        // The power grows with n (the threshold c/√V grows like √ln n, effect/√V like √n): double, then bisect.
        long tooFew = 0, enough = 1;
        while (!Enough(enough))
        {
            tooFew = enough;
            enough *= 2;
            if (enough > MaxSampleSize)
                return null;
        }
        while (enough - tooFew > 1)
        {
            var middle = tooFew + (enough - tooFew) / 2;
            if (Enough(middle))
                enough = middle;
            else
                tooFew = middle;
        }
        return enough;
    }

    /// <summary>
    /// The prior concentrations C that <see cref="SampleRatioPValue"/> mixes, one a decade apart. At 50/50 a
    /// Dirichlet(C·θ₀) prior gives a variant's share a standard deviation of 0.5/√(C + 1): 5 points at C = 10² (45/55,
    /// which shows within a few thousand units) down to 0.05 points at C = 10⁶ (50.05/49.95, which takes tens of millions
    /// of units to show and biases a comparison little). One C alone (Optimizely's
    /// ssrm-test default, 10⁴) puts its mass on deviations of about half a point, so a gross imbalance among a thousand
    /// units gained little evidence: 399 against 616 gave p = 0.124. Adjacent decades' Bayes factors overlap broadly, so
    /// a finer grid gains little and costs up to its size in evidence.
    /// </summary>
    private static readonly double[] SampleRatioConcentrations = [1e2, 1e3, 1e4, 1e5, 1e6];

    /// <summary>
    /// The sequential sample ratio mismatch test of Lindon &amp; Malek (2022, "Anytime-Valid Inference for Multinomial Count
    /// Data", NeurIPS; arXiv:2011.03567), mixed over <see cref="SampleRatioConcentrations"/>: the Bayes factor of a
    /// Dirichlet(C·θ₀) mixture of multinomials against the multinomial at the weights' shares θ₀, for the counts x
    /// (n in all) over the variants with a positive weight, is
    /// <c>ln BF_C = ln Γ(C) − ln Γ(C + n) + Σ [ln Γ(Cθᵢ + xᵢ) − ln Γ(Cθᵢ)] − Σ xᵢ ln θᵢ</c>, and BF is their plain mean
    /// over the K concentrations. Each BF_C is a nonnegative martingale under the null, so their fixed-weight mean is one
    /// too, and <c>min(1, 1/BF)</c> is an always-valid p-value: at most K times that of the best single C, and orders of
    /// magnitude below that of a wrong one. Null without exposures or with fewer than two weighted variants; 0 when a
    /// variant of weight 0 has exposures (impossible under the null).
    /// </summary>
    public static double? SampleRatioPValue(IReadOnlyList<long> exposures, IReadOnlyList<decimal> weights)
    {
        if (Statistics.SampleRatioShares(exposures, weights) is not { } shares)
            return null;
        if (shares.Length == 0)
            return 0;
        var logBayesFactors = SampleRatioConcentrations.Select(c => SampleRatioLogBayesFactor(exposures, shares, c)).ToArray();
        // ln of their mean, shifted by the largest so that exp neither overflows nor underflows at large counts.
        var largest = logBayesFactors.Max();
        var logMean = largest + Math.Log(logBayesFactors.Average(l => Math.Exp(l - largest)));
        return Math.Exp(-Math.Max(0, logMean));
    }

    /// <summary>ln BF_C of <see cref="SampleRatioPValue"/> for one concentration <paramref name="c"/>.</summary>
    private static double SampleRatioLogBayesFactor(IReadOnlyList<long> exposures, double[] shares, double c)
    {
        double logBayesFactor = 0, n = 0;
        for (var i = 0; i < shares.Length; i++)
        {
            if (shares[i] <= 0)
                continue;
            double x = exposures[i], alpha = c * shares[i];
            logBayesFactor += SpecialFunctions.GammaLn(alpha + x) - SpecialFunctions.GammaLn(alpha) - x * Math.Log(shares[i]);
            n += x;
        }
        return logBayesFactor + SpecialFunctions.GammaLn(c) - SpecialFunctions.GammaLn(c + n);
    }

    /// <summary>ln Λ.</summary>
    private static double LogLikelihoodRatio(double estimate, double variance, double tauSquared) =>
        0.5 * Math.Log(variance / (variance + tauSquared))
        + estimate * estimate * tauSquared / (2 * variance * (variance + tauSquared));

    /// <summary>The |θ̂| at which ln Λ reaches ln(1/α).</summary>
    private static double HalfWidth(double variance, double tauSquared, double alpha) =>
        Math.Sqrt(2 * variance * (variance + tauSquared) / tauSquared
                  * (Math.Log(1 / alpha) + 0.5 * Math.Log((variance + tauSquared) / variance)));
}
