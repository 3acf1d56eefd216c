using MathNet.Numerics.Distributions;
using PromptVault.Core.Analysis;
using PromptVault.Core.Experiments;
using PromptVault.Core.Metrics;
using static PromptVault.Core.Tests.Analysis.AnalysisData;

namespace PromptVault.Core.Tests.Analysis;

/// <summary>
/// Seeded simulations of whole experiments that look at the results after every batch of units (peeking), carry the
/// sequential state from look to look as the server does, and stop at the first decision auto-completion takes: the
/// false-winner rate of A/A tests when each unit sends many correlated events, the same data analysed per event, and
/// the power of a real lift. Units are drawn whole (a unit's sums from a few draws), and each run seeds its own
/// generator, so the runs can go in parallel and still give the same figures. The figures are in docs/statistics.md.
/// </summary>
public sealed class ExperimentSimulationTests(ITestOutputHelper output)
{
    private const int Runs = 1000;
    private const int UnitsPerBatch = 100;
    private const int MaxUnitsPerArm = 1500;

    /// <summary>One unit's events: their number, how many converted, and the sum and moments of the measured value.</summary>
    private readonly record struct UnitDraw(int Events, int ConvertedEvents, double Sum, Moments Values);

    public static TheoryData<string, double> Scenarios() => new()
    {
        { "conversion", 0.2 }, { "conversion", 0.5 },
        { "latency", 0.2 }, { "latency", 0.5 },
        { "cost", 0.2 }, { "cost", 0.5 },
    };

    [Theory]
    [MemberData(nameof(Scenarios))]
    public void AaCorrelatedEventsPerUnit_PeekingAfterEveryBatch_FalseWinnersWithinAlpha_AndPerEventIsWorse(string metric, double correlation)
    {
        var target = metric switch { "latency" => MetricName.AvgLatencyMs, "cost" => MetricName.AvgCost, _ => MetricName.ConversionRate };
        var draw = Model(target, correlation);
        var experiment = Experiment(target, minimumSampleSize: 100);

        ByUnitWithinAlpha_PerEventWorse($"A/A {metric}, within-unit correlation {correlation}", "winners", experiment,
            run => RunCorrelated(experiment, draw, new Random((int)target * 1_000_000 + (int)(correlation * 10) * 100_000 + run)));
    }

    [Fact]
    public void GuardrailAtItsThreshold_CorrelatedEventsPerUnit_PausesWithinAlpha_AndPerEventIsWorse()
    {
        // The latency model above at ρ = 0.5 (1–20 events per unit), the variant's values exactly the 10% slower that the
        // guardrail allows, so a pause is a false one; the target (conversion) has no conversions, so nothing else decides.
        var experiment = Experiment(minimumSampleSize: 100, guardrails: [new Guardrail(MetricName.AvgLatencyMs, 0.10)]);
        var draw = Model(MetricName.AvgLatencyMs, 0.5);

        ByUnitWithinAlpha_PerEventWorse("latency guardrail at its threshold, within-unit correlation 0.5", "pauses", experiment,
            run => RunCorrelated(experiment, draw, new Random(9009 + run), MetricName.AvgLatencyMs, 1.1, DecisionAction.Pause));
    }

    /// <summary>
    /// <see cref="Runs"/> runs of <paramref name="run"/> (by its index): the runs that acted by unit stay within α (the
    /// upper 95% bound), and per event more acted, and more than 5%.
    /// </summary>
    private void ByUnitWithinAlpha_PerEventWorse(string scenario, string actions, Experiment experiment, Func<int, (bool ByUnit, bool ByEvent)> run)
    {
        var byUnit = 0;
        var byEvent = 0;
        Parallel.For(0, Runs, i =>
        {
            var (unit, perEvent) = run(i);
            if (unit)
                Interlocked.Increment(ref byUnit);
            if (perEvent)
                Interlocked.Increment(ref byEvent);
        });

        var upper = UpperBound(byUnit, Runs);
        output.WriteLine($"{scenario}, 1-20 events per unit, {Runs} runs, peeking every {UnitsPerBatch} units/arm up to {MaxUnitsPerArm}/arm: " +
                         $"by unit {byUnit} {actions} ({(double)byUnit / Runs:P1}, upper 95% bound {upper:P2}); per event {byEvent} ({(double)byEvent / Runs:P1})");
        Assert.True(upper < 1 - experiment.ConfidenceLevel, $"by unit: {byUnit} false {actions} in {Runs} runs, upper bound {upper:P2}");
        Assert.True(byEvent > byUnit && byEvent > 0.05 * Runs, $"per event: {byEvent} false {actions}, by unit: {byUnit}");
    }

    [Fact]
    public void AaConversionThreeArms_HolmKeepsTheFamilyRate()
    {
        // A/A/A on unit conversion at 10%: a winner (either challenger, or control when both are worse) is a false one.
        var experiment = Experiment(variants: 3, minimumSampleSize: 500);
        var winners = 0;
        Parallel.For(0, Runs, run =>
        {
            if (RunRates(experiment, new Random(3003 + run), [0.10, 0.10, 0.10], batch: 250, maxPerArm: 20_000).Winner is not null)
                Interlocked.Increment(ref winners);
        });

        output.WriteLine($"A/A/A conversion 10%, {Runs} runs, peeking every 250 units/arm up to 20,000/arm: a winner in {winners} " +
                         $"({(double)winners / Runs:P1}, upper 95% bound {UpperBound(winners, Runs):P2})");
        Assert.True(UpperBound(winners, Runs) < 1 - experiment.ConfidenceLevel, $"{winners} false winners");
    }

    [Fact]
    public void AaRareConversion_FromTheFirstSettledLook_FalseWinnersWithinAlpha()
    {
        // A/A at 0.5% conversion, looked at every 50 units per arm (the fewest a look may rest on) up to 5,000: the early
        // looks are where an arm has no conversions, its own variance is 0 and the sequential test rests on the pooled one
        // (docs/statistics.md, "The pooled variance"), and where the always-valid interval is clipped to ±100 points.
        var experiment = Experiment(minimumSampleSize: ExperimentAnalyzer.FewestSettledUnits);
        var winners = 0;
        Parallel.For(0, Runs, run =>
        {
            if (RunRates(experiment, new Random(7007 + run), [0.005, 0.005], batch: 50, maxPerArm: 5000).Winner is not null)
                Interlocked.Increment(ref winners);
        });

        output.WriteLine($"A/A conversion 0.5%, {Runs} runs, peeking every 50 units/arm up to 5,000/arm: a winner in {winners} " +
                         $"({(double)winners / Runs:P1}, upper 95% bound {UpperBound(winners, Runs):P2})");
        Assert.True(UpperBound(winners, Runs) < 1 - experiment.ConfidenceLevel, $"{winners} false winners");
    }

    [Fact]
    public void GuardrailAtItsThreshold_LookedAtAfterEveryUnit_PausesWithinAlpha()
    {
        // The variant's latency is exactly the 10% worse that the guardrail allows (1100 ± 330 against 1000 ± 300 ms per
        // unit, one event each): the harm is not beyond the threshold, so a pause is a false one. The server looks after
        // every metric batch, from the first unit on.
        var experiment = Experiment(guardrails: [new Guardrail(MetricName.AvgLatencyMs, 0.10)]);
        const int runs = 400;
        var pauses = RunsLookingAfterEveryUnit(experiment, 5005, runs, DecisionAction.Pause,
            (random, arm) => (arm == 0 ? 1 : 1.1) * Normal.Sample(random, 1000, 300));

        output.WriteLine($"guardrail at its threshold, {runs} runs, looking after every unit up to 300/arm: {pauses} pauses " +
                         $"({(double)pauses / runs:P1}, upper 95% bound {UpperBound(pauses, runs):P2})");
        Assert.True(UpperBound(pauses, runs) < 1 - experiment.ConfidenceLevel, $"{pauses} false pauses in {runs} runs");
    }

    [Theory]
    [InlineData(0.05, 50, 5000)]
    [InlineData(0.30, 100, 5000)]
    public void ConversionGuardrailAtItsThreshold_PeekingFromTheFirstSettledLook_PausesWithinAlpha(double rate, int batch, int maxPerArm)
    {
        // The variant converts exactly the 10% less that the guardrail allows (rate against 0.9 × rate), so a pause is a
        // false one; the target (latency) has no data, so nothing else decides. The guardrail's test rests on
        // Farrington–Manning's variance at the rates restricted to its null (docs/statistics.md, "The pooled variance V₀").
        var experiment = Experiment(MetricName.AvgLatencyMs, minimumSampleSize: ExperimentAnalyzer.FewestSettledUnits,
            guardrails: [new Guardrail(MetricName.ConversionRate, 0.10)]);
        var pauses = 0;
        Parallel.For(0, Runs, run =>
        {
            if (RunRates(experiment, new Random(8008 + run), [rate, 0.9 * rate], batch, maxPerArm).Action == DecisionAction.Pause)
                Interlocked.Increment(ref pauses);
        });

        output.WriteLine($"conversion guardrail at its threshold, {rate:P0} against {0.9 * rate:P1}, {Runs} runs, peeking every {batch} " +
                         $"units/arm up to {maxPerArm:N0}/arm: {pauses} pauses ({(double)pauses / Runs:P1}, upper 95% bound {UpperBound(pauses, Runs):P2})");
        Assert.True(UpperBound(pauses, Runs) < 1 - experiment.ConfidenceLevel, $"{pauses} false pauses in {Runs} runs");
    }

    [Fact]
    public void AaLatency_MinimumSampleSizeOfTwo_LookedAtAfterEveryUnit_FalseWinnersWithinAlpha()
    {
        // minimumSampleSize may be as low as 1; looks still wait for FewestSettledUnits, since the plug-in variance of two
        // or three units makes flukes that the running minimum would keep. Latency 1000 ± 300 ms, one event per unit.
        var experiment = Experiment(MetricName.AvgLatencyMs, minimumSampleSize: 2);
        const int runs = 400;
        var winners = RunsLookingAfterEveryUnit(experiment, 6006, runs, DecisionAction.Complete,
            (random, _) => Normal.Sample(random, 1000, 300));

        output.WriteLine($"A/A latency, minimumSampleSize 2, {runs} runs, looking after every unit up to 300/arm: {winners} winners " +
                         $"({(double)winners / runs:P1}, upper 95% bound {UpperBound(winners, runs):P2})");
        Assert.True(UpperBound(winners, runs) < 0.07, $"{winners} false winners in {runs} runs");
    }

    [Theory]
    [InlineData(new[] { 50.0, 50.0 })]
    [InlineData(new[] { 50.0, 30.0, 20.0 })]
    public void AaSampleRatio_PeekingAfterEveryBatch_EverFlaggedWithinAlpha_AndTheRepeatedChiSquareIsWorse(double[] weights)
    {
        // Exposures drawn at exactly the weights' shares, 100 units per look up to 10,000: a run whose sequential SRM p
        // (the running minimum the analyzer keeps) ever falls below α is a false alarm. α = 0.05 rather than the 0.001 of
        // a mismatch, so that 1000 runs can tell; Ville's bound holds at every α. Pearson's chi-square re-run at every
        // look is the invalid contrast.
        const double alpha = 0.05;
        var decimalWeights = weights.Select(w => (decimal)w).ToList();
        var shares = weights.Select(w => w / weights.Sum()).ToArray();
        var sequential = 0;
        var chiSquare = 0;
        Parallel.For(0, Runs, run =>
        {
            var random = new Random(1101 + run);
            var exposures = new long[weights.Length];
            bool sequentialFlagged = false, chiSquareFlagged = false;
            for (var units = 100; units <= 10_000; units += 100)
            {
                var batch = Multinomial.Sample(random, shares, 100);
                for (var arm = 0; arm < exposures.Length; arm++)
                    exposures[arm] += batch[arm];
                sequentialFlagged |= SequentialTest.SampleRatioPValue(exposures, decimalWeights) < alpha;
                chiSquareFlagged |= Statistics.SampleRatioChiSquare(exposures, decimalWeights) < alpha;
            }
            if (sequentialFlagged)
                Interlocked.Increment(ref sequential);
            if (chiSquareFlagged)
                Interlocked.Increment(ref chiSquare);
        });

        var upper = UpperBound(sequential, Runs);
        output.WriteLine($"A/A exposures at {string.Join("/", weights)}, {Runs} runs, looking every 100 units up to 10,000: sequential SRM " +
                         $"ever below {alpha} in {sequential} ({(double)sequential / Runs:P1}, upper 95% bound {upper:P2}); " +
                         $"repeated chi-square in {chiSquare} ({(double)chiSquare / Runs:P1})");
        Assert.True(upper < alpha, $"{sequential} false alarms in {Runs} runs, upper bound {upper:P2}");
        Assert.True(chiSquare > 2 * alpha * Runs, $"repeated chi-square: {chiSquare} false alarms");
    }

    /// <summary>
    /// Runs of a two-arm experiment on latency, one event per unit (<paramref name="latencyOf"/> the random and the arm),
    /// analysed after every unit per arm up to 300 with the state carried: how many reached <paramref name="action"/>.
    /// </summary>
    private static int RunsLookingAfterEveryUnit(Experiment experiment, int seed, int runs, DecisionAction action, Func<Random, int, double> latencyOf)
    {
        var decided = 0;
        Parallel.For(0, runs, run =>
        {
            var random = new Random(seed + run);
            var stats = new VariantUnitStats[] { new(), new() };
            SequentialState? state = null;
            for (var units = 1; units <= 300; units++)
            {
                for (var arm = 0; arm < 2; arm++)
                    stats[arm] = stats[arm].Replace(default, new UnitSums(1, 0, false, new MeasureSum(1, latencyOf(random, arm)), default, default, default));
                var results = Analyze(experiment, [units, units], stats, state);
                state = results.State;
                if (results.Decision.Action == action)
                {
                    Interlocked.Increment(ref decided);
                    return;
                }
            }
        });
        return decided;
    }

    [Theory]
    [InlineData(0.20, 250)]
    [InlineData(0.10, 1000)]
    public void Lift_FindsTheRightWinnerWithinTheRequiredSampleSize_AtLeastAtThePlannedPower(double lift, int batch)
    {
        // Control converts 10% of units, the variant 10% × (1 + lift); the experiment's MDE is that lift. Each run peeks
        // after every batch and stops at the first decision or at the product's own required sample size, where a
        // fixed-horizon z-test looks once instead.
        var experiment = Experiment(minimumSampleSize: 500, minimumDetectableEffect: lift);
        var required = AnalyzeTarget(experiment, Moments.OfRate(1_000_000, 10_000_000), Moments.OfRate(1_000_000, 10_000_000))
            .RequiredSampleSize!.Value;
        var rates = new[] { 0.10, 0.10 * (1 + lift) };
        var outcomes = new Outcome[Runs];
        Parallel.For(0, Runs, run => outcomes[run] = RunRates(experiment, new Random(4004 + run), rates, batch, required));

        var right = outcomes.Count(o => o.Winner == "b");
        var wrong = outcomes.Count(o => o.Winner == "control");
        var stops = outcomes.Where(o => o.Winner == "b").Select(o => o.PerArm).Order().ToList();
        var fixedHorizon = outcomes.Count(o => o.FixedHorizonWins);
        var fixedHorizonSize = FixedHorizonSampleSize(rates[0], rates[1], 0.05, 0.8);
        output.WriteLine($"10% vs {rates[1]:P0} ({lift:P0} lift), {Runs} runs, required sample size {required}/arm, peeking every {batch}: " +
                         $"right winner in {right} ({(double)right / Runs:P1}), wrong in {wrong}, median stop {stops[stops.Count / 2]}/arm; " +
                         $"fixed-horizon z-test once at {required}/arm: {(double)fixedHorizon / Runs:P1} " +
                         $"(its own 80% design needs {fixedHorizonSize}/arm)");
        Assert.True(right >= 0.8 * Runs, $"power {(double)right / Runs:P1}");
        Assert.Equal(0, wrong);
    }

    /// <summary>How one unit's events are drawn under each metric's model (see docs/statistics.md, Simulations).</summary>
    private static Func<Random, UnitDraw> Model(MetricName metric, double correlation) => metric switch
    {
        // Each unit converts each event with its own probability p_u ~ Beta(a, b), mean 0.1 and intra-class correlation
        // 1/(a + b + 1); it converted when any of its events did.
        MetricName.ConversionRate => random =>
        {
            var events = random.Next(1, 21);
            var concentration = 1 / correlation - 1;
            var p = Beta.Sample(random, 0.1 * concentration, 0.9 * concentration);
            return new(events, Binomial.Sample(random, p, events), 0, default);
        },
        // Latency 1000 ± 300 ms per event: a unit effect N(0, ρσ²) plus event noise N(0, (1 − ρ)σ²). The unit's sum and
        // its within-unit sum of squares ((1 − ρ)σ² χ²ₘ₋₁) are drawn whole.
        MetricName.AvgLatencyMs => random =>
        {
            const double mean = 1000, sd = 300;
            var events = random.Next(1, 21);
            var unitMean = mean + Normal.Sample(random, 0, sd * Math.Sqrt(correlation));
            var noise = sd * Math.Sqrt(1 - correlation);
            var eventMean = unitMean + Normal.Sample(random, 0, noise / Math.Sqrt(events));
            var within = events > 1 ? noise * noise * ChiSquared.Sample(random, events - 1) : 0;
            return new(events, 0, eventMean * events, new Moments(events, eventMean * events, within));
        },
        // Cost per event Gamma(shape 2, mean 0.002 × w_u) with a unit multiplier w_u ~ Gamma(shape a, mean 1): the
        // correlation is 2/(a + 3), so a = 2/ρ − 3. Skewed, and each event drawn.
        _ => random =>
        {
            var events = random.Next(1, 21);
            var shape = 2 / correlation - 3;
            var multiplier = Gamma.Sample(random, shape, shape);
            var values = default(Moments);
            for (var i = 0; i < events; i++)
                values = values.Add(Gamma.Sample(random, 2, 2 / (0.002 * multiplier)));
            return new(events, 0, values.Sum, values);
        },
    };

    /// <summary>
    /// One experiment of two arms, peeked at after every batch by unit and, on the same data, per event (every event a
    /// unit of its own, as the analysis did before). Whether each reached <paramref name="action"/> (by default: completed
    /// with a winner) before the horizon. <paramref name="metric"/> (by default the target) is the one drawn; the variant's
    /// values are the draws times <paramref name="variantScale"/>.
    /// </summary>
    private static (bool ByUnit, bool ByEvent) RunCorrelated(Experiment experiment, Func<Random, UnitDraw> draw, Random random,
        MetricName? metric = null, double variantScale = 1, DecisionAction action = DecisionAction.Complete)
    {
        var measured = metric ?? experiment.TargetMetric;
        var units = new long[2];
        var byUnit = new VariantUnitStats[] { new(), new() };
        var events = new long[2];
        var convertedEvents = new long[2];
        var eventValues = new Moments[2];
        SequentialState? unitState = null, eventState = null;
        bool? unitWinner = null, eventWinner = null;
        for (var size = UnitsPerBatch; size <= MaxUnitsPerArm && (unitWinner is null || eventWinner is null); size += UnitsPerBatch)
        {
            for (var arm = 0; arm < 2; arm++)
            {
                for (var i = 0; i < UnitsPerBatch; i++)
                {
                    var unit = draw(random);
                    if (arm == 1 && variantScale != 1)
                        unit = unit with { Sum = unit.Sum * variantScale,
                            Values = new(unit.Values.Count, unit.Values.Sum * variantScale, unit.Values.M2 * variantScale * variantScale) };
                    var value = new MeasureSum(unit.Events, unit.Sum);
                    byUnit[arm] = byUnit[arm].Replace(default, new UnitSums(unit.Events, 0, unit.ConvertedEvents > 0,
                        measured == MetricName.AvgLatencyMs ? value : default, measured == MetricName.AvgCost ? value : default, default, default));
                    events[arm] += unit.Events;
                    convertedEvents[arm] += unit.ConvertedEvents;
                    eventValues[arm] += unit.Values;
                }
                units[arm] += UnitsPerBatch;
            }

            if (unitWinner is null)
            {
                var results = Analyze(experiment, units, byUnit, unitState);
                unitState = results.State;
                unitWinner = results.Decision.Action == action ? true : null;
            }
            if (eventWinner is null)
            {
                VariantUnitStats PerEvent(int arm) => new()
                {
                    ConvertedUnits = convertedEvents[arm],
                    LatencyMs = measured == MetricName.AvgLatencyMs ? IndependentValues(eventValues[arm]) : default,
                    Cost = measured == MetricName.AvgCost ? IndependentValues(eventValues[arm]) : default,
                };
                var results = Analyze(experiment, events, [PerEvent(0), PerEvent(1)], eventState);
                eventState = results.State;
                eventWinner = results.Decision.Action == action ? true : null;
            }
        }
        return (unitWinner == true, eventWinner == true);
    }

    private static ExperimentResults Analyze(Experiment experiment, long[] exposures, VariantUnitStats[] stats, SequentialState? state) =>
        ExperimentAnalyzer.Analyze(experiment,
            experiment.Variants.Select((v, i) => (v.Id, exposures[i])).ToDictionary(p => p.Id, p => p.Item2),
            experiment.Variants.Select((v, i) => (v.Id, stats[i])).ToDictionary(p => p.Id, p => p.Item2),
            state);

    private sealed record Outcome(DecisionAction Action, string? Winner, long PerArm, bool FixedHorizonWins);

    /// <summary>
    /// One experiment on unit conversion: batches of units per arm (one binomial draw per arm; the last batch cut to reach
    /// <paramref name="maxPerArm"/> exactly), analysed after each with the state carried, until auto-completion decides
    /// (completes or pauses) or the arms are full. Also whether a fixed-horizon z-test at <paramref name="maxPerArm"/> finds
    /// the variant better.
    /// </summary>
    private static Outcome RunRates(Experiment experiment, Random random, double[] rates, int batch, long maxPerArm)
    {
        var units = new long[rates.Length];
        var converted = new long[rates.Length];
        SequentialState? state = null;
        ExperimentDecision? decision = null;
        var stoppedAt = maxPerArm;
        while (units[0] < maxPerArm)
        {
            var size = (int)Math.Min(batch, maxPerArm - units[0]);
            for (var arm = 0; arm < rates.Length; arm++)
            {
                converted[arm] += Binomial.Sample(random, rates[arm], size);
                units[arm] += size;
            }
            if (decision is not null)
                continue;
            var results = Analyze(experiment, units, converted.Select(c => new VariantUnitStats { ConvertedUnits = c }).ToArray(), state);
            state = results.State;
            if (results.Decision.Action != DecisionAction.None)
            {
                decision = results.Decision;
                stoppedAt = units[0];
            }
        }
        var fixedHorizon = Statistics.ProportionZTest(Moments.OfRate(converted[0], units[0]), Moments.OfRate(converted[1], units[1]), 0.95);
        return new(decision?.Action ?? DecisionAction.None, decision?.Winner, stoppedAt, fixedHorizon is { PValue: < 0.05, Difference: > 0 });
    }

    /// <summary>The upper end of the two-sided 95% Clopper–Pearson interval of <paramref name="successes"/> in <paramref name="trials"/>.</summary>
    private static double UpperBound(int successes, int trials) =>
        successes == trials ? 1 : Beta.InvCDF(successes + 1, trials - successes, 0.975);

    /// <summary>The textbook fixed-horizon size per arm for two proportions: (z₁₋α/₂ + z_power)²(p₁q₁ + p₂q₂)/(p₂ − p₁)².</summary>
    private static long FixedHorizonSampleSize(double p1, double p2, double alpha, double power)
    {
        var z = Normal.InvCDF(0, 1, 1 - alpha / 2) + Normal.InvCDF(0, 1, power);
        return (long)Math.Ceiling(z * z * (p1 * (1 - p1) + p2 * (1 - p2)) / ((p2 - p1) * (p2 - p1)));
    }
}
