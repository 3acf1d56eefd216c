using BenchmarkDotNet.Attributes;
using PromptVault.Core.Analysis;
using PromptVault.Core.Experiments;
using PromptVault.Core.Metrics;

namespace PromptVault.Benchmarks;

/// <summary>
/// The results of a running experiment (what <c>GET /api/experiments/{id}/results</c> and auto-completion compute):
/// three variants at 50/25/25, target <c>conversionRate</c>, guardrails on <c>errorRate</c> and <c>avgLatencyMs</c>,
/// whose aggregates hold <see cref="TotalEvents"/> events in all.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class ResultsBenchmarks
{
    private const int EventsPerSet = 2_500;

    private Experiment _experiment = null!;
    private Dictionary<string, long> _exposures = null!;
    private Dictionary<string, MetricAggregate> _aggregates = null!;

    [Params(10_000, 1_000_000)]
    public int TotalEvents { get; set; }

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

        // Each variant's 2,500 events, repeated up to its share of the total, drawn with these conversion and error
        // rates (observed: conversion 11.1%, 13.1%, 12.1%): at 10,000 events nothing is significant yet, at 1,000,000
        // the friendly variant wins and the decision is to complete.
        (double Conversion, double Errors)[] rates = [(0.12, 0.02), (0.13, 0.02), (0.12, 0.025)];
        _aggregates = variants.Select((variant, i) => (variant.Id, Aggregate: BenchmarkEvents.Aggregate(
                BenchmarkEvents.Create(EventsPerSet, seed: 10 + i, rates[i].Conversion, rates[i].Errors),
                TotalEvents * (long)variant.Weight / 100)))
            .ToDictionary(v => v.Id, v => v.Aggregate);
        _exposures = _aggregates.ToDictionary(a => a.Key, a => a.Value.Count);
    }

    [Benchmark(Baseline = true)]
    public ExperimentResults Analyze() => ExperimentAnalyzer.Analyze(_experiment, _exposures, _aggregates);
}
