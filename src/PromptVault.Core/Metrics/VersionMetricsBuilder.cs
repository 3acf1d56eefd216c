using PromptVault.Core.Contracts;
using PromptVault.Core.Storage;

namespace PromptVault.Core.Metrics;

/// <summary>
/// A version's metrics for a period (<see cref="VersionMetricsResponse"/>) from its hourly and all-time aggregates:
/// at most 168 hours are merged, whatever the number of events. Inputs are never changed.
/// </summary>
public static class VersionMetricsBuilder
{
    private static readonly MetricsSummary NoEvents = Summarize(new MetricAggregate());

    /// <param name="hours">The version's hourly aggregates from <see cref="MetricPeriods.FirstHour"/> on; hours outside the
    /// period's series are ignored.</param>
    /// <param name="allTime">The version's all-time aggregate: the summary of <see cref="MetricPeriod.All"/>, unused otherwise.</param>
    /// <param name="now">The time of the request; its hour is the last of the series.</param>
    /// <exception cref="ArgumentNullException"><paramref name="allTime"/> is null for <see cref="MetricPeriod.All"/>.</exception>
    public static VersionMetricsResponse Build(
        string promptName,
        string version,
        string versionId,
        MetricPeriod period,
        IReadOnlyList<HourlyAggregate> hours,
        MetricAggregate? allTime,
        DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(hours);
        if (period == MetricPeriod.All)
            ArgumentNullException.ThrowIfNull(allTime);

        var firstHour = period.FirstHour(now);
        var slots = new MetricAggregate?[period.SeriesHours()];
        foreach (var hour in hours)
        {
            var slot = (int)Math.Floor((hour.HourStart - firstHour).TotalHours);
            if (slot >= 0 && slot < slots.Length)
                slots[slot] = slots[slot] is { } earlier ? Merged([earlier, hour.Aggregate]) : hour.Aggregate;
        }

        var series = slots
            .Select((aggregate, i) => new HourlyMetrics(firstHour.AddHours(i), aggregate is null ? NoEvents : Summarize(aggregate)))
            .ToList();
        var total = period == MetricPeriod.All ? allTime! : Merged(slots.OfType<MetricAggregate>());
        return new VersionMetricsResponse(promptName, version, versionId, period,
            period == MetricPeriod.All ? null : firstHour, now, Summarize(total), series);
    }

    /// <summary>The figures of an aggregate; a rate, mean, total or percentile without data is null.</summary>
    public static MetricsSummary Summarize(MetricAggregate aggregate)
    {
        ArgumentNullException.ThrowIfNull(aggregate);
        var latencies = aggregate.Latencies;
        return new MetricsSummary(
            aggregate.Count,
            aggregate.Errors,
            Ratio(aggregate.Errors, aggregate.Count),
            aggregate.Conversions,
            aggregate.ConversionTrials,
            Ratio(aggregate.Conversions, aggregate.ConversionTrials),
            new LatencySummary(aggregate.LatencyMs.Count, MeanOf(aggregate.LatencyMs),
                Quantile(latencies, 0.50), Quantile(latencies, 0.95), Quantile(latencies, 0.99)),
            AmountOf(aggregate.InputTokens),
            AmountOf(aggregate.OutputTokens),
            AmountOf(aggregate.Cost),
            new ScoreSummary(aggregate.QualityScore.Count, MeanOf(aggregate.QualityScore)),
            new ScoreSummary(aggregate.UserFeedback.Count, MeanOf(aggregate.UserFeedback)));
    }

    private static MetricAggregate Merged(IEnumerable<MetricAggregate> aggregates)
    {
        var merged = new MetricAggregate();
        foreach (var aggregate in aggregates)
            merged.Merge(aggregate);
        return merged;
    }

    private static double? Ratio(long part, long whole) => whole == 0 ? null : (double)part / whole;

    private static double? MeanOf(Moments moments) => moments.Count == 0 ? null : moments.Mean;

    private static double? Quantile(LatencyHistogram histogram, double quantile) =>
        histogram.Count == 0 ? null : histogram.Quantile(quantile);

    private static AmountSummary AmountOf(Moments moments) =>
        new(moments.Count, MeanOf(moments), moments.Count == 0 ? null : moments.Sum);
}
