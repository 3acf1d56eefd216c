using PromptVault.Core.Contracts;
using PromptVault.Core.Metrics;
using PromptVault.Core.Storage;

namespace PromptVault.Core.Tests.Metrics;

public sealed class VersionMetricsBuilderTests
{
    private static readonly DateTimeOffset Now = new(2025, 6, 1, 12, 40, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset ThisHour = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private static MetricEvent Event(
        double? latencyMs = null, long? inputTokens = null, double? cost = null, double? quality = null, double? feedback = null,
        bool? converted = null, string? error = null) =>
        new(null, "v1", null, null, null, Now, latencyMs, inputTokens, null, cost, quality, feedback, converted, error, null);

    private static MetricAggregate Aggregate(params MetricEvent[] events)
    {
        var aggregate = new MetricAggregate();
        foreach (var metricEvent in events)
            aggregate.Add(metricEvent);
        return aggregate;
    }

    private static HourlyAggregate Hour(int hoursAgo, params MetricEvent[] events) => new(ThisHour.AddHours(-hoursAgo), Aggregate(events));

    private static VersionMetricsResponse Build(MetricPeriod period, IReadOnlyList<HourlyAggregate> hours, MetricAggregate? allTime = null) =>
        VersionMetricsBuilder.Build("customer-support", "1.0.2", "v1", period, hours, allTime, Now);

    [Fact]
    public void Build_NoData_CountsZeroAndEveryFigureNull()
    {
        var hours = Array.Empty<HourlyAggregate>();

        var summary = Build(MetricPeriod.Day, hours).Summary;

        Assert.Equal(new MetricsSummary(0, 0, null, 0, 0, null, new LatencySummary(0, null, null, null, null),
            new AmountSummary(0, null, null), new AmountSummary(0, null, null), new AmountSummary(0, null, null),
            new ScoreSummary(0, null), new ScoreSummary(0, null)), summary);
    }

    [Fact]
    public void Build_OneHour_HandComputedFigures()
    {
        var hours = new[]
        {
            Hour(0,
                Event(latencyMs: 100, inputTokens: 10, cost: 0.01, quality: 0.5, feedback: 1, converted: true),
                Event(latencyMs: 200, inputTokens: 20, cost: 0.03, quality: 1.0, feedback: 0, converted: false),
                Event(latencyMs: 300, inputTokens: 30, feedback: 1, error: "timeout"),
                Event(latencyMs: 400, feedback: 1, converted: true)),
        };

        var summary = Build(MetricPeriod.Hour, hours).Summary;

        Assert.Equal((4L, 1L, 0.25), (summary.Count, summary.Errors, summary.ErrorRate));
        Assert.Equal((2L, 3L), (summary.Conversions, summary.ConversionTrials));
        Assert.Equal(2.0 / 3, summary.ConversionRate!.Value, 12);
        Assert.Equal((4L, 250.0), (summary.LatencyMs.N, summary.LatencyMs.Mean));
        // Nearest rank ⌈q·n⌉ over 4 values: p50 is the 2nd (200), p95 and p99 the 4th (400); buckets are within 1%.
        Assert.Equal(200, summary.LatencyMs.P50!.Value, 200 * 0.01);
        Assert.Equal(400, summary.LatencyMs.P95!.Value, 400 * 0.01);
        Assert.Equal(400, summary.LatencyMs.P99!.Value, 400 * 0.01);
        Assert.Equal(new AmountSummary(3, 20, 60), summary.InputTokens);
        Assert.Equal(new AmountSummary(0, null, null), summary.OutputTokens);
        Assert.Equal((2L, 0.02, 0.04), (summary.Cost.N, Math.Round(summary.Cost.Mean!.Value, 12), Math.Round(summary.Cost.Total!.Value, 12)));
        Assert.Equal(new ScoreSummary(2, 0.75), summary.QualityScore);
        Assert.Equal(new ScoreSummary(4, 0.75), summary.UserFeedback);
    }

    [Fact]
    public void Build_Day_MergesHoursIntoSummaryAndKeepsEachInTheSeries()
    {
        var hours = new[]
        {
            Hour(3, Event(latencyMs: 100), Event(latencyMs: 100)),
            Hour(0, Event(latencyMs: 400, error: "rate_limit")),
        };

        var response = Build(MetricPeriod.Day, hours);

        Assert.Equal((3L, 200.0), (response.Summary.Count, response.Summary.LatencyMs.Mean));
        Assert.Equal(1.0 / 3, response.Summary.ErrorRate!.Value, 12);
        Assert.Equal(24, response.Series.Count);
        Assert.Equal(Enumerable.Range(0, 24).Select(i => ThisHour.AddHours(i - 23)), response.Series.Select(h => h.HourStart));
        Assert.Equal(2, response.Series[20].Summary.Count);
        Assert.Equal((1L, 1.0), (response.Series[23].Summary.Count, response.Series[23].Summary.ErrorRate));
        Assert.Equal(3, response.Series.Sum(h => h.Summary.Count));
    }

    [Fact]
    public void Build_Day_FromIsFirstHourAndToIsNow()
    {
        var hours = Array.Empty<HourlyAggregate>();

        var response = Build(MetricPeriod.Day, hours);

        Assert.Equal(("customer-support", "1.0.2", "v1", MetricPeriod.Day), (response.PromptName, response.Version, response.VersionId, response.Period));
        Assert.Equal((ThisHour.AddHours(-23), Now), (response.From, response.To));
    }

    [Fact]
    public void Build_HoursOutsideThePeriod_Ignored()
    {
        var hours = new[] { Hour(24, Event(latencyMs: 1)), Hour(23, Event(latencyMs: 2)), Hour(-1, Event(latencyMs: 3)) };

        var response = Build(MetricPeriod.Day, hours);

        Assert.Equal((1L, 2.0), (response.Summary.Count, response.Summary.LatencyMs.Mean));
    }

    [Fact]
    public void Build_Hour_OnlyTheCurrentClockHour()
    {
        var hours = new[] { Hour(1, Event(latencyMs: 1)), Hour(0, Event(latencyMs: 5), Event(latencyMs: 7)) };

        var response = Build(MetricPeriod.Hour, hours);

        Assert.Equal((ThisHour, 2L, 6.0), (response.From, response.Summary.Count, response.Summary.LatencyMs.Mean));
        Assert.Equal([ThisHour], response.Series.Select(h => h.HourStart));
    }

    [Fact]
    public void Build_Week_Covers168Hours()
    {
        var hours = new[] { Hour(168, Event(cost: 1)), Hour(167, Event(cost: 2)), Hour(100, Event(cost: 4)) };

        var response = Build(MetricPeriod.Week, hours);

        Assert.Equal(168, response.Series.Count);
        Assert.Equal(ThisHour.AddHours(-167), response.From);
        Assert.Equal(new AmountSummary(2, 3, 6), response.Summary.Cost);
    }

    [Fact]
    public void Build_All_SummaryIsAllTimeAndSeriesTheLastWeek()
    {
        var hours = new[] { Hour(2, Event(latencyMs: 10)) };
        var allTime = Aggregate(Event(latencyMs: 10), Event(latencyMs: 30), Event(latencyMs: 50));

        var response = Build(MetricPeriod.All, hours, allTime);

        Assert.Null(response.From);
        Assert.Equal((3L, 30.0), (response.Summary.Count, response.Summary.LatencyMs.Mean));
        Assert.Equal(168, response.Series.Count);
        Assert.Equal(1, response.Series[165].Summary.Count);
    }

    [Fact]
    public void Build_AllWithoutAllTimeAggregate_Throws()
    {
        var hours = Array.Empty<HourlyAggregate>();

        Assert.Throws<ArgumentNullException>(() => Build(MetricPeriod.All, hours, allTime: null));
    }

    /// <summary>The lower rank ⌊q·(n − 1)⌋ reported two calls of 640 and 820 ms as p95 and p99 ≈ 642: a p99 below half the calls.</summary>
    [Fact]
    public void Build_TwoLatencies_P95AndP99AreTheSlowerOne()
    {
        var hours = new[] { Hour(0, Event(latencyMs: 640), Event(latencyMs: 820)) };

        var latency = Build(MetricPeriod.Hour, hours).Summary.LatencyMs;

        Assert.Equal(640, latency.P50!.Value, 640 * 0.01);
        Assert.Equal(820, latency.P95!.Value, 820 * 0.01);
        Assert.Equal(820, latency.P99!.Value, 820 * 0.01);
    }

    [Fact]
    public void Build_Percentiles_WithinOnePercentOfHandComputedRanks()
    {
        var hours = new[] { Hour(0, Enumerable.Range(1, 100).Select(i => Event(latencyMs: i)).ToArray()) };

        var latency = Build(MetricPeriod.Hour, hours).Summary.LatencyMs;

        // Ranks ⌈q·n⌉ of 1..100: 50, 95 and 99, that is the values 50, 95 and 99.
        Assert.Equal(50.5, latency.Mean);
        Assert.Equal(50, latency.P50!.Value, 50 * 0.01);
        Assert.Equal(95, latency.P95!.Value, 95 * 0.01);
        Assert.Equal(99, latency.P99!.Value, 99 * 0.01);
    }

    [Fact]
    public void Build_PercentilesAcrossHours_FromTheMergedHistogram()
    {
        var hours = new[]
        {
            Hour(5, Enumerable.Range(1, 90).Select(_ => Event(latencyMs: 100)).ToArray()),
            Hour(1, Enumerable.Range(1, 10).Select(_ => Event(latencyMs: 1_000)).ToArray()),
        };

        var latency = Build(MetricPeriod.Day, hours).Summary.LatencyMs;

        // 90 values of 100 then 10 of 1,000: ranks 50, 95 and 99 fall at 100, 1,000 and 1,000.
        Assert.Equal(190, latency.Mean!.Value, 12);
        Assert.Equal(100, latency.P50!.Value, 100 * 0.01);
        Assert.Equal(1_000, latency.P95!.Value, 1_000 * 0.01);
        Assert.Equal(1_000, latency.P99!.Value, 1_000 * 0.01);
    }

    [Fact]
    public void Build_SameHourTwice_MergedWithoutChangingInputs()
    {
        var first = Hour(0, Event(latencyMs: 10));
        var second = Hour(0, Event(latencyMs: 20), Event(latencyMs: 30));

        var response = Build(MetricPeriod.Hour, [first, second]);

        Assert.Equal((3L, 20.0), (response.Summary.Count, response.Summary.LatencyMs.Mean));
        Assert.Equal((1L, 2L), (first.Aggregate.Count, second.Aggregate.Count));
    }

    [Fact]
    public void Build_EmptyHoursInSeries_NullFiguresNotNaN()
    {
        var hours = new[] { Hour(0, Event(latencyMs: 10)) };

        var empty = Build(MetricPeriod.Day, hours).Series[0].Summary;

        Assert.Equal((0L, null, null, null, null), (empty.Count, empty.ErrorRate, empty.ConversionRate, empty.LatencyMs.P99, empty.Cost.Total));
    }
}
