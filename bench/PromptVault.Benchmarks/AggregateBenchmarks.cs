using BenchmarkDotNet.Attributes;
using PromptVault.Core.Metrics;

namespace PromptVault.Benchmarks;

/// <summary>
/// Recording one metric event into an aggregate that already holds <see cref="HeldEvents"/> events, and merging two
/// aggregates (what a period read does once per hour of the period). Both should cost the same at any size.
/// </summary>
/// <remarks>
/// Each invocation of <see cref="Add"/> adds 2,000 events to its own copy of the held aggregate, made in the iteration
/// setup, so every batch starts at exactly <see cref="HeldEvents"/> events (and ends 2,000 later) however long the run.
/// The invocation count is fixed for that (one copy per invocation) and sized for iterations of about 100 ms; the
/// copies (11 KB each, 23 MB in all) fit in the benchmark machine's 32 MB L3 cache. <see cref="Merge"/> merges the
/// held aggregate into one period total, whose counts grow over an iteration: a merge costs the same at any count.
/// </remarks>
[MemoryDiagnoser]
[MedianColumn]
[InvocationCount(InvocationsPerIteration)]
public class AggregateBenchmarks
{
    private const int EventsPerInvocation = 2_000;
    private const int MergesPerInvocation = 64;
    private const int InvocationsPerIteration = 2_048;

    private MetricEvent[] _events = null!;
    private MetricAggregate _held = null!;
    private readonly MetricAggregate[] _copies = new MetricAggregate[InvocationsPerIteration];
    private int _next;
    private MetricAggregate _period = null!;

    [Params(10_000, 10_000_000)]
    public int HeldEvents { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _events = BenchmarkEvents.Create(EventsPerInvocation, seed: 1);
        _held = BenchmarkEvents.Aggregate(BenchmarkEvents.Create(10_000, seed: 2), HeldEvents);
    }

    [IterationSetup]
    public void CopyHeld()
    {
        for (var i = 0; i < _copies.Length; i++)
        {
            _copies[i] = new MetricAggregate();
            _copies[i].Merge(_held);
        }
        _next = 0;
        _period = new MetricAggregate();
        _period.Merge(_held);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = EventsPerInvocation)]
    public long Add()
    {
        var aggregate = _copies[_next++];
        foreach (var metricEvent in _events)
            aggregate.Add(metricEvent);
        return aggregate.Count;
    }

    [Benchmark(OperationsPerInvoke = MergesPerInvocation)]
    public long Merge()
    {
        for (var i = 0; i < MergesPerInvocation; i++)
            _period.Merge(_held);
        return _period.Count;
    }
}
