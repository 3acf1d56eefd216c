namespace PromptVault.Core.Storage;

/// <summary>
/// The answers of writes sent with an <c>Idempotency-Key</c>. A record is written by the store method that makes the write
/// (<see cref="PromptChanges.Idempotency"/>, <see cref="IMetricStore.RecordEventsAsync(IReadOnlyList{Metrics.MetricEvent}, Func{MetricRecordResult, IdempotencyRecord}?, CancellationToken)"/>),
/// in the same transaction, so a write and its record are never separated by a crash.
/// </summary>
public interface IIdempotencyStore
{
    /// <summary>The record of <paramref name="owner"/>'s <paramref name="key"/>, unless it expired at or before <paramref name="now"/>.</summary>
    Task<IdempotencyRecord?> FindIdempotencyRecordAsync(string owner, string key, DateTimeOffset now, CancellationToken cancellationToken = default);
}

/// <summary>A keyed write's answer. Storing one also deletes the records that expired by its <paramref name="CreatedAt"/>.</summary>
/// <param name="Owner">Who sent the key (the API key's id): keys of different owners never meet.</param>
/// <param name="Key">The <c>Idempotency-Key</c> header's value.</param>
/// <param name="RequestHash">What was asked (operation, target, body), to refuse the key's reuse for another request.</param>
/// <param name="Response">The answer's JSON, returned again to a retry.</param>
/// <remarks>Storing a record whose owner and key are already stored (and not expired) fails with <see cref="ConcurrentWriteException"/>,
/// and the write it guards with it.</remarks>
public sealed record IdempotencyRecord(string Owner, string Key, string RequestHash, string Response, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt);
