using MathNet.Numerics.Distributions;
using PromptVault.Core.Analysis;
using PromptVault.Core.Experiments;
using PromptVault.Core.Metrics;
using static PromptVault.Core.Tests.Analysis.AnalysisData;

namespace PromptVault.Core.Tests.Analysis;

/// <summary>
/// Seeded simulations of whole experiments that look at the results after every batch of events (peeking) and stop at
/// the first decision auto-completion takes: the false-winner rate of A/A tests and the power of a real lift.
/// Batches are drawn whole (one binomial draw per arm for rates), so each run costs a few dozen analyses.
/// </summary>
public sealed class ExperimentSimulationTests(ITestOutputHelper output)
{
    private const int Batch = 250;

    [Fact]
    public void AaConversion_PeekingAfterEveryBatch_FindsAWinnerAtMostSixPercentOfTheTime()
    {
        // 1000 A/A experiments at 10% conversion, up to 20,000 events per arm, looked at every 250 events per arm.
        const int runs = 1000;
        var experiment = Experiment(minimumSampleSize: 500);
        var random = new Random(1001);

        var outcomes = Enumerable.Range(0, runs)
            .Select(_ => RunRates(experiment, random, [0.10, 0.10], maxPerArm: 20_000))
            .ToList();

        var winners = outcomes.Count(o => o.Decision.Action == DecisionAction.Complete);
        var rate = (double)winners / runs;
        output.WriteLine($"A/A conversion 10% vs 10%, {runs} runs, peeking every {Batch}/arm up to 20,000/arm: " +
                         $"a winner in {winners} ({rate:P1}); fixed-horizon z-test p < 0.05 at some peek: " +
                         $"{outcomes.Count(o => o.NaiveSignificant) / (double)runs:P1}");
        Assert.True(rate <= 0.06, $"A/A winner rate {rate:P1}");
    }

    [Fact]
    public void AaLatency_PeekingAfterEveryBatch_FindsAWinnerAtMostSixPercentOfTheTime()
    {
        // 500 A/A experiments on a skewed mean metric: log-normal latency with mean 1000 ms (σ_log = 0.5), up to 10,000
        // events per arm, looked at every 250 events per arm.
        const int runs = 500, maxPerArm = 10_000;
        var experiment = Experiment(MetricName.AvgLatencyMs, minimumSampleSize: 500);
        var random = new Random(2002);
        var sigma = 0.5;
        var mu = Math.Log(1000) - sigma * sigma / 2;

        var winners = 0;
        for (var run = 0; run < runs; run++)
        {
            var arms = new Moments[2];
            for (var n = Batch; n <= maxPerArm; n += Batch)
            {
                for (var arm = 0; arm < arms.Length; arm++)
                {
                    for (var i = 0; i < Batch; i++)
                        arms[arm] = arms[arm].Add(Math.Exp(Normal.Sample(random, mu, sigma)));
                }
                if (AnalyzeTarget(experiment, arms).Decision.Action == DecisionAction.Complete)
                {
                    winners++;
                    break;
                }
            }
        }

        var rate = (double)winners / runs;
        output.WriteLine($"A/A latency (log-normal, mean 1000 ms), {runs} runs, peeking every {Batch}/arm up to {maxPerArm}/arm: " +
                         $"a winner in {winners} ({rate:P1})");
        Assert.True(rate <= 0.06, $"A/A winner rate {rate:P1}");
    }

    [Fact]
    public void AaConversionThreeArms_HolmKeepsTheFamilyRate()
    {
        // 500 A/A/A experiments: a winner (either challenger, or control when both are worse) counts as a false one.
        const int runs = 500;
        var experiment = Experiment(variants: 3, minimumSampleSize: 500);
        var random = new Random(3003);

        var winners = Enumerable.Range(0, runs)
            .Count(_ => RunRates(experiment, random, [0.10, 0.10, 0.10], maxPerArm: 20_000).Decision.Action == DecisionAction.Complete);

        var rate = (double)winners / runs;
        output.WriteLine($"A/A/A conversion 10%, {runs} runs, up to 20,000/arm: a winner in {winners} ({rate:P1})");
        Assert.True(rate <= 0.06, $"A/A/A winner rate {rate:P1}");
    }

    [Fact]
    public void TwentyPercentLift_FindsTheRightWinnerWithinTheRequiredSampleSize_AtLeastEightyPercentOfTheTime()
    {
        // Control 10%, variant 12% (a 20% relative lift, the experiment's MDE). The required sample size is the
        // analyzer's own for a 10% baseline; each run stops at the first decision or when both arms reach it.
        const int runs = 500;
        var experiment = Experiment(minimumSampleSize: 500, minimumDetectableEffect: 0.20);
        var required = AnalyzeTarget(experiment, [Moments.OfRate(1_000_000, 10_000_000), Moments.OfRate(1_000_000, 10_000_000)])
            .RequiredSampleSize!.Value;
        var random = new Random(4004);

        var outcomes = Enumerable.Range(0, runs)
            .Select(_ => RunRates(experiment, random, [0.10, 0.12], maxPerArm: required))
            .ToList();

        var right = outcomes.Count(o => o.Decision.Winner == "b");
        var wrong = outcomes.Count(o => o.Decision.Winner == "control");
        var stoppedAt = outcomes.Where(o => o.Decision.Winner == "b").Select(o => o.PerArm).Order().ToList();
        var rate = (double)right / runs;
        output.WriteLine($"10% vs 12%, {runs} runs, required sample size {required}/arm: right winner in {right} ({rate:P1}), " +
                         $"wrong winner in {wrong}; median stop at {stoppedAt[stoppedAt.Count / 2]}/arm");
        Assert.Equal(7438, required);
        Assert.True(rate >= 0.80, $"power {rate:P1}");
        Assert.Equal(0, wrong);
    }

    private sealed record Outcome(ExperimentDecision Decision, long PerArm, bool NaiveSignificant);

    /// <summary>
    /// One experiment on conversion: batches of <see cref="Batch"/> events per arm (the last one cut to reach
    /// <paramref name="maxPerArm"/> exactly), analysed after each, until auto-completion decides or the arms are full.
    /// </summary>
    private static Outcome RunRates(Experiment experiment, Random random, double[] rates, long maxPerArm)
    {
        var arms = new Moments[rates.Length];
        var naiveSignificant = false;
        for (long n = 0; n < maxPerArm;)
        {
            var size = (int)Math.Min(Batch, maxPerArm - n);
            n += size;
            for (var arm = 0; arm < arms.Length; arm++)
                arms[arm] += Moments.OfRate(Binomial.Sample(random, rates[arm], size), size);
            var results = AnalyzeTarget(experiment, arms);
            naiveSignificant |= results.Variants.Skip(1).Any(v => v.Metrics["conversionRate"].PValue < 0.05);
            if (results.Decision.Action != DecisionAction.None)
                return new(results.Decision, n, naiveSignificant);
        }
        return new(new ExperimentDecision(DecisionAction.None, null, null), maxPerArm, naiveSignificant);
    }
}
