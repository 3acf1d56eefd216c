using System.Text.Json.Serialization;

namespace PromptVault.Core.Metrics;

/// <summary>
/// The period of a version's metrics (<c>?period=hour|day|week|all</c>). Periods are whole UTC hours, because aggregates
/// are kept per hour: <see cref="Hour"/> is the current clock hour so far, <see cref="Day"/> the last 24 hours and
/// <see cref="Week"/> the last 168, each counting the current hour; <see cref="All"/> is all time.
/// </summary>
public enum MetricPeriod
{
    [JsonStringEnumMemberName("hour")] Hour,
    [JsonStringEnumMemberName("day")] Day,
    [JsonStringEnumMemberName("week")] Week,
    [JsonStringEnumMemberName("all")] All,
}

public static class MetricPeriods
{
    /// <summary>How many hours a period's series has; <see cref="MetricPeriod.All"/> shows the last week's.</summary>
    public static int SeriesHours(this MetricPeriod period) => period switch
    {
        MetricPeriod.Hour => 1,
        MetricPeriod.Day => 24,
        MetricPeriod.Week or MetricPeriod.All => 168,
        _ => throw new ArgumentOutOfRangeException(nameof(period), period, null),
    };

    /// <summary>The start of the oldest hour in the period's series at <paramref name="now"/>: where to read hourly aggregates from.</summary>
    public static DateTimeOffset FirstHour(this MetricPeriod period, DateTimeOffset now) =>
        HourOf(now).AddHours(1 - period.SeriesHours());

    /// <summary>The start (UTC) of the hour <paramref name="time"/> falls in: the bucket an event at that time is counted in.</summary>
    public static DateTimeOffset HourOf(DateTimeOffset time)
    {
        var ticks = time.UtcTicks;
        return new DateTimeOffset(ticks - ticks % TimeSpan.TicksPerHour, TimeSpan.Zero);
    }
}
