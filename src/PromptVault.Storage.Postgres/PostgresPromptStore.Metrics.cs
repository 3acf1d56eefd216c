using PromptVault.Core.Analysis;
using PromptVault.Core.Metrics;
using PromptVault.Core.Storage;

namespace PromptVault.Storage.Postgres;

// Skeleton: pg-b implements these (issue 12).
public sealed partial class PostgresPromptStore : IMetricStore, IAsyncDisposable
{
    public Task<MetricRecordResult> RecordEventsAsync(IReadOnlyList<MetricEvent> events, Func<MetricRecordResult, IdempotencyRecord>? idempotency,
        CancellationToken cancellationToken = default) => throw new NotImplementedException();

    public Task<IReadOnlyList<HourlyAggregate>> ReadVersionHoursAsync(string versionId, DateTimeOffset fromHour, CancellationToken cancellationToken = default) =>
        throw new NotImplementedException();

    public Task<MetricAggregate> ReadVersionTotalAsync(string versionId, CancellationToken cancellationToken = default) => throw new NotImplementedException();

    public Task<IReadOnlyDictionary<string, VariantUnitStats>> ReadVariantUnitStatsAsync(string experimentId, CancellationToken cancellationToken = default) =>
        throw new NotImplementedException();

    /// <summary>Commits the queued writes, then stops taking new ones (pg-b: the exposure and event batch writer).</summary>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
