using PromptVault.Core.Metrics;

namespace PromptVault.Storage.Testing;

/// <summary>Compares every field of two aggregates: counts and histogram buckets exactly, sums to 12 significant digits
/// (a store adds a batch's sum to its stored sum, so the additions may come in another order than in memory).</summary>
public static class AggregateAssert
{
    public static void Equal(MetricAggregate expected, MetricAggregate actual)
    {
        Assert.Equal((expected.Count, expected.Errors, expected.Conversions, expected.ConversionTrials),
            (actual.Count, actual.Errors, actual.Conversions, actual.ConversionTrials));
        Equal(expected.LatencyMs, actual.LatencyMs);
        Equal(expected.InputTokens, actual.InputTokens);
        Equal(expected.OutputTokens, actual.OutputTokens);
        Equal(expected.Cost, actual.Cost);
        Equal(expected.QualityScore, actual.QualityScore);
        Equal(expected.UserFeedback, actual.UserFeedback);
        Assert.Equal(expected.Latencies.Count, actual.Latencies.Count);
        Assert.Equal(expected.Latencies.NonEmptyBuckets(), actual.Latencies.NonEmptyBuckets());
    }

    private static void Equal(Moments expected, Moments actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        Close(expected.Sum, actual.Sum);
        Close(expected.SumOfSquares, actual.SumOfSquares);
    }

    private static void Close(double expected, double actual) =>
        Assert.True(Math.Abs(expected - actual) <= 1e-12 * Math.Max(1, Math.Abs(expected)), $"expected {expected:R}, got {actual:R}");
}
