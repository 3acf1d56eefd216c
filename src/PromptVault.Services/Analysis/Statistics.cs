using MathNet.Numerics;
using MathNet.Numerics.Distributions;
using PromptVault.Core.Metrics;

namespace PromptVault.Core.Analysis;

/// <summary>A two-sided interval.</summary>
public readonly record struct Interval(double Low, double High)
{
    /// <summary><c>[estimate − halfWidth, estimate + halfWidth]</c>.</summary>
    public static Interval Around(double estimate, double halfWidth) => new(estimate - halfWidth, estimate + halfWidth);

    /// <summary>
    /// This interval's part within <paramref name="range"/>, a set the parameter is known to lie in: a confidence set
    /// intersected with it covers as often as before. Each end is clamped, so an interval wholly outside (which no
    /// interval around an estimate inside the range is) shrinks to the nearest end of the range.
    /// </summary>
    public Interval Within(Interval range) =>
        new(Math.Clamp(Low, range.Low, range.High), Math.Clamp(High, range.Low, range.High));
}

/// <summary>treatment − control on one metric, from a two-proportion z-test or Welch's t-test.</summary>
/// <param name="Variance">The variance of <paramref name="Difference"/> without pooling, <c>var(control)/n + var(treatment)/n</c>;
/// when that is 0 (each arm's units agree) the pooled one, <see cref="Statistics.PooledVariance(Moments, Moments)"/>
/// (<see cref="Statistics.WithinOrPooled"/>).</param>
/// <param name="Ci">The interval for the difference at the confidence level asked for.</param>
/// <param name="PValue">Two-sided; null when a mean's test has no standard error (every value the same in both arms). A
/// rate's is Fisher's there, 1.</param>
public sealed record DifferenceTest(double Difference, double Variance, Interval Ci, double? PValue);

/// <summary>treatment / control − 1, with the delta-method variance of the ratio.</summary>
public sealed record RelativeEstimate(double Value, double Variance, Interval Ci);

/// <summary>
/// The fixed-horizon statistics of two-arm comparisons, over the sufficient statistics in <see cref="Moments"/>
/// (a rate's moments are those of its 0/1 values) or, for ratio metrics over units, <see cref="RatioMoments"/>.
/// Valid for one look at a sample size fixed in advance. Pure functions; distributions come from MathNet.Numerics.
/// Undefined results (no data, no variance) are null, never NaN.
/// </summary>
public static class Statistics
{
    /// <summary>
    /// The two-proportion z-test of <paramref name="treatment"/> against <paramref name="control"/>: the p-value from
    /// the pooled standard error (the null says the rates are equal), the interval from the unpooled (Wald) one.
    /// Where the normal approximation fails (<see cref="NeedsExactFigures"/>) the p-value is Fisher's exact test's instead
    /// (<see cref="FisherExactPValue"/>) and the interval Newcombe's (<see cref="NewcombeInterval"/>): with few units
    /// (3 converted of 3 against 0 of 2 gives z's p = 0.025, where no split of 5 units can be rarer than 1 in 10, and a
    /// Wald interval of 0 width around 100 points), and when every unit of both arms has the same outcome, where both
    /// standard errors are 0 (Fisher's p is then 1, and 0 of 5,000 against 0 of 5,000 bounds the difference to about
    /// ±0.08 points). Null when either arm is empty.
    /// </summary>
    public static DifferenceTest? ProportionZTest(Moments control, Moments treatment, double confidenceLevel)
    {
        if (control.Count == 0 || treatment.Count == 0)
            return null;
        var difference = treatment.Mean - control.Mean;
        var exact = NeedsExactFigures(control, treatment);
        // Pooled standard error under H0: p1 = p2 (e.g. Agresti, Categorical Data Analysis, 3rd ed., §3.1.3).
        var pooledVariance = PooledVariance(control, treatment);
        var pValue = exact ? FisherExactPValue(control, treatment)
            : 2 * Normal.CDF(0, 1, -Math.Abs(difference / Math.Sqrt(pooledVariance)));
        var variance = WithinOrPooled(VarianceOfMean(control, isRate: true)!.Value + VarianceOfMean(treatment, isRate: true)!.Value,
            () => pooledVariance);
        var ci = exact ? NewcombeInterval(control, treatment, confidenceLevel)
            : Interval.Around(difference, NormalQuantile(confidenceLevel) * Math.Sqrt(variance));
        return new(difference, variance, ci, pValue);
    }

    /// <summary>
    /// Whether the normal approximation fails two conversion arms: either has fewer than
    /// <see cref="ExperimentAnalyzer.FewestSettledUnits"/> units, or every unit of both arms has the same outcome (none or
    /// all converted), where its standard errors are 0 at any size. Then the p-value is Fisher's, the interval Newcombe's,
    /// the relative interval the score interval and the chance to beat control the Beta posterior's.
    /// </summary>
    public static bool NeedsExactFigures(Moments control, Moments treatment) =>
        Math.Min(control.Count, treatment.Count) < ExperimentAnalyzer.FewestSettledUnits || !(PooledVariance(control, treatment) > 0);

    /// <summary>
    /// Wilson's score interval for a rate (Wilson 1927): the rates p whose score test <c>|p̂ − p| ≤ z√(p(1 − p)/n)</c> accepts.
    /// Within [0, 1], and never of 0 width, also when none or every unit converted.
    /// </summary>
    internal static Interval WilsonInterval(Moments rate, double z)
    {
        double n = rate.Count, x = rate.Sum, z2 = z * z;
        var centre = (x + z2 / 2) / (n + z2);
        var half = z * Math.Sqrt(x * (n - x) / n + z2 / 4) / (n + z2);
        return new(Math.Max(0, centre - half), Math.Min(1, centre + half));
    }

    /// <summary>
    /// Newcombe's hybrid score interval for <c>p_T − p_C</c> (Newcombe 1998, Statistics in Medicine 17:873–890, method 10):
    /// from the arms' Wilson intervals (l, u), <c>d − √((p_T − l_T)² + (u_C − p_C)²)</c> to <c>d + √((u_T − p_T)² + (p_C − l_C)²)</c>.
    /// Near its nominal coverage with few units, where Wald's falls to 85% (its standard error is 0 at 0% and 100%).
    /// </summary>
    internal static Interval NewcombeInterval(Moments control, Moments treatment, double confidenceLevel)
    {
        var z = NormalQuantile(confidenceLevel);
        double pc = control.Mean, pt = treatment.Mean;
        var (c, t) = (WilsonInterval(control, z), WilsonInterval(treatment, z));
        return new(pt - pc - Math.Sqrt(Square(pt - t.Low) + Square(c.High - pc)),
            pt - pc + Math.Sqrt(Square(t.High - pt) + Square(pc - c.Low)));
    }

    private static double Square(double x) => x * x;

    /// <summary>
    /// The score interval of <c>p_T / p_C − 1</c> for two rates (Koopman 1984): the ratios b that Farrington and Manning's
    /// score test of <c>p_T = b·p_C</c> accepts, <c>(p̂_T − b·p̂_C)² ≤ z²·</c><see cref="RestrictedVariance"/>, its ends found
    /// by bisection in log b. The small-sample counterpart of the delta method's interval, which, like Wald's, has no width
    /// when the arms converted none or all of their units. Null when the control converted none (no ratio).
    /// </summary>
    internal static Interval? RatioScoreInterval(Moments control, Moments treatment, double confidenceLevel)
    {
        if (!(control.Mean > 0))
            return null;
        var z2 = Square(NormalQuantile(confidenceLevel));
        bool Accepts(double b) => Square(treatment.Mean - b * control.Mean) <= z2 * RestrictedVariance(control, treatment, b);
        // From an accepted ratio, step by factor until one is refused, then bisect; none refused within 2^±64: unbounded.
        double Edge(double inside, double factor)
        {
            var outside = inside * factor;
            for (var i = 0; i < 64 && Accepts(outside); i++)
                (inside, outside) = (outside, outside * factor);
            if (Accepts(outside))
                return factor > 1 ? double.PositiveInfinity : 0;
            for (var i = 0; i < 100; i++)
            {
                var middle = Math.Sqrt(inside * outside);
                if (Accepts(middle))
                    inside = middle;
                else
                    outside = middle;
            }
            return inside;
        }
        var estimate = treatment.Mean / control.Mean;
        var low = estimate > 0 ? Edge(estimate, 0.5) : 0; // with no conversion in the treatment every small ratio is accepted
        var high = Edge(estimate > 0 ? estimate : 1e-12, 2);
        return new(low - 1, high - 1);
    }

    /// <summary>
    /// Fisher's exact test, two-sided (Agresti, Categorical Data Analysis, 3rd ed., §3.5.1): with the units' conversions
    /// fixed, the smaller arm's count is hypergeometric under "equal rates"; p sums the chances of every count no more
    /// likely than the one seen. Its terms are at most the smaller arm's units plus one, at any count of units.
    /// </summary>
    internal static double FisherExactPValue(Moments control, Moments treatment)
    {
        // Every unit the same outcome: the one possible table is the one seen (used at any size, where there is no other term).
        var convertedUnits = control.Sum + treatment.Sum;
        if (convertedUnits == 0 || convertedUnits == control.Count + treatment.Count)
            return 1;
        var (small, large) = control.Count <= treatment.Count ? (control, treatment) : (treatment, control);
        // Counts as doubles (exact to 2^53): the other arm may hold more than int's 2^31 units, where MathNet's
        // Hypergeometric, which counts in int, throws.
        double n = small.Count, all = small.Count + large.Count, converted = Math.Round(small.Sum) + Math.Round(large.Sum);
        long first = (long)Math.Max(0, converted - large.Count), last = (long)Math.Min(n, converted);
        // ln P(k) up to a constant, each term from the one before: P(k + 1)/P(k) = (K − k)(n − k)/((k + 1)(N − K − n + k + 1)).
        // ln Γ of billions would lose the digits that tell equally likely counts apart.
        var ln = new double[last - first + 1];
        for (var k = first; k < last; k++)
            ln[k - first + 1] = ln[k - first] + Math.Log((converted - k) * (n - k) / ((k + 1) * (all - converted - n + k + 1)));
        var seen = ln[(long)Math.Round(small.Sum) - first];
        var most = ln.Max();
        double p = 0, total = 0;
        foreach (var term in ln)
        {
            var chance = Math.Exp(term - most);
            total += chance;
            if (term <= seen + 1e-7) // relative tolerance, so counts as likely as the one seen are not lost to rounding
                p += chance;
        }
        return Math.Min(1, p / total);
    }

    /// <summary>
    /// The variance of <c>T̄ − C̄</c> were the arms' values exchangeable: both pooled around their common mean,
    /// <c>s²·(1/n₁ + 1/n₂)</c> with s² their variance (a rate's p̄(1 − p̄), the z-test's).
    /// </summary>
    public static double PooledVariance(Moments control, Moments treatment)
    {
        var pooled = control + treatment;
        return pooled.M2 / pooled.Count * (1.0 / control.Count + 1.0 / treatment.Count);
    }

    /// <summary>
    /// The variance of <c>T̄ − b·C̄</c> for two rates under the null <c>p_T = b·p_C</c> (b = <paramref name="ratio"/> &gt; 0),
    /// at the rates' maximum likelihood estimates restricted to that null (Farrington &amp; Manning 1990, the score test of
    /// a ratio of proportions, as Miettinen &amp; Nurminen 1985): <c>p̃_T(1 − p̃_T)/n_T + b²·p̃_C(1 − p̃_C)/n_C</c>, p̃_T = b·p̃_C.
    /// The non-inferiority test of a conversion guardrail rests on it; 0 when neither arm has a conversion.
    /// </summary>
    public static double RestrictedVariance(Moments control, Moments treatment, double ratio)
    {
        // d/dp̃_C of the log-likelihood with p̃_T = b·p̃_C is 0 where
        // N·b·p² − (n_T·b + x_T + n_C + x_C·b)·p + (x_T + x_C) = 0; the smaller root (the larger one is above 1/b or 1),
        // written as 2c / (B + √(B² − 4ac)) so that it needs no subtraction of near-equal terms.
        double xc = control.Sum, xt = treatment.Sum, nc = control.Count, nt = treatment.Count;
        var a = (nc + nt) * ratio;
        var b = nt * ratio + xt + nc + xc * ratio;
        var c = xt + xc;
        var pc = c == 0 ? 0 : 2 * c / (b + Math.Sqrt(Math.Max(0, b * b - 4 * a * c)));
        var pt = ratio * pc;
        return pt * (1 - pt) / nt + ratio * ratio * pc * (1 - pc) / nc;
    }

    /// <summary>
    /// The variance of <c>T̄ − b·C̄</c> (b = <paramref name="scale"/>) for two ratio metrics were each unit's value under
    /// the treatment b times its value under control, so that the control's units and the treatment's divided by b are
    /// exchangeable: the delta-method variance of one unit over both arms' units together, times <c>b²·(1/K₁ + 1/K₂)</c>.
    /// For a guardrail b is the allowed ratio, 1 ± threshold; b = 1 is the difference's.
    /// </summary>
    public static double PooledVariance(RatioMoments control, RatioMoments treatment, double scale = 1)
    {
        var pooled = control.Merge(treatment.Scale(1 / scale));
        return scale * scale * pooled.VarianceOfMean * pooled.Units * (1.0 / control.Units + 1.0 / treatment.Units);
    }

    /// <summary>
    /// The variance a comparison rests on, fixed-horizon and sequential alike: the arms' own (<paramref name="within"/>), or
    /// when that is 0 (each arm's units agree) the pooled one, which is positive when the arms differ. Not the larger of the
    /// two: when the arms differ the pooled variance also carries the spread between them, and the mSPRT's Λ, with τ small
    /// next to a large effect, falls with about the square of V (60% against 10% conversion over 300 units an arm then
    /// missed α in some runs).
    /// </summary>
    /// <remarks>The pooled variance is computed only when it is needed.</remarks>
    internal static double WithinOrPooled(double within, Func<double> pooled) => within > 0 ? within : pooled();

    /// <summary>
    /// Welch's t-test of <paramref name="treatment"/>'s mean against <paramref name="control"/>'s, with the
    /// Welch–Satterthwaite degrees of freedom, and its interval. Null when either arm has fewer than two values.
    /// </summary>
    public static DifferenceTest? WelchTTest(Moments control, Moments treatment, double confidenceLevel) =>
        control.Count < 2 || treatment.Count < 2
            ? null
            : Welch(control.Mean, control.SampleVariance / control.Count, control.Count,
                treatment.Mean, treatment.SampleVariance / treatment.Count, treatment.Count, confidenceLevel,
                () => (control + treatment).SampleVariance * (1.0 / control.Count + 1.0 / treatment.Count));

    /// <summary>
    /// The fixed-horizon test of two ratio metrics over units (SPEC §3): the difference of the ratios with their
    /// delta-method variances (<see cref="RatioMoments.VarianceOfMean"/>), and Welch's t with the units as the
    /// observations (ν from Welch–Satterthwaite with K − 1 per arm). Null when either arm has fewer than two units.
    /// </summary>
    public static DifferenceTest? RatioTest(RatioMoments control, RatioMoments treatment, double confidenceLevel) =>
        control.Units < 2 || treatment.Units < 2
            ? null
            : Welch(control.Mean, control.VarianceOfMean, control.Units, treatment.Mean, treatment.VarianceOfMean, treatment.Units, confidenceLevel,
                () => PooledVariance(control, treatment));

    /// <summary>Welch's test from each arm's mean, variance of the mean and number of independent observations.</summary>
    private static DifferenceTest Welch(double controlMean, double v1, long n1, double treatmentMean, double v2, long n2, double confidenceLevel,
        Func<double> pooledVariance)
    {
        var difference = treatmentMean - controlMean;
        var variance = v1 + v2;
        if (!(variance > 0))
        {
            // No variance within the arms, so no Welch t: the pooled variance with the normal approximation, as the z-test.
            variance = WithinOrPooled(variance, pooledVariance);
            if (!(variance > 0))
                return new(difference, 0, new(difference, difference), null);
            return new(difference, variance, Interval.Around(difference, NormalQuantile(confidenceLevel) * Math.Sqrt(variance)),
                2 * Normal.CDF(0, 1, -Math.Abs(difference / Math.Sqrt(variance))));
        }
        // Welch (1947), Satterthwaite (1946): ν = (v1 + v2)² / (v1²/(n1−1) + v2²/(n2−1)).
        var df = variance * variance / (v1 * v1 / (n1 - 1) + v2 * v2 / (n2 - 1));
        var se = Math.Sqrt(variance);
        var pValue = 2 * StudentT.CDF(0, 1, df, -Math.Abs(difference / se));
        var quantile = StudentT.InvCDF(0, 1, df, 1 - (1 - confidenceLevel) / 2);
        return new(difference, variance, Interval.Around(difference, quantile * se), pValue);
    }

    /// <summary>
    /// <c>treatment / control − 1</c> with a normal interval from the delta method:
    /// <c>var ≈ V_t/m_c² + m_t²·V_c/m_c⁴</c>, V the variances of the two means. Null when the control's value is 0 or
    /// either arm lacks the data for a variance.
    /// </summary>
    public static RelativeEstimate? Relative(Moments control, Moments treatment, bool isRate, double confidenceLevel) =>
        VarianceOfMean(control, isRate) is { } vc && VarianceOfMean(treatment, isRate) is { } vt
            ? Relative(control.Mean, vc, treatment.Mean, vt, confidenceLevel)
            : null;

    /// <summary>The same from each arm's value and the variance of that value; null when the control's value is 0 or a
    /// variance is not a number.</summary>
    internal static RelativeEstimate? Relative(double mc, double vc, double mt, double vt, double confidenceLevel)
    {
        if (mc == 0 || !double.IsFinite(mc) || !double.IsFinite(vc) || !double.IsFinite(vt))
            return null;
        // First-order Taylor expansion of the ratio of two independent means (Casella & Berger, Statistical Inference, §5.5.4).
        var variance = vt / (mc * mc) + mt * mt * vc / (mc * mc * mc * mc);
        var value = mt / mc - 1;
        return new(value, variance, Interval.Around(value, NormalQuantile(confidenceLevel) * Math.Sqrt(variance)));
    }

    /// <summary>
    /// The probability that the treatment is better than control under a normal approximation of the difference,
    /// <c>Φ(±difference / √variance)</c>, counting a decrease as better when <paramref name="lowerIsBetter"/>.
    /// Null when the variance is 0.
    /// </summary>
    public static double? ChanceToBeatControl(double difference, double variance, bool lowerIsBetter) =>
        variance > 0 ? Normal.CDF(0, 1, (lowerIsBetter ? -difference : difference) / Math.Sqrt(variance)) : null;

    /// <summary>
    /// The chance that <paramref name="treatment"/>'s rate beats <paramref name="control"/>'s: where the normal
    /// approximation fails (<see cref="NeedsExactFigures"/>) the Beta posterior's (<see cref="PosteriorChanceToBeatControl"/>), else the normal
    /// approximation's on <paramref name="variance"/> (<see cref="ChanceToBeatControl"/>).
    /// </summary>
    public static double? ProportionChanceToBeatControl(Moments control, Moments treatment, double variance) =>
        NeedsExactFigures(control, treatment)
            ? PosteriorChanceToBeatControl(control, treatment)
            : ChanceToBeatControl(treatment.Mean - control.Mean, variance, lowerIsBetter: false);

    /// <summary>
    /// <c>P(p_T &gt; p_C)</c> with each rate's posterior under a uniform prior, Beta(1 + converted, 1 + not converted),
    /// exactly, by the closed form for integer parameters (Cook 2005, "Exact calculation of beta inequalities"):
    /// <c>Σ_{i=0}^{a_T−1} B(a_C + i, b_C + b_T) / ((b_T + i)·B(1 + i, b_T)·B(a_C, b_C))</c>. It sums a_T terms, so when the
    /// control has fewer units not converted than the treatment has converted it takes the same sum over the rates of not
    /// converting, P(q_C &gt; q_T) with q = 1 − p ~ Beta(1 + not converted, 1 + converted): at most 51 terms below 50 units,
    /// and one when every unit of both arms converted, at any size.
    /// Unlike Φ(d/√V) it is not 0 or 1 when an arm converted none or all of a handful of units (3/3 against 0/2: 34/35).
    /// </summary>
    internal static double PosteriorChanceToBeatControl(Moments control, Moments treatment)
    {
        double xc = Math.Round(control.Sum), xt = Math.Round(treatment.Sum);
        if (control.Count - xc < xt)
            return PosteriorChanceToBeatControl(Moments.OfRate((long)(treatment.Count - xt), treatment.Count),
                Moments.OfRate((long)(control.Count - xc), control.Count));
        double ac = 1 + xc, bc = 1 + control.Count - xc, at = 1 + xt, bt = 1 + treatment.Count - xt;
        // Each term in logs from the one before, as differences of ln B of billions would lose the digits of their ratios
        // (such an ln B is about 10¹⁰, its last digit about 10⁻⁶): term₀ = B(a_C, b_C + b_T)/B(a_C, b_C) = Π_{k<a_C} (b_C + k)/(b_C + b_T + k),
        // equally Π_{k<b_T} (b_C + k)/(a_C + b_C + k), the shorter product taken, and
        // term_{i+1}/term_i = (a_C + i)(b_T + i)/((a_C + b_C + b_T + i)(1 + i)).
        var first = 0.0;
        if (ac <= bt)
            for (var k = 0; k < ac; k++)
                first += Math.Log((bc + k) / (bc + bt + k));
        else
            for (var k = 0; k < bt; k++)
                first += Math.Log((bc + k) / (ac + bc + k));
        // Summed as exp(most) · Σ exp(term − most), the largest term so far factored out as the sum goes.
        double term = first, most = first, sum = 1;
        for (var i = 1; i < at; i++)
        {
            term += Math.Log((ac + i - 1) * (bt + i - 1) / ((ac + bc + bt + i - 1) * i));
            if (term > most)
                (sum, most) = (sum * Math.Exp(most - term) + 1, term);
            else
                sum += Math.Exp(term - most);
        }
        return Math.Clamp(Math.Exp(most) * sum, 0, 1);
    }

    /// <summary>
    /// Holm's step-down adjustment (Holm 1979): the i-th smallest of m p-values becomes
    /// <c>max over j ≤ i of min(1, (m − j + 1)·p₍ⱼ₎)</c>. Every entry is a hypothesis of the family, so m is the list's
    /// length: a null (a test that cannot be computed yet) stays null but counts in m, as a p of 1 would. A family that
    /// shrank while a hypothesis has no data would loosen the others' adjustment, and grow back when it has.
    /// </summary>
    public static IReadOnlyList<double?> HolmAdjust(IReadOnlyList<double?> pValues)
    {
        ArgumentNullException.ThrowIfNull(pValues);
        var m = pValues.Count;
        // The non-null p-values and their indices, sorted by p-value; the nulls, as 1s, would sort after them and change
        // nothing before. Ties may come in either order: the running maximum gives tied p-values the same adjusted value.
        // Arrays rather than LINQ: this runs twice per metric per analysis.
        var sorted = new double[m];
        var order = new int[m];
        var tested = 0;
        for (var i = 0; i < m; i++)
        {
            if (pValues[i] is { } p)
            {
                sorted[tested] = p;
                order[tested++] = i;
            }
        }
        Array.Sort(sorted, order, 0, tested);

        var adjusted = new double?[m];
        var running = 0.0;
        for (var rank = 0; rank < tested; rank++)
        {
            running = Math.Max(running, Math.Min(1, (m - rank) * sorted[rank]));
            adjusted[order[rank]] = running;
        }
        return adjusted;
    }

    /// <summary>The p-value below which exposures are taken to mismatch their weights.</summary>
    public const double SampleRatioMismatchThreshold = 0.001;

    /// <summary>
    /// Pearson's chi-square goodness of fit of <paramref name="exposures"/> against the shares of <paramref name="weights"/>,
    /// with k − 1 degrees of freedom (k the variants with a positive weight): a fixed-horizon p-value, valid for one look
    /// only. Null without exposures; exposures on a variant of weight 0 give 0.
    /// </summary>
    public static double? SampleRatioChiSquare(IReadOnlyList<long> exposures, IReadOnlyList<decimal> weights)
    {
        if (SampleRatioShares(exposures, weights) is not { } shares)
            return null;
        if (shares.Length == 0)
            return 0;
        double total = exposures.Sum(), chiSquare = 0;
        for (var i = 0; i < shares.Length; i++)
        {
            var expected = total * shares[i];
            if (expected > 0)
                chiSquare += (exposures[i] - expected) * (exposures[i] - expected) / expected;
        }
        // P(χ²_{k−1} ≥ x) = Q((k−1)/2, x/2), the regularized upper incomplete gamma function.
        return SpecialFunctions.GammaUpperRegularized((shares.Count(share => share > 0) - 1) / 2.0, chiSquare / 2);
    }

    /// <summary>
    /// The weights' shares for a sample ratio test of <paramref name="exposures"/>: null when there is nothing to test (no
    /// exposures, fewer than two variants with a positive weight); empty when a variant of weight 0 has exposures, which
    /// no allocation by those weights produces.
    /// </summary>
    internal static double[]? SampleRatioShares(IReadOnlyList<long> exposures, IReadOnlyList<decimal> weights)
    {
        ArgumentNullException.ThrowIfNull(exposures);
        ArgumentNullException.ThrowIfNull(weights);
        if (exposures.Count != weights.Count)
            throw new ArgumentException("one weight per variant is required.", nameof(weights));
        var totalWeight = (double)weights.Sum();
        if (exposures.Sum() == 0 || totalWeight <= 0)
            return null;
        var shares = weights.Select(w => (double)w / totalWeight).ToArray();
        if (shares.Where((share, i) => share <= 0 && exposures[i] > 0).Any())
            return [];
        return shares.Count(share => share > 0) < 2 ? null : shares;
    }

    /// <summary>
    /// The variance of one value: <c>p(1 − p)</c> for a rate, the sample variance for a mean; null without the data for
    /// it (no value, or fewer than two for a mean).
    /// </summary>
    internal static double? VarianceOfValue(Moments moments, bool isRate) =>
        isRate
            ? moments.Count > 0 ? moments.Mean * (1 - moments.Mean) : null
            : moments.Count > 1 ? moments.SampleVariance : null;

    /// <summary>The variance of one arm's mean: <see cref="VarianceOfValue"/> / n.</summary>
    internal static double? VarianceOfMean(Moments moments, bool isRate) => VarianceOfValue(moments, isRate) / moments.Count;

    /// <summary><c>z</c> with <c>P(|Z| ≤ z) = confidenceLevel</c>.</summary>
    internal static double NormalQuantile(double confidenceLevel) => Normal.InvCDF(0, 1, 1 - (1 - confidenceLevel) / 2);
}
