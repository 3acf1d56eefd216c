using System.Text.Json.Serialization;

namespace PromptVault.Core.Metrics;

/// <summary>The metrics an experiment can target or guard (SPEC §3); the wire names are camelCase.</summary>
public enum MetricName
{
    [JsonStringEnumMemberName("conversionRate")] ConversionRate,
    [JsonStringEnumMemberName("avgQualityScore")] AvgQualityScore,
    [JsonStringEnumMemberName("avgUserFeedback")] AvgUserFeedback,
    [JsonStringEnumMemberName("avgLatencyMs")] AvgLatencyMs,
    [JsonStringEnumMemberName("avgCost")] AvgCost,
    [JsonStringEnumMemberName("errorRate")] ErrorRate,
}

public static class MetricNames
{
    /// <summary>Every metric, in the order results list them.</summary>
    public static IReadOnlyList<MetricName> All { get; } = Enum.GetValues<MetricName>();

    /// <summary>Latency, cost and error rate improve downwards.</summary>
    public static bool LowerIsBetter(this MetricName metric) =>
        metric is MetricName.AvgLatencyMs or MetricName.AvgCost or MetricName.ErrorRate;

    /// <summary>A proportion of events (z-test), as opposed to a mean of a value (Welch's t-test).</summary>
    public static bool IsRate(this MetricName metric) => metric is MetricName.ConversionRate or MetricName.ErrorRate;
}
