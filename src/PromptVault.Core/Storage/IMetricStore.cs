using PromptVault.Core.Analysis;
using PromptVault.Core.Metrics;

namespace PromptVault.Core.Storage;

/// <summary>
/// Durable metric events and their aggregates. Recording a batch stores its raw events and folds them into hourly and
/// all-time aggregates, and into the unit-level statistics of the experiments they name, in one transaction; reads touch
/// aggregates only, so they cost the same at any number of events and units.
/// </summary>
public interface IMetricStore
{
    /// <summary>Stores the events and updates the aggregates, all or nothing. Events whose <c>Id</c> is already stored
    /// (or repeated within the batch) are skipped and reported, not counted again.</summary>
    /// <remarks>
    /// An event naming an experiment's variant (SPEC §3) is added to its unit's <see cref="UnitSums"/> for that variant when
    /// it has a unit id; when the unit's exposure in the experiment is to that variant, the variant's
    /// <see cref="VariantUnitStats"/> take the unit's new sums, otherwise the event counts as unattributed for the variant
    /// it named (so does every event without a unit id). The cost per event is a few keyed lookups, whatever the number of
    /// units.
    /// </remarks>
    /// <exception cref="NotFoundException">An event names a version (<c>version_not_found</c>) or experiment
    /// (<c>experiment_not_found</c>) that does not exist; nothing of the batch is stored.</exception>
    Task<MetricRecordResult> RecordEventsAsync(IReadOnlyList<MetricEvent> events, CancellationToken cancellationToken = default) =>
        RecordEventsAsync(events, null, cancellationToken);

    /// <summary>The same, also storing in the same transaction the record <paramref name="idempotency"/> makes of the result,
    /// when given (see <see cref="IIdempotencyStore"/>).</summary>
    /// <exception cref="ConcurrentWriteException">The record's key is stored already; nothing of the batch is stored.</exception>
    Task<MetricRecordResult> RecordEventsAsync(IReadOnlyList<MetricEvent> events, Func<MetricRecordResult, IdempotencyRecord>? idempotency,
        CancellationToken cancellationToken = default);

    /// <summary>The version's aggregate per hour from <paramref name="fromHour"/> on (hours without events are absent), oldest first;
    /// the hour that holds <paramref name="fromHour"/> is included.</summary>
    Task<IReadOnlyList<HourlyAggregate>> ReadVersionHoursAsync(string versionId, DateTimeOffset fromHour, CancellationToken cancellationToken = default);

    /// <summary>The version's aggregate over all time (empty when it has no events).</summary>
    Task<MetricAggregate> ReadVersionTotalAsync(string versionId, CancellationToken cancellationToken = default);

    /// <summary>Each variant's unit-level statistics for an experiment, by variant id (variants that no event named are absent).</summary>
    Task<IReadOnlyDictionary<string, VariantUnitStats>> ReadVariantUnitStatsAsync(string experimentId, CancellationToken cancellationToken = default);
}

/// <param name="Stored">Events newly stored and counted.</param>
/// <param name="DuplicateIds">Ids of events skipped because they were already stored.</param>
public sealed record MetricRecordResult(int Stored, IReadOnlyList<string> DuplicateIds);

/// <summary>The aggregate of the hour starting at <paramref name="HourStart"/> (UTC, whole hour).</summary>
public sealed record HourlyAggregate(DateTimeOffset HourStart, MetricAggregate Aggregate);
