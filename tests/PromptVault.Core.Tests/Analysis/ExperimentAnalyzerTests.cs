using System.Text.Json;
using PromptVault.Core.Analysis;
using PromptVault.Core.Contracts;
using PromptVault.Core.Experiments;
using PromptVault.Core.Metrics;
using static PromptVault.Core.Tests.Analysis.AnalysisData;

namespace PromptVault.Core.Tests.Analysis;

public sealed class ExperimentAnalyzerTests
{
    [Fact]
    public void Analyze_EveryVariantHasEveryMetric_TargetFirst_ByWireName()
    {
        var experiment = Experiment(MetricName.ErrorRate);

        var results = Analyze(experiment, Events(400, conversions: 40, errors: 20), Events(400, conversions: 52, errors: 12));

        Assert.All(results.Variants, v => Assert.Equal(
            ["errorRate", "conversionRate", "avgQualityScore", "avgUserFeedback", "avgLatencyMs", "avgCost"], v.Metrics.Keys));
        Assert.Equal(["control", "b"], results.Variants.Select(v => v.VariantId));
        Assert.Equal([true, false], results.Variants.Select(v => v.IsControl));
        Assert.Equal(MetricName.ErrorRate, results.TargetMetric);
    }

    [Fact]
    public void Analyze_Control_HasItsFiguresButNoComparisons()
    {
        var results = Analyze(Experiment(), Events(400, conversions: 40, errors: 20), Events(400, conversions: 52, errors: 12));

        var control = results.Variants[0].Metrics["conversionRate"];
        Assert.Equal(400, control.N);
        Assert.Equal(0.1, control.Value);
        Assert.Equal(new MetricResult(400, 0.1, null, null, null, null, null, null, null, null, null, null, null, Settled: true), control);
        var treatment = results.Variants[1].Metrics["conversionRate"];
        Assert.Equal(0.13, treatment.Value);
        Close(0.03, treatment.Difference);
        Close(0.3, treatment.RelativeDifference);
        Assert.NotNull(treatment.DifferenceCi);
        Assert.NotNull(treatment.RelativeCi);
        Assert.NotNull(treatment.SequentialPValue);
        Assert.Equal(treatment.PValue, treatment.AdjustedPValue); // one comparison: Holm changes nothing
        Close(0.03 / 0.05 - 1, results.Variants[1].Metrics["errorRate"].RelativeDifference);
    }

    [Fact]
    public void Analyze_MetricsWithoutData_AreNullNotNaN_AndSerialize()
    {
        var results = Analyze(Experiment(), Events(3, conversions: 1, errors: 0), Events(0, conversions: 0, errors: 0));

        var quality = results.Variants[1].Metrics["avgQualityScore"];
        Assert.Equal(new MetricResult(0, null, null, null, null, null, null, null, null, null, null, null,
            "no units with this metric yet in the control", Settled: false), quality);
        var json = JsonSerializer.Serialize(results, PromptVaultJson.Options);
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        Assert.Equal("exp-1", root.GetProperty("experimentId").GetString());
        Assert.Equal("conversionRate", root.GetProperty("targetMetric").GetString());
        Assert.Equal(JsonValueKind.False, root.GetProperty("srm").GetProperty("mismatch").ValueKind);
        var metrics = root.GetProperty("variants")[1].GetProperty("metrics");
        Assert.Equal("conversionRate", metrics.EnumerateObject().First().Name);
        Assert.Equal(JsonValueKind.Null, metrics.GetProperty("conversionRate").GetProperty("differenceCi").ValueKind);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("winner").ValueKind);
        Assert.True(root.GetProperty("srm").GetProperty("sequential").GetBoolean());
        Assert.Equal(0, root.GetProperty("variants")[1].GetProperty("unattributedEvents").GetInt64());
        Assert.True(metrics.GetProperty("conversionRate").TryGetProperty("sequentialCi", out _));
        Assert.False(root.TryGetProperty("state", out _));
        var read = JsonSerializer.Deserialize<ExperimentResults>(json, PromptVaultJson.Options)!;
        Assert.Equal(results.Srm, read.Srm);
        Assert.Null(read.State);
    }

    [Fact]
    public void Analyze_ThreeVariants_HolmAdjustsAcrossVariants()
    {
        // z-tests against control 1000/10000: b 1100/10000 → p = 0.021075189, c 1180/10000 → p = 4.4231782e-5 (SciPy).
        // Holm over m = 2: c (smaller) → 2 · 4.4231782e-5 = 8.8463564e-5; b → max(8.85e-5, 1 · 0.021075189) = 0.021075189.
        var results = AnalyzeTarget(Experiment(variants: 3), Moments.OfRate(1000, 10_000), Moments.OfRate(1100, 10_000), Moments.OfRate(1180, 10_000));

        var b = results.Variants[1].Metrics["conversionRate"];
        var c = results.Variants[2].Metrics["conversionRate"];
        Close(0.021075189, b.PValue);
        Close(0.021075189, b.AdjustedPValue);
        Close(4.4231782e-5, c.PValue);
        Close(8.8463564e-5, c.AdjustedPValue);
        Assert.Equal(Statistics.HolmAdjust([b.SequentialPValue, c.SequentialPValue]), [b.AdjustedSequentialPValue, c.AdjustedSequentialPValue]);
    }

    [Fact]
    public void Analyze_ControlValueZero_SequentialPValueMixesOverThePooledStandardDeviation()
    {
        // Errors 0/1000 against 30/1000, one event per unit: the arms' delta-method variances sum to
        // 29.1/999/1000 = 2.9129129e-5 (M2 = 30·970/1000 over k − 1, over k), positive, so V (both arms' units pooled,
        // 2.9564782e-5, would serve only were it 0). MDE × control value = 0, so τ = 0.10 × √(V/(1/1000 + 1/1000)) =
        // 0.012068374. θ̂ = 0.03: ln Λ = ½ ln(V/(V+τ²)) + θ̂²τ²/(2V(V+τ²)), p = 1/Λ = 6.2819406e-6
        // (tests/testdata/experiment_intervals_reference.py).
        var results = AnalyzeTarget(Experiment(MetricName.ErrorRate), Moments.OfRate(0, 1000), Moments.OfRate(30, 1000));

        var errorRate = results.Variants[1].Metrics["errorRate"];
        Close(6.2819406e-6, errorRate.SequentialPValue);
        Assert.Null(errorRate.RelativeDifference);
        Assert.Equal("the control's value is 0, so there is no relative difference", errorRate.Reason);
        Assert.Null(results.RequiredSampleSize);
        Assert.Equal("the control's value is 0, so a relative effect of it is 0", results.RequiredSampleSizeReason);
        Assert.Equal("control", results.Decision.Winner);
    }

    [Fact]
    public void Analyze_SampleRatio_SequentialFromExposuresAndWeights()
    {
        var experiment = Experiment();

        var results = ExperimentAnalyzer.Analyze(experiment, new Dictionary<string, long> { ["control"] = 5300, ["b"] = 4700 },
            new Dictionary<string, VariantUnitStats>(), previous: null);

        Assert.Equal([5300L, 4700L], results.Variants.Select(v => v.Exposures));
        Close(5.3095288e-7, results.Srm.PValue); // see SequentialTestTests
        Close(1.9731753e-9, results.Srm.ChiSquarePValue, digits: 4);
        Assert.True(results.Srm.Sequential);
        Assert.True(results.Srm.Mismatch);
        Assert.Equal(5.3095288e-7, results.State!.Values[SequentialState.SrmKey], 12);
    }

    [Fact]
    public void Analyze_SampleRatio_IsARunningMinimum()
    {
        var experiment = Experiment();
        var previous = new SequentialState(new Dictionary<string, double> { [SequentialState.SrmKey] = 0.0004 });

        var results = ExperimentAnalyzer.Analyze(experiment, new Dictionary<string, long> { ["control"] = 5100, ["b"] = 4900 },
            new Dictionary<string, VariantUnitStats>(), previous);

        Assert.Equal(0.0004, results.Srm.PValue);
        Assert.True(results.Srm.Mismatch);
    }

    [Fact]
    public void Analyze_ConversionRate_IsConvertedUnitsOverExposedUnits()
    {
        // 1,000 exposed units in each arm; 100 and 130 of them converted, however many events they sent.
        var stats = new Dictionary<string, VariantUnitStats>
        {
            ["control"] = new() { ConvertedUnits = 100, UnattributedEvents = 7 },
            ["b"] = new() { ConvertedUnits = 130 },
        };

        var results = ExperimentAnalyzer.Analyze(Experiment(), new Dictionary<string, long> { ["control"] = 1000, ["b"] = 1000 }, stats, null);

        var b = results.Variants[1].Metrics["conversionRate"];
        Assert.Equal((1000L, 0.13), (b.N, b.Value));
        Close(0.03, b.Difference);
        Assert.Equal([7L, 0L], results.Variants.Select(v => v.UnattributedEvents));
    }

    [Fact]
    public void Analyze_SequentialPValue_IsARunningMinimumAndDecidesOnIt()
    {
        var experiment = Experiment();
        var first = AnalyzeTarget(experiment, Moments.OfRate(1000, 10_000), Moments.OfRate(1300, 10_000));
        var firstP = first.Variants[1].Metrics["conversionRate"].SequentialPValue!.Value;

        // A later look whose own p-value is far larger (the lift shrank): the reported one stays at the minimum.
        var later = AnalyzeMoments(experiment, [20_000, 20_000],
            (variant, metric) => metric == MetricName.ConversionRate ? Moments.OfRate(variant == 0 ? 2000 : 2080, 20_000) : default,
            first.State);
        var alone = AnalyzeMoments(experiment, [20_000, 20_000],
            (variant, metric) => metric == MetricName.ConversionRate ? Moments.OfRate(variant == 0 ? 2000 : 2080, 20_000) : default);

        Assert.True(alone.Variants[1].Metrics["conversionRate"].SequentialPValue > 0.05);
        Assert.Equal(firstP, later.Variants[1].Metrics["conversionRate"].SequentialPValue);
        Assert.Equal(DecisionAction.Complete, later.Decision.Action);
        Assert.Equal(firstP, later.State!.Values[SequentialState.KeyOf("b", MetricName.ConversionRate)]);
    }

    [Fact]
    public void Analyze_BeforeMinimumSampleSize_LooksAreShownButNotKept()
    {
        // Forty units an arm with nearly equal latencies in each: the plug-in variance is tiny, and 40 is below the minimum.
        var experiment = Experiment(MetricName.AvgLatencyMs, minimumSampleSize: 100);
        Moments Latencies(double from) => Values([.. Enumerable.Range(0, 40).Select(i => from + i % 2)]);
        var early = AnalyzeTarget(experiment, Latencies(1000), Latencies(1100));

        Assert.True(early.Variants[1].Metrics["avgLatencyMs"].SequentialPValue < 1e-6);
        Assert.DoesNotContain(early.State!.Values.Keys, key => key.StartsWith("b:avgLatencyMs", StringComparison.Ordinal));
        Assert.Equal(DecisionAction.None, early.Decision.Action);
    }

    [Fact]
    public void Analyze_SequentialCi_IsARunningIntersection()
    {
        var experiment = Experiment();
        MetricResult Target(ExperimentResults results) => results.Variants[1].Metrics["conversionRate"];
        var first = AnalyzeTarget(experiment, Moments.OfRate(1000, 10_000), Moments.OfRate(1300, 10_000));
        Moments Later(int variant, MetricName metric) =>
            metric == MetricName.ConversionRate ? Moments.OfRate(variant == 0 ? 2000 : 2180, 20_000) : default;

        var alone = Target(AnalyzeMoments(experiment, [20_000, 20_000], Later)).SequentialCi!;
        var later = Target(AnalyzeMoments(experiment, [20_000, 20_000], Later, first.State)).SequentialCi!;

        var earlier = Target(first).SequentialCi!;
        Assert.True(earlier[0] > alone[0]); // the first look's interval has the higher low end
        Assert.Equal([Math.Max(earlier[0], alone[0]), Math.Min(earlier[1], alone[1])], later);
    }

    [Fact]
    public void Analyze_SequentialCi_ThatDoNotMeet_ShowsThisLook()
    {
        var experiment = Experiment();
        var key = SequentialState.KeyOf("b", MetricName.ConversionRate);
        var far = new SequentialState(new Dictionary<string, double> { [key + SequentialState.LowSuffix] = 0.5, [key + SequentialState.HighSuffix] = 0.6 });

        var alone = AnalyzeTarget(experiment, Moments.OfRate(1000, 10_000), Moments.OfRate(1100, 10_000));
        var withFar = AnalyzeMoments(experiment, [10_000, 10_000],
            (variant, metric) => metric == MetricName.ConversionRate ? Moments.OfRate(variant == 0 ? 1000 : 1100, 10_000) : default, far);

        Assert.Equal(alone.Variants[1].Metrics["conversionRate"].SequentialCi, withFar.Variants[1].Metrics["conversionRate"].SequentialCi);
    }

    [Fact]
    public void Analyze_SequentialCi_AfterALookThatRestartedIt_KeepsIntersectingOnceStored()
    {
        // The server stores each look's state merged with what it had (SequentialState.Merge, so racing looks lose
        // nothing). A look whose interval does not meet the stored one restarts the intersection from its own; the merge
        // kept the larger low end and the smaller high end of the two, an empty interval (low > high), and from then on
        // no look met it: every later look showed its own interval, which widened again.
        var experiment = Experiment();
        var key = SequentialState.KeyOf("b", MetricName.ConversionRate);
        var stored = new SequentialState(new Dictionary<string, double> { [key + SequentialState.LowSuffix] = 0.5, [key + SequentialState.HighSuffix] = 0.6 });
        ExperimentResults Look(int controlConverted, int variantConverted, SequentialState state) => AnalyzeMoments(experiment, [10_000, 10_000],
            (variant, metric) => metric == MetricName.ConversionRate ? Moments.OfRate(variant == 0 ? controlConverted : variantConverted, 10_000) : default, state);

        var restart = Look(1000, 1100, stored);
        stored = stored.Merge(restart.State!);
        var next = Look(1000, 1150, stored);

        var restarted = restart.Variants[1].Metrics["conversionRate"].SequentialCi!;
        var alone = AnalyzeTarget(experiment, Moments.OfRate(1000, 10_000), Moments.OfRate(1150, 10_000)).Variants[1].Metrics["conversionRate"].SequentialCi!;
        Assert.True(alone[0] < restarted[1] && restarted[1] < alone[1]); // the two looks' intervals meet, neither holds the other
        Assert.Equal([Math.Max(restarted[0], alone[0]), Math.Min(restarted[1], alone[1])], next.Variants[1].Metrics["conversionRate"].SequentialCi);
    }

    [Fact]
    public void Analyze_SequentialCi_ContainsTheDifference_AndIsWiderThanTheFixedHorizonOne()
    {
        var results = AnalyzeTarget(Experiment(), Moments.OfRate(1000, 10_000), Moments.OfRate(1100, 10_000));

        var b = results.Variants[1].Metrics["conversionRate"];
        var (low, high) = (b.SequentialCi![0], b.SequentialCi[1]);
        Assert.True(low < b.Difference && b.Difference < high);
        Assert.True(high - low > b.DifferenceCi![1] - b.DifferenceCi[0]);
        Assert.Equal(b.SequentialPValue < 0.05, low > 0);
    }

    [Fact]
    public void Analyze_ConversionNoneAgainstAll_ThePooledVarianceFindsTheWinner()
    {
        // 0% against 100% conversion over 500 units each. Each arm's variance p(1 − p)/n is 0, so the sequential test had
        // no standard error: the p-value was null and the experiment never completed. The pooled variance (the z-test's)
        // is 0.5·0.5·(2/500) = 0.001; τ = 0.10 × √(0.001/(2/500)) = 0.05 (the control's value is 0); the always-valid
        // p = 1.4684593e-155 and interval 1 ± 0.10070709, clipped to [0.89929291, 1]
        // (tests/testdata/experiment_intervals_reference.py).
        var results = AnalyzeTarget(Experiment(), Moments.OfRate(0, 500), Moments.OfRate(500, 500));

        var b = results.Variants[1].Metrics["conversionRate"];
        Close(1.4684593e-155, b.SequentialPValue);
        Close(0.89929291, b.SequentialCi![0]);
        Assert.Equal(1, b.SequentialCi[1]);
        Close(0.93802050, b.DifferenceCi![0]); // the fixed-horizon interval on the same pooled variance, 1 ± 0.0620, clipped
        Assert.Equal(1, b.DifferenceCi[1]);
        Assert.Equal(1, b.ChanceToBeatControl);
        Assert.StartsWith("no variance within the arms: every unit of each arm has the same value (the arms differ)", b.Reason, StringComparison.Ordinal);
        Assert.Equal(DecisionAction.Complete, results.Decision.Action);
        Assert.Equal("b", results.Decision.Winner);
    }

    [Fact]
    public void Analyze_LatencyConstantInEachArm_ButDifferent_ThePooledVarianceFindsTheLoser()
    {
        // 800 ms in every control unit, 900 in every variant unit, 500 each: both arms pooled have the sample variance
        // 1000·50²/999 = 2502.5025, so V = 2502.5025·(2/500) = 10.01001; τ = 0.10 × 800 = 80; the always-valid
        // p = 6.4845688e-216 and interval [88.826165, 111.17383] (tests/testdata/experiment_intervals_reference.py).
        // Lower is better, so the only variant is significantly worse and the control wins.
        var results = AnalyzeTarget(Experiment(MetricName.AvgLatencyMs),
            Values([.. Enumerable.Repeat(800.0, 500)]), Values([.. Enumerable.Repeat(900.0, 500)]));

        var b = results.Variants[1].Metrics["avgLatencyMs"];
        Close(6.4845688e-216, b.SequentialPValue);
        Close(88.826165, b.SequentialCi![0]);
        Close(111.17383, b.SequentialCi[1]);
        // Welch's t has no standard error within the arms; the fixed-horizon figures rest on the same pooled V (normal):
        // interval [93.798948, 106.20105], p = 2.9623063e-219, chance 1.4811531e-219, relative +12.5% within
        // [0.11674999, 0.13325001] (tests/testdata/experiment_intervals_reference.py).
        Close(93.798948, b.DifferenceCi![0]);
        Close(106.20105, b.DifferenceCi[1]);
        Close(2.9623063e-219, b.PValue);
        Close(1.4811531e-219, b.ChanceToBeatControl);
        Close(0.125, b.RelativeDifference);
        Close(0.11674999, b.RelativeCi![0]);
        Close(0.13325001, b.RelativeCi[1]);
        Assert.StartsWith("no variance within the arms", b.Reason, StringComparison.Ordinal);
        Assert.Equal(DecisionAction.Complete, results.Decision.Action);
        Assert.Equal("control", results.Decision.Winner);
    }

    [Fact]
    public void Analyze_FewUnitsConstantInEachArm_FixedHorizonFiguresOnThePooledVariance()
    {
        // 800 ms in 3 control units, 900 in 2 variant units: pooled, s² = 12,000/4 = 3,000 and V₀ = 3,000·(1/3 + 1/2) = 2,500, so the interval is
        // 100 ± 1.96·50 = [2.0018008, 197.99820], p = 0.045500264, chance to beat control (lower is better) 0.022750132,
        // relative +12.5% within [−0.0038411968, 0.25384120] (tests/testdata/experiment_intervals_reference.py).
        var b = AnalyzeTarget(Experiment(MetricName.AvgLatencyMs), Values(800, 800, 800), Values(900, 900)).Variants[1].Metrics["avgLatencyMs"];

        Close(2.0018008, b.DifferenceCi![0]);
        Close(197.99820, b.DifferenceCi[1]);
        Close(0.045500264, b.PValue);
        Close(0.022750132, b.ChanceToBeatControl);
        Close(-0.0038411968, b.RelativeCi![0]);
        Close(0.25384120, b.RelativeCi[1]);
    }

    [Fact]
    public void Analyze_ConversionAllAgainstNone_RelativeDifferenceOnThePooledVariance()
    {
        // 100% against 0% over 500 units each: the relative difference is −100%; with p̄(1 − p̄) = 0.25 per unit in both
        // arms its interval is [−1, −0.95617387] (clipped at −100%), the difference's [−1, −0.93802050]
        // (tests/testdata/experiment_intervals_reference.py).
        var b = AnalyzeTarget(Experiment(), Moments.OfRate(500, 500), Moments.OfRate(0, 500)).Variants[1].Metrics["conversionRate"];

        Assert.Equal(-1, b.RelativeDifference);
        Assert.Equal(-1, b.RelativeCi![0]);
        Close(-0.95617387, b.RelativeCi[1]);
        Assert.Equal(-1, b.DifferenceCi![0]);
        Close(-0.93802050, b.DifferenceCi[1]);
    }

    [Theory]
    // A variant with no conversions (60 of 100 against 0 of 100): its own variance is 0, and so was the interval's width,
    // −100% to −100%. On the pooled unit variance p̄(1 − p̄) = 0.21: −100% to −85.030528%.
    [InlineData(MetricName.ConversionRate, -0.85030528)]
    // A variant with no errors (10 of 100 units, one event each, against 0 of 100): the pooled sample variance 9.5/199
    // of one unit, −100% to −57.176382%. Both in tests/testdata/experiment_intervals_reference.py (its last block).
    [InlineData(MetricName.ErrorRate, -0.57176382)]
    public void Analyze_AVariantWithoutVarianceOfItsOwn_RelativeIntervalOnThePooledVariance_NotAPoint(MetricName metric, double high)
    {
        var control = metric == MetricName.ConversionRate ? Moments.OfRate(60, 100) : Moments.OfRate(10, 100);

        var b = AnalyzeTarget(Experiment(metric), control, Moments.OfRate(0, 100)).Variants[1].Metrics[Names.Of(metric)];

        Assert.Equal(-1, b.RelativeDifference);
        Assert.Equal(-1, b.RelativeCi![0]);
        Close(high, b.RelativeCi[1]);
    }

    [Fact]
    public void Analyze_SeveralEventsPerUnit_RestsOnTheUnitsDeltaMethodVariance()
    {
        // Control: 2 units of 3 events summing to 300 ms, 3 units of one 130 ms event; variant: 4 units of 2 events
        // summing to 180. The arms' own delta-method variances over units: V = 46.296296 (the 9 units pooled, 69.292139,
        // would serve only were it 0); τ = 0.10 × 110 = 11; p = 0.083562200, interval [−41.581170, 1.5811704]
        // (tests/testdata/experiment_intervals_reference.py).
        var control = new RatioMoments().Add(new(3, 300)).Add(new(3, 300)).Add(new(1, 130)).Add(new(1, 130)).Add(new(1, 130));
        var treatment = Enumerable.Range(0, 4).Aggregate(new RatioMoments(), (m, _) => m.Add(new(2, 180)));
        var experiment = Experiment(MetricName.AvgLatencyMs);

        var results = ExperimentAnalyzer.Analyze(experiment, new Dictionary<string, long> { ["control"] = 5, ["b"] = 4 },
            new Dictionary<string, VariantUnitStats> { ["control"] = new() { LatencyMs = control }, ["b"] = new() { LatencyMs = treatment } }, null);

        var b = results.Variants[1].Metrics["avgLatencyMs"];
        Close(0.083562200, b.SequentialPValue);
        Close(-41.581170, b.SequentialCi![0]);
        Close(1.5811704, b.SequentialCi[1]);
    }

    [Fact]
    public void Analyze_IntervalsOfARate_AreClippedToWhatTheRateCanBe()
    {
        // 1/60 against 59/60 converted: the Wald interval 0.96666667 ± 0.0458 passes 100 points, the relative one
        // 58 ± 114.7 passes −100%, and the early always-valid one (τ = 0.10 × 1/60) is [0.16197, 1.77136]. Clipped:
        // [0.92085646, 1], [−1, 172.68665] and [0.16197207, 1] (tests/testdata/experiment_intervals_reference.py).
        var b = AnalyzeTarget(Experiment(), Moments.OfRate(1, 60), Moments.OfRate(59, 60)).Variants[1].Metrics["conversionRate"];

        Close(0.92085646, b.DifferenceCi![0]);
        Assert.Equal(1, b.DifferenceCi[1]);
        Assert.Equal(-1, b.RelativeCi![0]);
        Close(172.68665, b.RelativeCi[1]);
        Close(0.16197207, b.SequentialCi![0]);
        Assert.Equal(1, b.SequentialCi[1]);
    }

    /// <summary>
    /// Below 50 units an arm a conversion rate's figures are the small-sample ones (StatisticsTests has their references):
    /// 0/2 against 3/3, Fisher's p = 0.1, Newcombe's interval 0.1353 to 1 and the Beta posterior's chance 34/35; 2/10 against
    /// 7/10, the ratio's score interval +15.07% to +1,188.7% (the delta method's, +250% ± 456.5%, was clipped at −100%).
    /// </summary>
    [Fact]
    public void Analyze_ConversionBelow50UnitsAnArm_ReportsTheSmallSampleFigures()
    {
        var tiny = AnalyzeTarget(Experiment(), Moments.OfRate(0, 2), Moments.OfRate(3, 3)).Variants[1].Metrics["conversionRate"];
        var small = AnalyzeTarget(Experiment(), Moments.OfRate(2, 10), Moments.OfRate(7, 10)).Variants[1].Metrics["conversionRate"];

        Close(0.1, tiny.PValue);
        Close(0.13527884, tiny.DifferenceCi![0]);
        Assert.Equal(1, tiny.DifferenceCi[1], 1e-12);
        Close(34.0 / 35, tiny.ChanceToBeatControl);
        Close(0.150749006, small.RelativeCi![0], digits: 6);
        Close(11.8867225, small.RelativeCi[1], digits: 6);
    }

    [Fact]
    public void Analyze_SequentialCi_ClippedAtOneEnd_IsStoredAndIntersectedLikeAnyOther()
    {
        // 25/50 against 49/50 at MDE 0.05: the always-valid interval 0.48 ± 0.56276921 is clipped to [−0.082769207, 1]
        // (tests/testdata/experiment_intervals_reference.py) and stored so; the next look intersects with the clipped ends.
        var experiment = Experiment(minimumSampleSize: 50, minimumDetectableEffect: 0.05);
        var key = SequentialState.KeyOf("b", MetricName.ConversionRate);
        var first = AnalyzeTarget(experiment, Moments.OfRate(25, 50), Moments.OfRate(49, 50));
        var stored = SequentialState.Empty.Merge(first.State!);

        var shown = first.Variants[1].Metrics["conversionRate"].SequentialCi!;
        Close(-0.082769207, shown[0]);
        Assert.Equal(1, shown[1]);
        Assert.Equal([shown[0], shown[1]], [stored.Values[key + SequentialState.LowSuffix], stored.Values[key + SequentialState.HighSuffix]]);

        ExperimentResults Look(SequentialState? state) => AnalyzeMoments(experiment, [80, 80],
            (variant, metric) => metric == MetricName.ConversionRate ? Moments.OfRate(variant == 0 ? 40 : 60, 80) : default, state);
        var alone = Look(null).Variants[1].Metrics["conversionRate"].SequentialCi!;
        var next = Look(stored);
        Assert.True(alone[0] < shown[0] && shown[0] < alone[1]); // they meet, and the stored low end is the higher
        Assert.Equal([shown[0], Math.Min(1, alone[1])], next.Variants[1].Metrics["conversionRate"].SequentialCi);
        Assert.Equal(shown[0], stored.Merge(next.State!).Values[key + SequentialState.LowSuffix]);
    }

    [Fact]
    public void Analyze_IdenticalLatencies_NullsWithAReason_NotPOneOrAHalf()
    {
        var results = AnalyzeTarget(Experiment(MetricName.AvgLatencyMs), Values(800, 800, 800, 800), Values(800, 800, 800));

        var b = results.Variants[1].Metrics["avgLatencyMs"];
        Assert.Equal(0, b.Difference);
        Assert.Null(b.PValue);
        Assert.Null(b.SequentialPValue);
        Assert.Null(b.ChanceToBeatControl);
        Assert.Null(b.DifferenceCi);
        Assert.Null(b.SequentialCi);
        Assert.StartsWith("no variance", b.Reason, StringComparison.Ordinal);
        Assert.Null(results.RequiredSampleSize);
        Assert.Equal("the control's values do not vary yet, so the variance is unknown", results.RequiredSampleSizeReason);
    }

    /// <summary>
    /// A conversion rate where every unit of both arms has the same outcome had no figures ("no variance"), though the data
    /// bound the difference: 0/5000 against 0/5000 to ±0.077 points. Now Fisher's p (1), Newcombe's interval, the Beta
    /// posterior's chance (1/2 with equal arms, 21/32 for 10/10 against 20/20) and at 100% the ratio's score interval, at
    /// any size (StatisticsTests has the references, from tests/testdata/small_sample_reference.py); still no
    /// sequential figures, and no relative difference of a control rate of 0.
    /// </summary>
    [Fact]
    public void Analyze_ConversionWithTheSameOutcomeInEveryUnit_ReportsTheExactAndScoreFigures()
    {
        var none = AnalyzeTarget(Experiment(), Moments.OfRate(0, 5000), Moments.OfRate(0, 5000)).Variants[1].Metrics["conversionRate"];
        var all = AnalyzeTarget(Experiment(), Moments.OfRate(10, 10), Moments.OfRate(20, 20)).Variants[1].Metrics["conversionRate"];

        Assert.Equal(1, none.PValue);
        Close(-0.000767701945057124, none.DifferenceCi![0], digits: 9);
        Close(0.000767701945057124, none.DifferenceCi[1], digits: 9);
        Close(0.5, none.ChanceToBeatControl, digits: 9);
        Assert.Null(none.RelativeDifference);
        Assert.Null(none.RelativeCi);
        Assert.Null(none.SequentialPValue);
        Assert.Null(none.SequentialCi);
        Assert.StartsWith("no variance: every unit of both arms has the same outcome, so the figures are Fisher's test", none.Reason,
            StringComparison.Ordinal);
        Assert.EndsWith("with the control's value 0 there is no relative difference", none.Reason, StringComparison.Ordinal);
        Assert.Equal(1, all.PValue);
        Close(-0.16112515805281924, all.DifferenceCi![0], digits: 9);
        Close(0.27753279986288926, all.DifferenceCi[1], digits: 9);
        Close(21.0 / 32, all.ChanceToBeatControl, digits: 9);
        Assert.Equal(0, all.RelativeDifference);
        Close(-0.1611251580528219, all.RelativeCi![0], digits: 6);
        Close(0.38414588206941436, all.RelativeCi[1], digits: 6);
        Assert.Null(all.SequentialPValue);
        Assert.DoesNotContain("relative", all.Reason, StringComparison.Ordinal);
    }

    /// <summary>
    /// Holm's family is the non-control variants (docs/statistics.md, "Holm's family"): a variant whose units and the
    /// control's all have the same outcome has Fisher's p = 1 and an undefined (null) sequential test; it counts in m = 2
    /// either way, so B's adjusted p-values, fixed and sequential, are twice its own.
    /// </summary>
    [Fact]
    public void Analyze_AVariantWithTheSameOutcomeAsEveryControlUnit_CountsInBothHolmFamilies()
    {
        var results = AnalyzeTarget(Experiment(variants: 3), Moments.OfRate(0, 1000), Moments.OfRate(0, 1000), Moments.OfRate(10, 1000));
        var a = results.Variants[1].Metrics["conversionRate"];
        var b = results.Variants[2].Metrics["conversionRate"];

        Assert.Equal(1, a.PValue);
        Assert.Equal(1, a.AdjustedPValue);
        Assert.Null(a.SequentialPValue);
        Assert.Null(a.AdjustedSequentialPValue);
        Assert.InRange(b.PValue!.Value, 1e-4, 0.4);
        Close(2 * b.PValue.Value, b.AdjustedPValue, digits: 12);
        Assert.InRange(b.SequentialPValue!.Value, 1e-6, 0.5);
        Close(2 * b.SequentialPValue.Value, b.AdjustedSequentialPValue, digits: 12);
    }

    /// <summary>
    /// A variant with one unit has no test of an average metric (null p), yet it is one of the m = 2 hypotheses the design
    /// named, so B's adjusted p is twice its p, as it would be were A's p 1 (it used to be B's p alone: the family shrank).
    /// </summary>
    [Fact]
    public void Analyze_AVariantWithoutATestOfAnAverage_CountsInTheHolmFamily()
    {
        var results = AnalyzeTarget(Experiment(MetricName.AvgQualityScore, variants: 3),
            new Moments(1000, 3000, 1000), new Moments(1, 3, 0), new Moments(1000, 3150, 1000));
        var a = results.Variants[1].Metrics["avgQualityScore"];
        var b = results.Variants[2].Metrics["avgQualityScore"];

        Assert.Null(a.PValue);
        Assert.Null(a.AdjustedPValue);
        Assert.InRange(b.PValue!.Value, 1e-6, 0.4);
        Close(2 * b.PValue.Value, b.AdjustedPValue, digits: 12);
        Assert.Null(a.SequentialPValue);
        Assert.InRange(b.SequentialPValue!.Value, 1e-6, 0.5);
        Close(2 * b.SequentialPValue.Value, b.AdjustedSequentialPValue, digits: 12);
    }

    /// <summary>
    /// An A/A experiment in which no unit converts (or every unit does), looked at as it grows to 10,000 units with a
    /// conversion guardrail: the fixed-horizon figures exist, but the sequential test has no variance to rest on, so
    /// nothing is significant, nothing breached, and the experiment stays running.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Analyze_AAWithTheSameOutcomeInEveryUnit_NeverDecides(bool everyUnitConverts)
    {
        var experiment = Experiment(minimumSampleSize: 100, guardrails: [new Guardrail(MetricName.ConversionRate, 0.1)]);
        SequentialState? state = null;
        foreach (var units in new[] { 100, 1000, 5000 })
        {
            var rate = Moments.OfRate(everyUnitConverts ? units : 0, units);
            var results = AnalyzeMoments(experiment, [units, units], (_, metric) => metric == MetricName.ConversionRate ? rate : default, state);
            state = (state ?? SequentialState.Empty).Merge(results.State!);

            var b = results.Variants[1].Metrics["conversionRate"];
            Assert.True(b.Settled);
            Assert.Equal(1, b.PValue);
            Close(0.5, b.ChanceToBeatControl, digits: 9); // at 100% summed over the units not converted: one term
            Assert.Null(b.SequentialPValue);
            Assert.Null(b.AdjustedSequentialPValue);
            Assert.Null(results.Winner);
            Assert.False(Assert.Single(results.Guardrails).Breached);
            Assert.Equal(DecisionAction.None, results.Decision.Action);
        }
    }

    [Fact]
    public void Analyze_LowerIsBetterRateWithMdeOfOneOrMore_RequiredSampleSizeIsNullWithAReason()
    {
        var results = AnalyzeTarget(Experiment(MetricName.ErrorRate, minimumDetectableEffect: 1.0),
            Moments.OfRate(100, 1000), Moments.OfRate(90, 1000));

        Assert.Null(results.RequiredSampleSize);
        Assert.Null(results.RemainingSampleSize);
        Assert.Equal("a decrease of 100% would take errorRate to 0 or below", results.RequiredSampleSizeReason);
    }

    [Fact]
    public void Analyze_RequiredSampleSizeBeyondReach_IsNullWithAReason()
    {
        // One conversion in a billion: a 0.1% lift of it needs about 10¹⁶ units per variant.
        var results = AnalyzeTarget(Experiment(minimumDetectableEffect: 0.001),
            Moments.OfRate(1, 1_000_000_000), Moments.OfRate(1, 1_000_000_000));

        Assert.Null(results.RequiredSampleSize);
        Assert.StartsWith("beyond reach", results.RequiredSampleSizeReason, StringComparison.Ordinal);
    }

    /// <summary>A completed or cancelled experiment reported units "still needed", as if it could still collect them.</summary>
    [Theory]
    [InlineData(ExperimentStatus.Completed)]
    [InlineData(ExperimentStatus.Cancelled)]
    public void Analyze_FinishedExperiment_KeepsTheRequiredSampleSize_AndHasNoneRemaining(ExperimentStatus status)
    {
        var results = AnalyzeTarget(Experiment(minimumDetectableEffect: 0.20, status: status), Moments.OfRate(500, 5000), Moments.OfRate(400, 4000));

        Assert.Equal(7438, results.RequiredSampleSize);
        Assert.Null(results.RemainingSampleSize);
    }

    [Fact]
    public void Analyze_RequiredSampleSize_FromTheControlsRate()
    {
        // Control at 10% and MDE 0.20: 7438 per arm (see SequentialTestTests); remaining = (7438 − 5000) + (7438 − 4000).
        var results = AnalyzeTarget(Experiment(minimumDetectableEffect: 0.20), Moments.OfRate(500, 5000), Moments.OfRate(400, 4000));

        Assert.Equal(7438, results.RequiredSampleSize);
        Assert.Null(results.RequiredSampleSizeReason);
        Assert.Equal(2438 + 3438, results.RemainingSampleSize);
    }

    [Fact]
    public void Analyze_RequiredSampleSize_AtLeastTheMinimum_AndNullWithoutBaseline()
    {
        var withMinimum = AnalyzeTarget(Experiment(minimumDetectableEffect: 0.20, minimumSampleSize: 20_000),
            Moments.OfRate(500, 5000), Moments.OfRate(400, 4000));
        var withoutData = AnalyzeTarget(Experiment(), default, default);

        Assert.Equal(20_000, withMinimum.RequiredSampleSize);
        Assert.Null(withoutData.RequiredSampleSize);
        Assert.Null(withoutData.RemainingSampleSize);
    }

    /// <summary>The decision's reason reads as the server writes it whatever the current culture (de-DE's decimal comma here).</summary>
    [Fact]
    public void Decision_Reason_FormatsThePValueInvariantly_UnderADecimalCommaCulture()
    {
        var before = System.Globalization.CultureInfo.CurrentCulture;
        var decimalComma = (System.Globalization.CultureInfo)System.Globalization.CultureInfo.InvariantCulture.Clone();
        decimalComma.NumberFormat.NumberDecimalSeparator = ",";
        System.Globalization.CultureInfo.CurrentCulture = decimalComma;
        ExperimentResults results;
        try
        {
            results = AnalyzeTarget(Experiment(), Moments.OfRate(1000, 10_000), Moments.OfRate(1300, 10_000));
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentCulture = before;
        }

        var p = results.Variants[1].Metrics["conversionRate"].AdjustedSequentialPValue;
        Assert.Contains($"(always-valid {ResultsText.PIs(p)}, Holm-adjusted)", results.Decision.Reason);
    }

    /// <summary>
    /// The reason's p-value reads as the results cards show it (<see cref="ResultsText.P"/>): "p &lt; 0.0001", where it read
    /// "p = 8.06E-05" beside a card's "&lt;0.0001".
    /// </summary>
    [Fact]
    public void Decision_Reason_TinyPValue_ReadsAsTheCardsShowIt()
    {
        var results = AnalyzeTarget(Experiment(), Moments.OfRate(1000, 10_000), Moments.OfRate(2000, 10_000));

        Assert.True(results.Variants[1].Metrics["conversionRate"].AdjustedSequentialPValue < 0.0001);
        Assert.Contains("(always-valid p < 0.0001, Holm-adjusted)", results.Decision.Reason);
    }

    [Fact]
    public void Decision_SignificantlyBetterAfterMinimum_Completes()
    {
        var results = AnalyzeTarget(Experiment(), Moments.OfRate(1000, 10_000), Moments.OfRate(1300, 10_000));

        Assert.True(results.Variants[1].Metrics["conversionRate"].AdjustedSequentialPValue < 0.05);
        Assert.Equal(DecisionAction.Complete, results.Decision.Action);
        Assert.Equal("b", results.Decision.Winner);
        Assert.Equal("b", results.Winner);
        Assert.Contains("'Variant B' beats control on conversionRate", results.Decision.Reason);
    }

    [Fact]
    public void Decision_BelowMinimumSampleSize_WaitsWhateverTheEvidence()
    {
        var results = AnalyzeTarget(Experiment(minimumSampleSize: 20_000), Moments.OfRate(1000, 10_000), Moments.OfRate(1300, 10_000));

        Assert.Equal(new ExperimentDecision(DecisionAction.None, null, null), results.Decision);
        Assert.Null(results.Winner);
    }

    [Fact]
    public void Decision_NotSignificant_Waits()
    {
        var results = AnalyzeTarget(Experiment(), Moments.OfRate(1000, 10_000), Moments.OfRate(1030, 10_000));

        Assert.Equal(DecisionAction.None, results.Decision.Action);
    }

    [Fact]
    public void Decision_SignificantWinnerUnderASampleRatioMismatch_IsWithheldWithTheReason()
    {
        // The same conversion rates that complete above, but 10,000 against 8,000 units on a 50/50 split.
        var results = AnalyzeTarget(Experiment(), Moments.OfRate(1000, 10_000), Moments.OfRate(1040, 8_000));

        Assert.True(results.Variants[1].Metrics["conversionRate"].AdjustedSequentialPValue < 0.05);
        Assert.True(results.Srm.Mismatch);
        Assert.Equal(DecisionAction.None, results.Decision.Action);
        Assert.Null(results.Decision.Winner);
        Assert.Contains("sample ratio mismatch", results.Decision.Reason);
        Assert.Null(results.Winner);
    }

    [Fact]
    public void Decision_SeveralBetter_PicksTheLargestImprovement()
    {
        var results = AnalyzeTarget(Experiment(variants: 3),
            Moments.OfRate(1000, 10_000), Moments.OfRate(1300, 10_000), Moments.OfRate(1400, 10_000));

        Assert.Equal("c", results.Decision.Winner);
    }

    [Fact]
    public void Decision_EveryVariantSignificantlyWorse_ControlWins()
    {
        var results = AnalyzeTarget(Experiment(variants: 3),
            Moments.OfRate(1300, 10_000), Moments.OfRate(1000, 10_000), Moments.OfRate(1050, 10_000));

        Assert.Equal(DecisionAction.Complete, results.Decision.Action);
        Assert.Equal("control", results.Decision.Winner);
    }

    [Fact]
    public void Decision_OneWorseOneUndecided_Waits()
    {
        var results = AnalyzeTarget(Experiment(variants: 3),
            Moments.OfRate(1300, 10_000), Moments.OfRate(1000, 10_000), Moments.OfRate(1290, 10_000));

        Assert.Equal(DecisionAction.None, results.Decision.Action);
    }

    [Fact]
    public void Decision_LowerIsBetterTarget_LowerLatencyWins()
    {
        var results = AnalyzeTarget(Experiment(MetricName.AvgLatencyMs), Summary(5000, 1200, 400), Summary(5000, 1100, 380));

        Assert.Equal("b", results.Decision.Winner);
        Assert.True(results.Variants[1].Metrics["avgLatencyMs"].ChanceToBeatControl > 0.99);
    }

    [Fact]
    public void Decision_GuardrailBreached_PausesBeforeCompleting()
    {
        // Conversion is significantly better, but errors rise from 2% to 6% (+200%) where at most +10% is allowed.
        var experiment = Experiment(guardrails: [new Guardrail(MetricName.ErrorRate, 0.10)]);
        Moments Of(int variant, MetricName metric) => (variant, metric) switch
        {
            (0, MetricName.ConversionRate) => Moments.OfRate(1000, 10_000),
            (1, MetricName.ConversionRate) => Moments.OfRate(1300, 10_000),
            (0, MetricName.ErrorRate) => Moments.OfRate(200, 10_000),
            (1, MetricName.ErrorRate) => Moments.OfRate(600, 10_000),
            _ => default,
        };

        var results = AnalyzeMoments(experiment, [10_000, 10_000], Of);

        var guardrail = Assert.Single(results.Guardrails);
        Assert.True(guardrail.Breached);
        Assert.True(guardrail.Settled);
        Close(2.0, guardrail.RelativeChange);
        // The excess over the allowed error rate: 0.06 − 1.1 × 0.02 = 0.038, variance (one event per unit, delta method)
        // 0.06·0.94/9999 + 1.1²·0.02·0.98/9999 = 8.0124012e-6 (the pooled 8.0842042e-6, the control's units with the
        // variant's over 1.1, would serve only were it 0), τ = 0.1 × 0.02 = 0.002, half-width
        // √(2V(V+τ²)/τ² · (ln 20 + ½ ln((V+τ²)/V))); as relative changes: (0.038 ∓ h) / 0.02 + 0.10 = [1.3796961, 2.6203039]
        // (tests/testdata/experiment_intervals_reference.py).
        Close(1.3796961, guardrail.RelativeChangeCi![0]);
        Close(2.6203039, guardrail.RelativeChangeCi[1]);
        Assert.Equal(DecisionAction.Pause, results.Decision.Action);
        Assert.Null(results.Decision.Winner);
        Assert.Contains("Guardrail errorRate breached by 'Variant B'", results.Decision.Reason);
    }

    [Theory]
    [InlineData(ExperimentStatus.Running)]
    [InlineData(ExperimentStatus.Paused)]
    public void Winner_BreachingAGuardrail_IsNeverTheWinner_ButAnotherBetterVariantIs(ExperimentStatus status)
    {
        // b converts 13% against 10% but fails 6% of calls against 2% (+200% where +10% is allowed); c converts 11.5%
        // and fails as often as control. Both are significantly better: z = 0.03/√(2·0.115·0.885/10⁴) ≈ 6.7 for b,
        // ≈ 3.4 for c, whose always-valid p-value (about 4e-3) stays below α after Holm's factor 2. b is the larger
        // improvement, but a variant that breaches a guardrail is never promoted, also when an operator completes the
        // experiment the guardrail paused: the winner is c, then none without c.
        Guardrail[] guardrails = [new Guardrail(MetricName.ErrorRate, 0.10)];
        Moments Of(int variant, MetricName metric) => (variant, metric) switch
        {
            (_, MetricName.ConversionRate) => Moments.OfRate(new[] { 1000, 1300, 1150 }[variant], 10_000),
            (_, MetricName.ErrorRate) => Moments.OfRate(new[] { 200, 600, 200 }[variant], 10_000),
            _ => default,
        };

        var three = AnalyzeMoments(Experiment(variants: 3, guardrails: guardrails, status: status), [10_000, 10_000, 10_000], Of);
        var two = AnalyzeMoments(Experiment(guardrails: guardrails, status: status), [10_000, 10_000], Of);

        Assert.True(three.Guardrails.Single(g => g.VariantId == "b").Breached);
        Assert.True(three.Variants[1].Metrics["conversionRate"].AdjustedSequentialPValue < 0.05);
        Assert.True(three.Variants[2].Metrics["conversionRate"].AdjustedSequentialPValue < 0.05);
        Assert.Equal("c", three.Winner);
        Assert.Null(two.Winner);
        if (status == ExperimentStatus.Running)
            Assert.Equal(DecisionAction.Pause, three.Decision.Action);
    }

    [Fact]
    public void Guardrail_RareErrorsInControl_StillBreachedWhenTheVariantFailsOften()
    {
        // Control fails 2% of 2,000 calls, the variant 30%: the relative change (+1400%) is noisy because the control's rate
        // is small (its delta-method interval on the relative scale, with τ = MDE, is about ±25), but the excess over the
        // allowed 2.2% is 0.278 with an always-valid half-width of 0.146 (V = 1.1686e-4, τ = 0.002).
        var experiment = Experiment(guardrails: [new Guardrail(MetricName.ErrorRate, 0.10)]);
        Moments Of(int variant, MetricName metric) => (variant, metric) switch
        {
            (0, MetricName.ErrorRate) => Moments.OfRate(40, 2_000),
            (1, MetricName.ErrorRate) => Moments.OfRate(600, 2_000),
            _ => default,
        };

        var results = AnalyzeMoments(experiment, [2_000, 2_000], Of);

        Assert.True(Assert.Single(results.Guardrails).Breached);
        Assert.Equal(DecisionAction.Pause, results.Decision.Action);
    }

    [Fact]
    public void Guardrail_HarmfulChangeOfAHigherIsBetterMetric_IsNotShownAbove100Percent()
    {
        // Conversion falls from 50/60 to 1/60: the harmful change 1 − T/C is 0.98 and cannot pass 1; its always-valid
        // interval, on Farrington–Manning's variance at the rates restricted to T = 0.9·C (0.46420028 and 0.41778025,
        // V = 0.0074116967), [0.59687956, 1.3631204] is clipped to [0.59687956, 1]
        // (tests/testdata/experiment_intervals_reference.py: conversion_guardrail).
        var experiment = Experiment(minimumSampleSize: 50, guardrails: [new Guardrail(MetricName.ConversionRate, 0.10)]);

        var guardrail = Assert.Single(AnalyzeTarget(experiment, Moments.OfRate(50, 60), Moments.OfRate(1, 60)).Guardrails);

        Close(0.98, guardrail.RelativeChange);
        Close(0.59687956, guardrail.RelativeChangeCi![0]);
        Assert.Equal(1, guardrail.RelativeChangeCi[1]);
        Assert.True(guardrail.Breached);
    }

    [Fact]
    public void Guardrail_ConstantArms_PlainlyBeyondTheThreshold_IsBreached()
    {
        // 800 ms in every control unit, 1,000 in every variant unit, 500 each, 10% allowed: Var(T̄) + 1.1²·Var(C̄) is 0, so
        // the guardrail had no interval and was never breached. Under its null (each unit 1.1 times as slow) the control's
        // units and the variant's divided by 1.1 are exchangeable: pooled, V = 1.1²·s²·(2/500) = 14.414414, and the harmful
        // change's always-valid interval is [0.23348031, 0.26651969] (tests/testdata/experiment_intervals_reference.py).
        var experiment = Experiment(guardrails: [new Guardrail(MetricName.AvgLatencyMs, 0.10)]);
        Moments Of(int variant, MetricName metric) => metric == MetricName.AvgLatencyMs
            ? Values([.. Enumerable.Repeat(variant == 0 ? 800.0 : 1000.0, 500)])
            : default;

        var results = AnalyzeMoments(experiment, [500, 500], Of);

        var guardrail = Assert.Single(results.Guardrails);
        Close(0.25, guardrail.RelativeChange);
        Close(0.23348031, guardrail.RelativeChangeCi![0]);
        Close(0.26651969, guardrail.RelativeChangeCi[1]);
        Assert.True(guardrail.Breached);
        Assert.Equal(DecisionAction.Pause, results.Decision.Action);
    }

    [Fact]
    public void Guardrail_ConstantArmsExactlyAtTheThreshold_IsNotBreached()
    {
        // 880 ms against 800, exactly the 10% allowed: the variant's units divided by 1.1 are the control's, so there is
        // no spread to rest an interval on, and nothing is breached.
        var experiment = Experiment(guardrails: [new Guardrail(MetricName.AvgLatencyMs, 0.10)]);
        Moments Of(int variant, MetricName metric) => metric == MetricName.AvgLatencyMs
            ? Values([.. Enumerable.Repeat(variant == 0 ? 800.0 : 880.0, 500)])
            : default;

        var guardrail = Assert.Single(AnalyzeMoments(experiment, [500, 500], Of).Guardrails);

        Assert.False(guardrail.Breached);
        Assert.Null(guardrail.RelativeChangeCi);
    }

    [Fact]
    public void Guardrail_UnequalArms_RestsOnTheArmsOwnVariance()
    {
        // 100 control units at 800 or 820 ms against 120 variant units at 1,000 or 1,010: the interval
        // [0.23512920, 0.24635229] rests on the arms' own variance (1.4323063), not the pooled one under the guardrail's
        // null (60.606545: the variant's units over 1.1 lie 100 ms from the control's), which serves only when the arms'
        // own is 0 (tests/testdata/experiment_intervals_reference.py).
        var experiment = Experiment(guardrails: [new Guardrail(MetricName.AvgLatencyMs, 0.10)]);
        Moments Of(int variant, MetricName metric) => metric != MetricName.AvgLatencyMs
            ? default
            : variant == 0
                ? Values([.. Enumerable.Repeat(800.0, 50), .. Enumerable.Repeat(820.0, 50)])
                : Values([.. Enumerable.Repeat(1000.0, 60), .. Enumerable.Repeat(1010.0, 60)]);

        var guardrail = Assert.Single(AnalyzeMoments(experiment, [100, 120], Of).Guardrails);

        Close(0.23512920, guardrail.RelativeChangeCi![0]);
        Close(0.24635229, guardrail.RelativeChangeCi[1]);
        Assert.True(guardrail.Breached);
    }

    [Fact]
    public void Analyze_LatencyDifference_IntervalsStayWithinTheLargestLatencyAnEventMayCarry()
    {
        // Two units an arm, 0 and the largest latency (a week, MetricEventRules.MaxLatencyMs) in each: the difference is 0
        // and Welch's interval (2 degrees of freedom, t = 4.3026527, SE = max/√2) is ±3.04 weeks, but no data can make
        // the difference of two arms' latencies pass ±1 week, so the intervals stop there.
        var max = MetricEventRules.MaxLatencyMs;

        var results = AnalyzeTarget(Experiment(MetricName.AvgLatencyMs), Values(0, max), Values(0, max));

        var latency = results.Variants[1].Metrics["avgLatencyMs"];
        Assert.Equal([-max, max], latency.DifferenceCi);
        Assert.Equal([-max, max], latency.SequentialCi);
    }

    [Fact]
    public void Guardrail_HarmWithinThreshold_IsNotBreached()
    {
        // Conversion (higher is better) falls 2%: harmful change +0.02, and the interval reaches below the 0.10 allowed.
        var experiment = Experiment(guardrails: [new Guardrail(MetricName.ConversionRate, 0.10)]);

        var results = AnalyzeTarget(experiment, Moments.OfRate(1000, 10_000), Moments.OfRate(980, 10_000));

        var guardrail = Assert.Single(results.Guardrails);
        Close(0.02, guardrail.RelativeChange);
        Assert.False(guardrail.Breached);
        Assert.Equal(DecisionAction.None, results.Decision.Action);
    }

    [Theory]
    [InlineData(100, 99, false)]
    [InlineData(100, 100, true)]
    [InlineData(10, 49, false)] // never fewer than FewestSettledUnits, whatever minimumSampleSize says
    [InlineData(10, 50, true)]
    public void Metric_SettledOnlyOnceEveryArmHasTheMinimumSample_ItsFiguresReportedEitherWay(int minimumSampleSize, int units, bool settled)
    {
        var results = AnalyzeTarget(Experiment(minimumSampleSize: minimumSampleSize), Moments.OfRate(5, units), Moments.OfRate(30, units));

        Assert.All(results.Variants, v => Assert.Equal(settled, v.Metrics["conversionRate"].Settled));
        Assert.All(results.Variants, v => Assert.False(v.Metrics["avgLatencyMs"].Settled)); // no units with latency
        var treatment = results.Variants[1].Metrics["conversionRate"];
        Assert.NotNull(treatment.AdjustedSequentialPValue);
        Assert.NotNull(treatment.SequentialCi);
        var json = JsonSerializer.Serialize(results, PromptVaultJson.Options);
        using var document = JsonDocument.Parse(json);
        Assert.Equal(settled, document.RootElement.GetProperty("variants")[1].GetProperty("metrics").GetProperty("conversionRate")
            .GetProperty("settled").GetBoolean());
    }

    [Fact]
    public void Guardrail_BelowMinimumSampleSize_IsNotBreached_HoweverNarrowTheFirstUnitsMakeTheInterval()
    {
        // 60 units an arm, latencies 1000 and 1002 against 1250 and 1252: the excess over the allowed 1.1 × 1001 is 149.9,
        // V = 188.86 (the pooled one under the guardrail's null) and τ = 100.1, so the always-valid interval
        // [0.20596894, 0.29353156] excludes the threshold (tests/testdata/experiment_intervals_reference.py: ratio_guardrail).
        // But a minimumSampleSize of 100 is what the experiment asked before anything acts (with two units' plug-in
        // variance an A/A experiment looked at after every unit paused).
        Moments Of(int variant, MetricName metric) => metric == MetricName.AvgLatencyMs
            ? Values([.. Enumerable.Repeat<double[]>(variant == 0 ? [1000, 1002] : [1250, 1252], 30).SelectMany(pair => pair)])
            : default;
        Guardrail[] guardrails = [new Guardrail(MetricName.AvgLatencyMs, 0.10)];

        var early = AnalyzeMoments(Experiment(guardrails: guardrails, minimumSampleSize: 100), [60, 60], Of);

        var guardrail = Assert.Single(early.Guardrails);
        Assert.True(guardrail.RelativeChangeCi![0] > 0.10, $"interval [{guardrail.RelativeChangeCi[0]}, {guardrail.RelativeChangeCi[1]}]");
        Assert.False(guardrail.Breached);
        Assert.False(guardrail.Settled);
        Assert.Equal(DecisionAction.None, early.Decision.Action);
    }

    [Theory]
    [InlineData(ExperimentStatus.Draft)]
    [InlineData(ExperimentStatus.Paused)]
    public void Decision_NotRunning_TakesNoAction(ExperimentStatus status)
    {
        var results = AnalyzeTarget(Experiment(status: status), Moments.OfRate(1000, 10_000), Moments.OfRate(1300, 10_000));

        Assert.Equal(DecisionAction.None, results.Decision.Action);
        Assert.Equal("b", results.Winner);
    }

    [Fact]
    public void Winner_CompletedExperiment_ShowsTheRecordedWinner()
    {
        var results = AnalyzeTarget(Experiment(status: ExperimentStatus.Completed, winner: "control"),
            Moments.OfRate(1000, 10_000), Moments.OfRate(1300, 10_000));

        Assert.Equal("control", results.Winner);
        Assert.Equal(DecisionAction.None, results.Decision.Action);
    }

    private static ExperimentResults Analyze(Experiment experiment, MetricAggregate control, MetricAggregate treatment) =>
        ExperimentAnalyzer.Analyze(experiment,
            new Dictionary<string, long> { ["control"] = control.Count, ["b"] = treatment.Count },
            new Dictionary<string, VariantUnitStats>
            {
                ["control"] = IndependentEvents(control),
                ["b"] = IndependentEvents(treatment),
            }, previous: null);

    /// <summary><paramref name="count"/> events that carry <c>converted</c> and a latency, some converted, some failed.</summary>
    private static MetricAggregate Events(int count, int conversions, int errors)
    {
        var aggregate = new MetricAggregate();
        for (var i = 0; i < count; i++)
            aggregate.Add(Event(i < conversions, i >= count - errors, 900 + i % 7 * 50));
        return aggregate;
    }

    private static MetricEvent Event(bool converted, bool failed, double latencyMs) =>
        new(null, "version", "exp-1", null, null, DateTimeOffset.UnixEpoch, latencyMs, 100, 50, 0.002, null, null, converted,
            failed ? "timeout" : null, null);
}
