using BenchmarkDotNet.Attributes;
using PromptVault.Core.Analysis;
using PromptVault.Core.Metrics;

namespace PromptVault.Benchmarks;

/// <summary>
/// The in-memory work of recording one event for an exposed unit (SPEC §3): add it to the unit's sums, then replace
/// the unit's old sums by the new ones in its variant's statistics, which already hold <see cref="Units"/> units.
/// <see cref="AddAndReplaceStored"/> also decodes the unit's stored sums and encodes the new ones, as the store does for
/// each unit of a batch (the variant's row is decoded and encoded once per batch, not per event).
/// Both should cost the same at any number of units.
/// </summary>
/// <remarks>
/// Each invocation records 2,000 events, each for one of 1,000 units (whose sums keep growing over the run), into the
/// variant statistics as the setup left them (an immutable record, built once by replacing <see cref="Units"/> units),
/// so every invocation starts at exactly <see cref="Units"/> units.
/// </remarks>
[MemoryDiagnoser]
[MedianColumn]
public class UnitRecordingBenchmarks
{
    private const int EventsPerInvocation = 2_000;
    private const int RecordedUnits = 1_000;

    private MetricEvent[] _events = null!;
    private UnitSums[] _sums = null!;
    private byte[][] _stored = null!;
    private VariantUnitStats _held = null!;

    [Params(10_000, 10_000_000)]
    public int Units { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _events = BenchmarkEvents.Create(EventsPerInvocation, seed: 1);
        var history = BenchmarkEvents.Create(4 * RecordedUnits, seed: 2);
        _sums = new UnitSums[RecordedUnits];
        for (var i = 0; i < history.Length; i++)
            _sums[i % RecordedUnits] = _sums[i % RecordedUnits].Add(history[i]);
        _stored = _sums.Select(UnitStatisticsCodec.Encode).ToArray();

        // The held units: the recorded ones, and as many more as needed, each like one of them.
        var stats = new VariantUnitStats();
        for (var unit = 0; unit < Units; unit++)
            stats = stats.Replace(default, _sums[unit % RecordedUnits]);
        _held = stats;
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = EventsPerInvocation)]
    public long AddAndReplace()
    {
        var stats = _held;
        for (var i = 0; i < _events.Length; i++)
        {
            ref var unit = ref _sums[i % RecordedUnits];
            var after = unit.Add(_events[i]);
            stats = stats.Replace(unit, after);
            unit = after;
        }
        return stats.ConvertedUnits;
    }

    [Benchmark(OperationsPerInvoke = EventsPerInvocation)]
    public long AddAndReplaceStored()
    {
        var stats = _held;
        for (var i = 0; i < _events.Length; i++)
        {
            ref var blob = ref _stored[i % RecordedUnits];
            var before = UnitStatisticsCodec.DecodeUnitSums(blob);
            var after = before.Add(_events[i]);
            blob = UnitStatisticsCodec.Encode(after);
            stats = stats.Replace(before, after);
        }
        return stats.ConvertedUnits;
    }
}
