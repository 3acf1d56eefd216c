using PromptVault.Core.Metrics;

namespace PromptVault.Benchmarks;

/// <summary>
/// Realistic metric events for the aggregate and results benchmarks, the same on every run (a fixed seed): log-normal
/// latency around 800 ms, a few hundred to a few thousand tokens priced at $3/$15 per million, a quality score on a
/// third of the events, user feedback on one in twenty, <c>converted</c> on every event, and an error on about 2%.
/// </summary>
internal static class BenchmarkEvents
{
    public static MetricEvent[] Create(int count, int seed, double conversionRate = 0.12, double errorRate = 0.02)
    {
        var random = new Random(seed);
        var events = new MetricEvent[count];
        for (var i = 0; i < count; i++)
        {
            var latencyMs = Math.Exp(Math.Log(800) + 0.5 * Normal(random));
            long inputTokens = random.Next(200, 2_000);
            long outputTokens = random.Next(50, 800);
            var cost = (inputTokens * 3.0 + outputTokens * 15.0) / 1_000_000;
            double? quality = random.NextDouble() < 1.0 / 3 ? Math.Round(random.NextDouble(), 2) : null;
            double? feedback = random.NextDouble() < 0.05 ? random.Next(1, 6) : null;
            var error = random.NextDouble() < errorRate ? "timeout" : null;
            events[i] = new MetricEvent(null, "version-1", "experiment-1", "variant-1", $"user-{i}", DateTimeOffset.UnixEpoch,
                latencyMs, inputTokens, outputTokens, cost, quality, feedback, random.NextDouble() < conversionRate, error, null);
        }
        return events;
    }

    /// <summary>An aggregate of <paramref name="count"/> events: <paramref name="events"/> added once, then merged into
    /// itself as many times as needed (<paramref name="count"/> must be a multiple of their number).</summary>
    public static MetricAggregate Aggregate(MetricEvent[] events, long count)
    {
        if (count % events.Length != 0)
            throw new ArgumentException($"{count} is not a multiple of {events.Length}.", nameof(count));
        var unit = new MetricAggregate();
        foreach (var metricEvent in events)
            unit.Add(metricEvent);
        var aggregate = new MetricAggregate();
        for (long i = 0; i < count / events.Length; i++)
            aggregate.Merge(unit);
        return aggregate;
    }

    // Box–Muller: one standard normal value from two uniform ones.
    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
