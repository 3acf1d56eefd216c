using PromptVault.Core.Metrics;

namespace PromptVault.Storage;

/// <summary>
/// A batch's events folded into the rows of <c>metric_rollups</c> they count in, so that each row is read and written once
/// per batch.
/// </summary>
internal sealed class MetricRollups
{
    public Dictionary<RollupKey, MetricAggregate> Rows { get; } = [];

    /// <summary>Counts the event in its version's hour row and its all-time row (experiments analyse units, not these rows).</summary>
    public void Add(MetricEvent metricEvent)
    {
        AddTo(new RollupKey(metricEvent.VersionId, MetricPeriods.HourOf(metricEvent.Timestamp).ToUnixTimeSeconds()), metricEvent);
        AddTo(new RollupKey(metricEvent.VersionId, ExperimentStatements.AllTime), metricEvent);
    }

    private void AddTo(RollupKey key, MetricEvent metricEvent)
    {
        if (!Rows.TryGetValue(key, out var aggregate))
            Rows.Add(key, aggregate = new MetricAggregate());
        aggregate.Add(metricEvent);
    }
}

/// <summary>The key of one row of <c>metric_rollups</c> (a version's; its <c>hour</c> is <see cref="ExperimentStatements.AllTime"/> for all time).</summary>
internal readonly record struct RollupKey(string VersionId, long Hour);
