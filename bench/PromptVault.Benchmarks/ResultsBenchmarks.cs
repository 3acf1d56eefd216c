using BenchmarkDotNet.Attributes;
using PromptVault.Core.Analysis;
using PromptVault.Core.Experiments;
using PromptVault.Core.Metrics;

namespace PromptVault.Benchmarks;

/// <summary>
/// The results of a running experiment (what <c>GET /api/experiments/{id}/results</c> and auto-completion compute):
/// three variants at 50/25/25, target <c>conversionRate</c>, guardrails on <c>errorRate</c> and <c>avgLatencyMs</c>,
/// analysed by unit over <see cref="TotalUnits"/> exposed units in all (1 to 8 events each), continuing the sequential
/// state of an earlier look as the server does.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class ResultsBenchmarks
{
    private const int EventsPerSet = 2_500;

    private Experiment _experiment = null!;
    private Dictionary<string, long> _exposures = null!;
    private Dictionary<string, VariantUnitStats> _stats = null!;
    private SequentialState? _state;

    [Params(10_000, 1_000_000)]
    public int TotalUnits { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        Variant[] variants =
        [
            new("control", "Control", "version-1", 50),
            new("friendly", "Friendly", "version-2", 25),
            new("concise", "Concise", "version-3", 25),
        ];
        _experiment = new Experiment("experiment-1", "prompt-1", "customer-support", "Tone", "", variants,
            MetricName.ConversionRate, MinimumSampleSize: 1_000, ConfidenceLevel: 0.95, MinimumDetectableEffect: 0.10,
            Power: 0.8, [new Guardrail(MetricName.ErrorRate, 0.10), new Guardrail(MetricName.AvgLatencyMs, 0.10)],
            PromoteWinner: false, ExperimentStatus.Running, HashSeed: 42, Winner: null, StatusReason: null,
            DateTimeOffset.UnixEpoch, "bench", DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, EndedAt: null);

        // Each variant's units take their events in turn from 2,500 events drawn with these per-event conversion and
        // error rates: at 10,000 units nothing is significant yet, at 1,000,000 a variant wins.
        (double Conversion, double Errors)[] rates = [(0.03, 0.02), (0.035, 0.02), (0.03, 0.025)];
        _stats = [];
        _exposures = [];
        for (var v = 0; v < variants.Length; v++)
        {
            var events = BenchmarkEvents.Create(EventsPerSet, seed: 10 + v, rates[v].Conversion, rates[v].Errors);
            var random = new Random(20 + v);
            var units = TotalUnits * (long)variants[v].Weight / 100;
            var stats = new VariantUnitStats();
            var next = 0;
            for (long u = 0; u < units; u++)
            {
                var sums = default(UnitSums);
                for (var e = random.Next(1, 9); e > 0; e--)
                    sums = sums.Add(events[next++ % events.Length]);
                stats = stats.Replace(default, sums);
            }
            _stats[variants[v].Id] = stats;
            _exposures[variants[v].Id] = units;
        }
        _state = ExperimentAnalyzer.Analyze(_experiment, _exposures, _stats, previous: null).State;
    }

    [Benchmark(Baseline = true)]
    public ExperimentResults Analyze() => ExperimentAnalyzer.Analyze(_experiment, _exposures, _stats, _state);
}
