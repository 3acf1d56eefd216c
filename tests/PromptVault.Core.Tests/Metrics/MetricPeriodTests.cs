using PromptVault.Core.Metrics;

namespace PromptVault.Core.Tests.Metrics;

public sealed class MetricPeriodTests
{
    private static readonly DateTimeOffset Now = new(2025, 6, 1, 12, 40, 15, TimeSpan.Zero);

    [Theory]
    [InlineData(MetricPeriod.Hour, 1, "2025-06-01T12:00:00+00:00")]
    [InlineData(MetricPeriod.Day, 24, "2025-05-31T13:00:00+00:00")]
    [InlineData(MetricPeriod.Week, 168, "2025-05-25T13:00:00+00:00")]
    [InlineData(MetricPeriod.All, 168, "2025-05-25T13:00:00+00:00")]
    public void FirstHour_CountsTheCurrentHourAsTheLast(MetricPeriod period, int hours, string firstHour)
    {
        var (seriesHours, first) = (period.SeriesHours(), period.FirstHour(Now));

        Assert.Equal(hours, seriesHours);
        Assert.Equal(DateTimeOffset.Parse(firstHour, System.Globalization.CultureInfo.InvariantCulture), first);
    }

    [Fact]
    public void HourOf_OtherOffset_StartOfTheUtcHour()
    {
        var time = new DateTimeOffset(2025, 6, 1, 14, 59, 59, TimeSpan.FromHours(2)).AddTicks(9_999_999);

        var hour = MetricPeriods.HourOf(time);

        Assert.Equal(new DateTimeOffset(2025, 6, 1, 12, 0, 0, TimeSpan.Zero), hour);
        Assert.Equal(TimeSpan.Zero, hour.Offset);
    }

    [Theory]
    [InlineData("hour", MetricPeriod.Hour)]
    [InlineData("Day", MetricPeriod.Day)]
    [InlineData("WEEK", MetricPeriod.Week)]
    [InlineData("all", MetricPeriod.All)]
    public void WireName_ParsesIgnoringCase(string text, MetricPeriod expected)
    {
        var parsed = Names.TryParse<MetricPeriod>(text, out var period);

        Assert.True(parsed);
        Assert.Equal(expected, period);
    }
}
