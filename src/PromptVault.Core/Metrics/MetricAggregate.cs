namespace PromptVault.Core.Metrics;

/// <summary>
/// The running totals of a set of metric events: counts, sums, sums of squares and a latency histogram.
/// Adding an event and merging two aggregates cost the same whatever the number of events, so a version's or a
/// variant's figures for any period come from a bounded number of these (one per hour) and never from raw events.
/// Not thread-safe.
/// </summary>
public sealed class MetricAggregate
{
    public long Count { get; private set; }
    public long Errors { get; private set; }

    /// <summary>Events with <c>converted: true</c> out of the events that carry <c>converted</c>.</summary>
    public long Conversions { get; private set; }

    public long ConversionTrials { get; private set; }
    public Moments LatencyMs { get; private set; }
    public Moments InputTokens { get; private set; }
    public Moments OutputTokens { get; private set; }
    public Moments Cost { get; private set; }
    public Moments QualityScore { get; private set; }
    public Moments UserFeedback { get; private set; }
    public LatencyHistogram Latencies { get; } = new();

    /// <summary>An aggregate holding the given totals and an empty histogram: how <see cref="MetricAggregateCodec"/> restores a stored one.</summary>
    internal static MetricAggregate Restore(long count, long errors, long conversions, long conversionTrials, Moments latencyMs,
        Moments inputTokens, Moments outputTokens, Moments cost, Moments qualityScore, Moments userFeedback) => new()
    {
        Count = count, Errors = errors, Conversions = conversions, ConversionTrials = conversionTrials, LatencyMs = latencyMs,
        InputTokens = inputTokens, OutputTokens = outputTokens, Cost = cost, QualityScore = qualityScore, UserFeedback = userFeedback,
    };

    public void Add(MetricEvent metricEvent)
    {
        Count++;
        if (metricEvent.Error is not null)
            Errors++;
        if (metricEvent.Converted is { } converted)
        {
            ConversionTrials++;
            if (converted)
                Conversions++;
        }
        if (metricEvent.LatencyMs is { } latency)
        {
            LatencyMs = LatencyMs.Add(latency);
            Latencies.Add(latency);
        }
        if (metricEvent.InputTokens is { } input)
            InputTokens = InputTokens.Add(input);
        if (metricEvent.OutputTokens is { } output)
            OutputTokens = OutputTokens.Add(output);
        if (metricEvent.Cost is { } cost)
            Cost = Cost.Add(cost);
        if (metricEvent.QualityScore is { } quality)
            QualityScore = QualityScore.Add(quality);
        if (metricEvent.UserFeedback is { } feedback)
            UserFeedback = UserFeedback.Add(feedback);
    }

    public void Merge(MetricAggregate other)
    {
        Count += other.Count;
        Errors += other.Errors;
        Conversions += other.Conversions;
        ConversionTrials += other.ConversionTrials;
        LatencyMs += other.LatencyMs;
        InputTokens += other.InputTokens;
        OutputTokens += other.OutputTokens;
        Cost += other.Cost;
        QualityScore += other.QualityScore;
        UserFeedback += other.UserFeedback;
        Latencies.Merge(other.Latencies);
    }

    /// <summary>The observations behind an experiment metric: the rate's 0/1 values, or the mean's values.</summary>
    public Moments MomentsOf(MetricName metric) => metric switch
    {
        MetricName.ConversionRate => Moments.OfRate(Conversions, ConversionTrials),
        MetricName.ErrorRate => Moments.OfRate(Errors, Count),
        MetricName.AvgLatencyMs => LatencyMs,
        MetricName.AvgCost => Cost,
        MetricName.AvgQualityScore => QualityScore,
        MetricName.AvgUserFeedback => UserFeedback,
        _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, null),
    };
}
