using PromptVault.Core.Analysis;
using PromptVault.Core.Metrics;
using static PromptVault.Core.Tests.Analysis.AnalysisData;

namespace PromptVault.Core.Tests.Analysis;

// Reference values are worked by hand in the comments (Φ and t quantiles from tables, carried to more digits with
// SciPy 1.10: scipy.stats.norm, scipy.stats.t, scipy.stats.ttest_ind_from_stats, scipy.stats.chisquare) or come from
// the published example named on the test. Asserted to 5 significant digits unless said otherwise.
public sealed class StatisticsTests
{
    // 200/2000 = 10% against 250/2000 = 12.5%.
    private static readonly Moments RateControl = Moments.OfRate(200, 2000);
    private static readonly Moments RateTreatment = Moments.OfRate(250, 2000);

    [Fact]
    public void ProportionZTest_HandWorkedExample_PooledPValueAndWaldInterval()
    {
        // difference = 0.125 − 0.100 = 0.025
        // pooled p̂ = 450/4000 = 0.1125; SE₀ = √(0.1125 · 0.8875 · (1/2000 + 1/2000)) = √9.984375e-5 = 0.0099921844
        // z = 0.025 / 0.0099921844 = 2.5019554; p = 2(1 − Φ(2.5019554)) = 0.012350948
        // unpooled V = 0.1·0.9/2000 + 0.125·0.875/2000 = 4.5e-5 + 5.46875e-5 = 9.96875e-5, √V = 0.0099843627
        // 95% CI = 0.025 ± 1.9599640 · 0.0099843627 = [0.0054310086, 0.044568991]
        var test = Statistics.ProportionZTest(RateControl, RateTreatment, 0.95);

        Assert.NotNull(test);
        Close(0.025, test.Difference);
        Close(9.96875e-5, test.Variance);
        Close(0.012350948, test.PValue);
        Close(0.0054310086, test.Ci.Low);
        Close(0.044568991, test.Ci.High);
    }

    [Fact]
    public void ProportionZTest_PublishedWorkedSolution_MatchesZ()
    {
        // A published worked solution (homeworksource.com, "Find the test statistic z…"): 140/200 against 255/340,
        // pooled p̂ = 395/540 = 0.7314815, SE₀ = 0.03949401, z = −1.266015 (sample 1 − sample 2), one-sided p = 0.1030278.
        // Here treatment − control, so z = +1.266015 and the two-sided p = 2 · 0.1030278 = 0.2060556
        // (SciPy: 2·norm.sf(1.266014826) = 0.20550777; the worked solution rounds z first, so compare to 3 digits).
        var test = Statistics.ProportionZTest(Moments.OfRate(140, 200), Moments.OfRate(255, 340), 0.95);

        Assert.NotNull(test);
        Close(0.20550777, test.PValue);
        Close(0.2060556, test.PValue, digits: 3);
    }

    /// <summary>
    /// Below 50 units an arm the p-value is Fisher's exact test's. References: the two-sided sum over hypergeometric
    /// tables no more likely than the one seen, in exact rational arithmetic (Python's math.comb and fractions.Fraction,
    /// p = Σ C(n₂,x)·C(n₁,k−x)/C(n₁+n₂,k) over x with P(x) ≤ P(seen)). By hand, 3 of 3 against 0 of 2: the 3 conversions
    /// fall 0, 1 or 2 in the second arm with chances C(3,3)/C(5,3) = 1/10, C(2,1)C(3,2)/10 = 6/10 and C(3,1)/10 = 3/10, so
    /// p = 1/10; the z-test said 0.025.
    /// </summary>
    [Theory]
    [InlineData(3, 3, 0, 2, 0.1)]
    [InlineData(2, 10, 7, 10, 0.06977851869492736)]
    [InlineData(1, 12, 6, 15, 0.09137866963953921)]
    [InlineData(5, 40, 15, 45, 0.03898089296667268)]
    public void ProportionZTest_FewerThan50UnitsAnArm_PValueIsFishersExact(int controlConverted, int controlUnits, int treatmentConverted,
        int treatmentUnits, double expected)
    {
        var test = Statistics.ProportionZTest(Moments.OfRate(controlConverted, controlUnits), Moments.OfRate(treatmentConverted, treatmentUnits), 0.95);

        Assert.NotNull(test);
        Close(expected, test.PValue, digits: 9);
    }

    /// <summary>
    /// One arm under 50 units and the other beyond int's 2^31 (3 billion units; in the last case with 2.4 billion
    /// conversions): Fisher's test threw there (MathNet's hypergeometric counts in int), so the results answered a fault.
    /// References in exact rationals over the small arm's count (tests/testdata/small_sample_reference.py, its last block).
    /// </summary>
    [Theory]
    [InlineData(3, 10, 5, 3_000_000_000, 1.493333306826667e-24)]
    [InlineData(7, 20, 1_500_000_000, 3_000_000_000, 0.2631759627536774)]
    [InlineData(2_400_000_000, 3_000_000_000, 9, 12, 0.7165321581569098)]
    public void ProportionZTest_OneArmBeyondIntsUnits_PValueIsFishersExact(long controlConverted, long controlUnits, long treatmentConverted,
        long treatmentUnits, double expected)
    {
        var control = Moments.OfRate(controlConverted, controlUnits);
        var treatment = Moments.OfRate(treatmentConverted, treatmentUnits);

        var test = Statistics.ProportionZTest(control, treatment, 0.95);

        Assert.NotNull(test);
        Close(expected, test.PValue, digits: 9);
        Assert.InRange(Statistics.ProportionChanceToBeatControl(control, treatment, test.Variance)!.Value, 0, 1);
    }

    /// <summary>
    /// Below 50 units an arm the interval is Newcombe's hybrid score interval (Newcombe 1998, Statistics in Medicine
    /// 17:873–890, method 10). References computed by its closed formula in plain Python (no SciPy here), from Wilson's
    /// intervals with z = statistics.NormalDist().inv_cdf(0.975):
    ///   wilson(x, n): c = (x + z²/2)/(n + z²), h = z·√(x(n − x)/n + z²/4)/(n + z²), (c − h, c + h)
    ///   newcombe: d − √((p₁ − l₁)² + (u₂ − p₂)²), d + √((u₁ − p₁)² + (p₂ − l₂)²), arm 1 the treatment
    /// (tests/testdata/small_sample_reference.py). To 4 decimals these are
    /// what Newcombe's Table II gives for method 10, as we recall it (the paper was not at hand to check), for its examples 56/70 − 48/80 (0.0524, 0.3339), 9/10 − 3/10 (0.1705, 0.8090),
    /// 5/56 − 0/29 (−0.0381, 0.1926), 0/10 − 0/20 (−0.1611, 0.2775) and 10/10 − 0/20 (0.6791, 1.0000). 3/3 against 0/2
    /// had a Wald interval of 0 width at +100 points.
    /// </summary>
    [Theory]
    [InlineData(48, 80, 56, 70, 0.0524314724023649, 0.3338726540369059)]
    [InlineData(3, 10, 9, 10, 0.17052272393450302, 0.809017973535488)]
    [InlineData(2, 7, 6, 7, 0.058227927482312425, 0.8062496375242277)]
    [InlineData(0, 29, 5, 56, -0.03813714790353685, 0.19256001385511157)]
    [InlineData(0, 20, 0, 10, -0.16112515805281932, 0.27753279986288915)]
    [InlineData(0, 20, 10, 10, 0.6790860371419147, 1.0)]
    [InlineData(0, 2, 3, 3, 0.13527884156571734, 1.0)]
    [InlineData(0, 1, 1, 1, -0.12210872068194178, 1.0)]
    public void NewcombeInterval_PaperExamplesAndEdges_MatchTheClosedFormula(int controlConverted, int controlUnits, int treatmentConverted,
        int treatmentUnits, double low, double high)
    {
        var ci = Statistics.NewcombeInterval(Moments.OfRate(controlConverted, controlUnits), Moments.OfRate(treatmentConverted, treatmentUnits), 0.95);

        Assert.Equal(low, ci.Low, 1e-12);
        Assert.Equal(high, ci.High, 1e-12);
    }

    /// <summary>
    /// The z-test's interval is Newcombe's while either arm has fewer than 50 units (3/3 against 0/2: 0.1353 to 1, above),
    /// Wald's from 50 on (56/70 against 48/80: 0.2 ± 1.959964·√(0.8·0.2/70 + 0.6·0.4/80) = 0.0579 to 0.3421 in Python).
    /// </summary>
    [Fact]
    public void ProportionZTest_IntervalIsNewcombesBelow50UnitsAnArm_WaldsFrom50()
    {
        var small = Statistics.ProportionZTest(Moments.OfRate(0, 2), Moments.OfRate(3, 3), 0.95)!.Ci;
        var large = Statistics.ProportionZTest(Moments.OfRate(48, 80), Moments.OfRate(56, 70), 0.95)!.Ci;

        Assert.Equal(0.13527884156571734, small.Low, 1e-12);
        Assert.Equal(1.0, small.High, 1e-12);
        Assert.Equal(0.05750489914903717, large.Low, 1e-9);
        Assert.Equal(0.342495100850963, large.High, 1e-9);
    }

    /// <summary>
    /// The small-sample interval covers the true difference near 95% of the time, computed exactly (every outcome of both
    /// arms, weighted by its binomial probability, so nothing random). Newcombe's lowest coverage over these cases is 93.0%
    /// (5 units, 10% against 90%); Wald's (the interval before) falls to 85.3% (5 units, 10% against 50%) and is below 92% in
    /// 13 of the 36 (the same enumeration in tests/testdata/small_sample_reference.py).
    /// </summary>
    [Theory]
    [InlineData(5)]
    [InlineData(10)]
    [InlineData(20)]
    [InlineData(40)]
    public void ProportionZTest_FewUnitsAnArm_IntervalCoversTheTrueDifferenceNearNominally(int units)
    {
        double[] rates = [0.1, 0.5, 0.9];
        foreach (var controlRate in rates)
            foreach (var treatmentRate in rates)
            {
                var covered = 0.0;
                for (var c = 0; c <= units; c++)
                    for (var t = 0; t <= units; t++)
                    {
                        var ci = Statistics.ProportionZTest(Moments.OfRate(c, units), Moments.OfRate(t, units), 0.95)!.Ci;
                        if (ci.Low - 1e-12 <= treatmentRate - controlRate && treatmentRate - controlRate <= ci.High + 1e-12)
                            covered += MathNet.Numerics.Distributions.Binomial.PMF(controlRate, units, c)
                                       * MathNet.Numerics.Distributions.Binomial.PMF(treatmentRate, units, t);
                    }
                Assert.True(covered >= 0.92, $"{units} units, {controlRate} against {treatmentRate}: coverage {covered:F4}");
            }
    }

    /// <summary>
    /// An A/A comparison of two arms of a few units each rejects at 5% no more often than 5%: the chance is summed exactly
    /// over every outcome (binomial probabilities of each arm's count). The z-test's normal approximation rejected 6.05% of
    /// the time at 5 units an arm and a rate of 50%, 5.33% at 20 units and 30%, 5.19% at 30 units and 50% (the same enumeration
    /// in Python).
    /// </summary>
    [Theory]
    [InlineData(5, 0.5)]
    [InlineData(20, 0.3)]
    [InlineData(30, 0.5)]
    public void ProportionZTest_AATinySamples_RejectsAtMostAlpha(int units, double rate)
    {
        var rejected = 0.0;
        for (var a = 0; a <= units; a++)
            for (var b = 0; b <= units; b++)
                if (Statistics.ProportionZTest(Moments.OfRate(a, units), Moments.OfRate(b, units), 0.95)?.PValue < 0.05)
                    rejected += MathNet.Numerics.Distributions.Binomial.PMF(rate, units, a) * MathNet.Numerics.Distributions.Binomial.PMF(rate, units, b);

        Assert.InRange(rejected, 0, 0.05);
    }

    [Fact]
    public void ProportionZTest_EmptyArm_IsNull_AndNoVariation_HasFishersPOfOne()
    {
        Assert.Null(Statistics.ProportionZTest(default, RateTreatment, 0.95));

        var flat = Statistics.ProportionZTest(Moments.OfRate(0, 500), Moments.OfRate(0, 800), 0.95);

        Assert.NotNull(flat);
        Assert.Equal(0, flat.Difference);
        Assert.Equal(0, flat.Variance);
        Assert.Equal(1, flat.PValue); // the z-test's pooled standard error is 0; Fisher's test has one possible table
    }

    [Fact]
    public void WelchTTest_NistHandbookAutoExample_MatchesPublishedStatistic()
    {
        // NIST/SEMATECH e-Handbook of Statistical Methods §1.3.5.3 (two-sample t-test, AUTO83B.DAT):
        // US cars n₁ = 249, mean 20.14458, s 6.41470; Japanese cars n₂ = 79, mean 30.48101, s 6.10771.
        // Unequal variances: |T| = 12.94627, ν = 136.8750. Here treatment (Japan) − control (US) = +10.33643.
        // V = 6.41470²/249 + 6.10771²/79 = 0.16525442 + 0.47220294 = 0.63745736; SE = 0.79840927.
        // t₀.₉₇₅,₁₃₆.₈₇₅ = 1.9774473 (SciPy) → CI = 10.33643 ± 1.578814 = [8.7576162, 11.915244]; p = 1.5709046e-25 (SciPy).
        var control = Summary(249, 20.14458, 6.41470);
        var treatment = Summary(79, 30.48101, 6.10771);

        var test = Statistics.WelchTTest(control, treatment, 0.95);

        Assert.NotNull(test);
        Close(10.33643, test.Difference);
        Close(12.94627, test.Difference / Math.Sqrt(test.Variance));
        Close(1.9774473, (test.Ci.High - test.Difference) / Math.Sqrt(test.Variance));
        Close(8.7576162, test.Ci.Low);
        Close(11.915244, test.Ci.High);
        Close(1.5709046e-25, test.PValue, digits: 4);
    }

    [Fact]
    public void WelchTTest_SmallSamples_MatchesWelchSatterthwaite()
    {
        // The data of the TI-83 Plus guidebook's 2-SampTTest example (Pooled: No).
        // x̄₁ = 15.933333, s₁² = 44.908148; x̄₂ = 9.4998333, s₂² = 3.8027314; n = 6 each.
        // V = 44.908148/6 + 3.8027314/6 = 7.4846914 + 0.6337886 = 8.1184800, SE = 2.8492946
        // t = (9.4998333 − 15.933333) / 2.8492946 = −2.2579272
        // ν = V² / ((7.4846914² + 0.6337886²)/5) = 65.909718 / 11.284347 = 5.8407513
        // p = 2·T_ν(−2.2579272) = 0.065927353; t₀.₉₇₅,ν = 2.4631752 → CI = −6.4335 ± 7.0183 = [−13.451812, 0.58481178]
        var control = Values(12.207, 16.869, 25.05, 22.429, 8.456, 10.589);
        var treatment = Values(11.074, 9.686, 12.064, 9.351, 8.182, 6.642);

        var test = Statistics.WelchTTest(control, treatment, 0.95);

        Assert.NotNull(test);
        Close(-2.2579272, test.Difference / Math.Sqrt(test.Variance));
        Close(0.065927353, test.PValue);
        Close(-13.451812, test.Ci.Low);
        Close(0.58481178, test.Ci.High);
    }

    [Fact]
    public void WelchTTest_FewerThanTwoValues_IsNull_AndNoVarianceWithin_RestsOnThePooledVariance()
    {
        Assert.Null(Statistics.WelchTTest(Values(1), Values(1, 2, 3), 0.95));

        // 5, 5, 5 against 7, 7: no Welch t; pooled, s² = 4.8/4 = 1.2 and V = 1.2·(1/3 + 1/2) = 1, so z = 2:
        // p = 2Φ(−2) = 0.045500264 and the interval 2 ± 1.959964 (normal).
        var flat = Statistics.WelchTTest(Values(5, 5, 5), Values(7, 7), 0.95);

        Assert.NotNull(flat);
        Assert.Equal(2, flat.Difference);
        Close(0.045500264, flat.PValue);
        Close(0.040036015, flat.Ci.Low);
        Close(3.9599640, flat.Ci.High);

        var identical = Statistics.WelchTTest(Values(5, 5, 5), Values(5, 5), 0.95);
        Assert.NotNull(identical);
        Assert.Null(identical.PValue);
        Assert.Equal(new Interval(0, 0), identical.Ci);
    }

    [Theory]
    // (control conversions, units, treatment conversions, units, b) and the variance at the rates that maximise the
    // binomial likelihood under p_T = b·p_C, found by golden-section search rather than the quadratic's root
    // (tests/testdata/experiment_intervals_reference.py: fm_variance).
    [InlineData(50, 60, 1, 60, 0.9, 0.0074116967)]
    [InlineData(1000, 10_000, 980, 10_000, 0.9, 1.6057191e-5)]
    [InlineData(30, 200, 12, 150, 0.8, 0.00099366537)]
    public void RestrictedVariance_IsFarringtonManningsAtTheRestrictedMaximumLikelihood(
        long controlConverted, long controlUnits, long treatmentConverted, long treatmentUnits, double ratio, double expected)
    {
        Close(expected, Statistics.RestrictedVariance(Moments.OfRate(controlConverted, controlUnits),
            Moments.OfRate(treatmentConverted, treatmentUnits), ratio), digits: 7);
    }

    [Fact]
    public void RestrictedVariance_NoConversions_IsZero() =>
        Assert.Equal(0, Statistics.RestrictedVariance(Moments.OfRate(0, 100), Moments.OfRate(0, 80), 0.9));

    [Fact]
    public void Relative_Rates_DeltaMethodInterval()
    {
        // r = 0.125/0.1 − 1 = 0.25
        // V_c = 0.1·0.9/2000 = 4.5e-5, V_t = 0.125·0.875/2000 = 5.46875e-5
        // var(r) ≈ V_t/m_c² + m_t²·V_c/m_c⁴ = 5.46875e-5/0.01 + 0.015625·4.5e-5/1e-4 = 0.00546875 + 0.00703125 = 0.0125
        // CI = 0.25 ± 1.9599640 · 0.11180340 = [0.030869365, 0.46913064]
        var relative = Statistics.Relative(RateControl, RateTreatment, isRate: true, 0.95);

        Assert.NotNull(relative);
        Close(0.25, relative.Value);
        Close(0.0125, relative.Variance);
        Close(0.030869365, relative.Ci.Low);
        Close(0.46913064, relative.Ci.High);
    }

    [Fact]
    public void Relative_Means_DeltaMethodInterval()
    {
        // NIST §1.3.5.3 data: r = 30.48101/20.14458 − 1 = 0.51311221
        // var(r) = 0.47220294/20.14458² + 30.48101² · 0.16525442/20.14458⁴ = 0.0011636 + 0.00093237 = 0.0020959761
        // CI = 0.51311221 ± 1.9599640 · 0.045781832 = [0.42338147, 0.60284295]
        var relative = Statistics.Relative(Summary(249, 20.14458, 6.41470), Summary(79, 30.48101, 6.10771), isRate: false, 0.95);

        Assert.NotNull(relative);
        Close(0.51311221, relative.Value);
        Close(0.0020959761, relative.Variance);
        Close(0.42338147, relative.Ci.Low);
        Close(0.60284295, relative.Ci.High);
    }

    [Fact]
    public void Relative_ControlValueZero_IsNull()
    {
        Assert.Null(Statistics.Relative(Moments.OfRate(0, 1000), Moments.OfRate(3, 1000), isRate: true, 0.95));
    }

    /// <summary>
    /// Below 50 units an arm the chance to beat control is the uniform-prior Beta posterior's P(p_T &gt; p_C). References by
    /// numeric integration in plain Python (no SciPy here), independent of the closed form used: Simpson's rule over 20,000
    /// steps of the control's Beta density times the treatment's upper tail, P(Beta(a, b) &gt; t) = P(Binomial(a + b − 1, t) ≤ a − 1)
    /// (tests/testdata/small_sample_reference.py). By hand, 1/1 against 0/1: ∫ 2x·(1 − (1 − x)²) dx = 5/6; 3/3 against 0/2 is 34/35, where
    /// Φ(d/√V) said 1 (V = 0, so the pooled variance).
    /// </summary>
    [Theory]
    [InlineData(0, 2, 3, 3, 0.971428571428572)]
    [InlineData(0, 1, 1, 1, 0.8333333333333326)]
    [InlineData(2, 10, 7, 10, 0.9850134385738155)]
    [InlineData(7, 10, 2, 10, 0.014986561426189947)]
    [InlineData(1, 12, 6, 15, 0.9623521572546955)]
    [InlineData(5, 40, 15, 45, 0.9874135217457832)]
    public void ProportionChanceToBeatControl_FewerThan50UnitsAnArm_IsTheBetaPosteriors(int controlConverted, int controlUnits,
        int treatmentConverted, int treatmentUnits, double expected)
    {
        var control = Moments.OfRate(controlConverted, controlUnits);
        var treatment = Moments.OfRate(treatmentConverted, treatmentUnits);
        var test = Statistics.ProportionZTest(control, treatment, 0.95)!;

        Close(expected, Statistics.ProportionChanceToBeatControl(control, treatment, test.Variance), digits: 9);
    }

    /// <summary>
    /// The Beta posteriors' chance at 10⁹–10¹⁰ units, where differences of ln B of billions lose about six digits. References
    /// from Cook's sum at 60 digits (Python mpmath's loggamma); each agrees to about 7 digits with the large arm's rate as
    /// a point, P(p_C &lt; p̂_T) = I_{p̂_T}(a_C, b_C) (mpmath's betainc), the limit at these sizes. 0 of 10⁹ against 0 of
    /// 2·10⁹ is by hand (10⁹ + 1)/(3·10⁹ + 2).
    /// </summary>
    [Theory]
    [InlineData(0, 1_000_000_000, 0, 2_000_000_000, 0.33333333344444444)]
    [InlineData(20, 40, 300_000_000, 1_000_000_000, 0.0035699039315841221)]
    [InlineData(1_200_000_000, 4_000_000_000, 12, 30, 0.89307441823932475)]
    [InlineData(7, 45, 970_000_000, 10_000_000_000, 0.073027288445537208)]
    [InlineData(10_000_000_000, 10_000_000_000, 10_000_000_000, 10_000_000_000, 0.5)]
    public void PosteriorChanceToBeatControl_BillionsOfUnits_KeepsItsDigits(long controlConverted, long controlUnits,
        long treatmentConverted, long treatmentUnits, double expected)
    {
        var chance = Statistics.PosteriorChanceToBeatControl(Moments.OfRate(controlConverted, controlUnits),
            Moments.OfRate(treatmentConverted, treatmentUnits));

        Close(expected, chance, digits: 12);
    }

    /// <summary>
    /// Below 50 units an arm a conversion rate's relative interval is the score interval of the ratio (Koopman 1984, on
    /// Farrington and Manning's variance). References in plain Python independent of the quadratic root the code uses: the
    /// restricted maximum likelihood rates found by golden-section search of the log-likelihood, the ends by bisection in
    /// log b (tests/testdata/small_sample_reference.py; compared to 6 digits, the search's precision). The delta method gave 2/10 against 7/10
    /// +250% ± 456.5%, below −100% (clipped there); with no conversion in the treatment (0/10 against 3/10) a point at −100%.
    /// </summary>
    [Theory]
    [InlineData(2, 10, 7, 10, 0.15074900562386917, 11.886722451572773)]
    [InlineData(1, 12, 6, 15, -0.05927372699400735, 27.706184680694783)]
    [InlineData(5, 40, 15, 45, 0.1264687003626479, 5.6199027167054485)]
    [InlineData(7, 10, 2, 10, -0.9224007499648368, -0.13100076937698446)]
    [InlineData(3, 10, 0, 10, -1.0, 0.08225976846788807)]
    [InlineData(1, 2, 0, 3, -1.0, 0.9842376224513647)]
    [InlineData(1, 1, 1, 1, -0.7934506856227623, 3.841458820694114)]
    public void RatioScoreInterval_SmallArms_MatchesAnIndependentComputation(int controlConverted, int controlUnits,
        int treatmentConverted, int treatmentUnits, double low, double high)
    {
        var ci = Statistics.RatioScoreInterval(Moments.OfRate(controlConverted, controlUnits), Moments.OfRate(treatmentConverted, treatmentUnits), 0.95);

        Assert.NotNull(ci);
        Close(low, ci.Value.Low, digits: 6);
        Close(high, ci.Value.High, digits: 6);
    }

    /// <summary>
    /// Every unit of both arms has the same outcome: the normal approximation's standard errors are 0 at any size (the
    /// z-test's p, Wald's interval and Φ(d/√V) were null), but the exact and score figures exist. References in
    /// tests/testdata/small_sample_reference.py, its last block (plain Python): Fisher's p in exact rationals, 1 (one table
    /// is possible); Newcombe's interval; the Beta posterior's chance by Simpson's rule (by hand b_C/(b_C + b_T) with no
    /// conversions, 11/32 and 1/2; 21/32 for 10/10 against 20/20; 1/2 for one unit an arm); at 100% the ratio's score interval (by hand
    /// 1/(1 + z²/n_T) − 1 to z²/n_C), none at 0% (no ratio of a control rate of 0).
    /// </summary>
    // Beyond int's units (3 billion an arm).
    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    public void FisherExactPValue_EveryUnitTheSameOutcome_IsOneAtAnyCount(double rate)
    {
        const long units = 3_000_000_000;
        var arm = new Moments(units, rate * units, 0);

        Assert.Equal(1.0, Statistics.FisherExactPValue(arm, arm));
    }

    [Theory]
    [InlineData(0, 10, 0, 20, -0.27753279986288915, 0.16112515805281932, 0.34375, double.NaN, double.NaN)]
    [InlineData(0, 5000, 0, 5000, -0.000767701945057124, 0.000767701945057124, 0.5, double.NaN, double.NaN)]
    [InlineData(10, 10, 20, 20, -0.16112515805281924, 0.27753279986288926, 0.65625, -0.1611251580528219, 0.38414588206941436)]
    [InlineData(0, 1, 0, 1, -0.7934506856227626, 0.7934506856227626, 0.5, double.NaN, double.NaN)]
    [InlineData(1, 1, 1, 1, -0.7934506856227626, 0.7934506856227626, 0.5, -0.7934506856227623, 3.841458820694114)]
    public void ProportionZTest_EveryUnitTheSameOutcome_FishersNewcombesAndThePosteriorsAtAnySize(int controlConverted, int controlUnits,
        int treatmentConverted, int treatmentUnits, double low, double high, double chance, double ratioLow, double ratioHigh)
    {
        var control = Moments.OfRate(controlConverted, controlUnits);
        var treatment = Moments.OfRate(treatmentConverted, treatmentUnits);

        var test = Statistics.ProportionZTest(control, treatment, 0.95)!;
        var ratio = Statistics.RatioScoreInterval(control, treatment, 0.95);

        Assert.Equal(0, test.Variance);
        Assert.Equal(1, test.PValue);
        Close(low, test.Ci.Low, digits: 9);
        Close(high, test.Ci.High, digits: 9);
        Close(chance, Statistics.ProportionChanceToBeatControl(control, treatment, test.Variance), digits: 9);
        if (double.IsNaN(ratioLow))
            Assert.Null(ratio);
        else
        {
            Close(ratioLow, ratio!.Value.Low, digits: 6);
            Close(ratioHigh, ratio.Value.High, digits: 6);
        }
    }

    [Fact]
    public void RatioScoreInterval_ControlWithoutConversions_IsNull() =>
        Assert.Null(Statistics.RatioScoreInterval(Moments.OfRate(0, 10), Moments.OfRate(3, 10), 0.95));

    [Fact]
    public void ProportionChanceToBeatControl_From50UnitsAnArm_IsTheNormalApproximation()
    {
        var test = Statistics.ProportionZTest(RateControl, RateTreatment, 0.95)!;

        Close(0.99385863, Statistics.ProportionChanceToBeatControl(RateControl, RateTreatment, test.Variance));
    }

    [Fact]
    public void ChanceToBeatControl_NormalApproximation_InTheGoodDirection()
    {
        // Φ(0.025 / √9.96875e-5) = Φ(2.5039152) = 0.99385863; lower is better: Φ(−2.5039152) = 0.0061413695
        Close(0.99385863, Statistics.ChanceToBeatControl(0.025, 9.96875e-5, lowerIsBetter: false));
        Close(0.0061413695, Statistics.ChanceToBeatControl(0.025, 9.96875e-5, lowerIsBetter: true));
        Assert.Null(Statistics.ChanceToBeatControl(0.025, 0, lowerIsBetter: false));
    }

    [Fact]
    public void HolmAdjust_WikipediaExample_StepDownAndMonotone()
    {
        // The four-hypothesis example of the Wikipedia article "Holm–Bonferroni method" (Holm 1979's procedure):
        // p = 0.01, 0.04, 0.03, 0.005. Sorted: 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 = 0.04 → made monotone
        // (running maximum) 0.02, 0.03, 0.06, 0.06; at α = 0.05 H1 and H4 are rejected, as in the article.
        var adjusted = Statistics.HolmAdjust([0.01, 0.04, 0.03, 0.005]);

        Assert.Equal([0.03, 0.06, 0.06, 0.02], adjusted.Select(p => Math.Round(p!.Value, 12)));
    }

    [Fact]
    public void HolmAdjust_CapsAtOne_NullsStayNull()
    {
        // m = 3: 0.5·3 = 1.5 → 1.0, then max(1.0, 0.6·2) = 1.0.
        var adjusted = Statistics.HolmAdjust([0.6, null, 0.5]);

        Assert.Equal([1.0, null, 1.0], adjusted);
    }

    /// <summary>
    /// The family is fixed by the design (docs/statistics.md, "Holm's family"): a null, a test not computable yet, counts
    /// in m as a p of 1 would. By hand, m = 4: 0.01·4 = 0.04, 0.02·3 = 0.06, 0.04·2 = 0.08 (the null, as 1, last: 1·1).
    /// Were the null dropped (m = 3) they would be 0.03, 0.04, 0.04.
    /// </summary>
    [Fact]
    public void HolmAdjust_ANull_CountsInM()
    {
        var adjusted = Statistics.HolmAdjust([0.02, null, 0.01, 0.04]);

        Assert.Equal([0.06, null, 0.04, 0.08], adjusted.Select(p => p is { } v ? Math.Round(v, 12) : (double?)null));
        Assert.Equal(Statistics.HolmAdjust([0.02, 1, 0.01, 0.04]).Select(p => Math.Round(p!.Value, 12)),
            Statistics.HolmAdjust([0.02, null, 0.01, 0.04]).Select(p => Math.Round(p ?? 1, 12)));
    }

    [Fact]
    public void SampleRatioChiSquare_TwoArms_ChiSquareByHand()
    {
        // 5100/4900 against 50/50: expected 5000 each, χ² = 100²/5000 + 100²/5000 = 4.0, df 1,
        // p = P(χ²₁ ≥ 4) = 2(1 − Φ(2)) = 0.045500264: not below 0.001.
        var pValue = Statistics.SampleRatioChiSquare([5100, 4900], [50m, 50m]);

        Close(0.045500264, pValue);
    }

    [Fact]
    public void SampleRatioChiSquare_Skewed_IsTiny()
    {
        // 5300/4700: χ² = 300²/5000 · 2 = 36, p = 2(1 − Φ(6)) = 1.9731753e-9 < 0.001.
        var pValue = Statistics.SampleRatioChiSquare([5300, 4700], [50m, 50m]);

        Close(1.9731753e-9, pValue, digits: 4);
    }

    [Fact]
    public void SampleRatioChiSquare_ThreeArms_ChiSquareWithTwoDegreesOfFreedom()
    {
        // 1000/520/480 against 50/25/25: expected 1000/500/500, χ² = 0 + 400/500 + 400/500 = 1.6;
        // with 2 degrees of freedom P(χ² ≥ x) = e^(−x/2), so p = e^(−0.8) = 0.44932896.
        var pValue = Statistics.SampleRatioChiSquare([1000, 520, 480], [50m, 25m, 25m]);

        Close(0.44932896, pValue);
    }

    [Fact]
    public void SampleRatioChiSquare_NoExposures_IsNull()
    {
        Assert.Null(Statistics.SampleRatioChiSquare([0, 0], [50m, 50m]));
        Assert.Equal(0, Statistics.SampleRatioChiSquare([10, 5, 1], [50m, 50m, 0m]));
    }
}
