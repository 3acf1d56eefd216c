using System.Threading.Channels;
using Dapper;
using Npgsql;
using NpgsqlTypes;
using PromptVault.Core;
using PromptVault.Core.Metrics;
using PromptVault.Core.Storage;
using PromptVault.Storage;
using static PromptVault.Storage.StoredValues;

namespace PromptVault.Storage.Postgres;

// Aggregates under concurrent writers (several instances on one database): every write that changes a version's rollups
// or an experiment's exposures and unit statistics first takes a transaction-scoped lock per version and experiment it
// touches (FindOwnersAsync), all in one statement and in one global order, then reads, merges (Core's codecs, as on SQLite)
// and writes the rows. Writers of the same version or experiment take turns, others run side by side, and two writers
// never deadlock. ON CONFLICT arithmetic cannot merge the aggregates' blobs (histograms, shifted moments) without
// writing Core's statistics again in SQL, and serialisable transactions would abort and redo most batches under exactly
// this contention: every event of a version updates the same all-time row.
public sealed partial class PostgresPromptStore
{
    /// <summary>Tries of a write that lost a race it can only detect at the database (a deadlock, an event id stored meanwhile).</summary>
    private const int MaxWriteAttempts = 5;

    /// <summary>Metric batches that may wait for the writer; further requests wait for room.</summary>
    private const int MetricQueueCapacity = 1_024;

    /// <summary>Events above which a group takes no more batches (the batch that crosses it is the group's last).</summary>
    private const int MaxEventsPerGroup = 8_192;

    private readonly Channel<MetricBatchWrite> metricBatches = Channel.CreateBounded<MetricBatchWrite>(
        new BoundedChannelOptions(MetricQueueCapacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });
    private readonly int maxEventsPerGroup;
    private readonly Task metricWriter;
    private readonly IDisposable metricQueueObserver;
    private long committedMetricGroups;

    /// <summary>How many metric batches wait for the writer (not counting the group it is storing).</summary>
    internal int QueuedMetricBatches => metricBatches.Reader.Count;

    /// <summary>How many groups of metric batches the writer has committed (tests check how batches were grouped).</summary>
    internal long CommittedMetricGroups => Interlocked.Read(ref committedMetricGroups);

    private const string CopyEventsSql = """
        COPY metric_events (id, version_id, experiment_id, variant_id, unit_id, timestamp, latency_ms, input_tokens, output_tokens, cost,
            quality_score, user_feedback, converted, error, metadata) FROM STDIN (FORMAT BINARY)
        """;

    public override async Task<MetricRecordResult> RecordEventsAsync(IReadOnlyList<MetricEvent> events, Func<MetricRecordResult, IdempotencyRecord>? idempotency,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        // The render exposures queued before the batch are stored first, so its events find them (docs/reliability.md).
        await SettleExposuresAsync(cancellationToken);
        var write = new MetricBatchWrite(events, idempotency, cancellationToken);
        await metricBatches.Writer.WriteAsync(write, cancellationToken);
        return await write.Task;
    }

    /// <summary>
    /// The metric batches' writer: takes the queued batches up to <see cref="MaxEventsPerGroup"/> events and stores them in
    /// one transaction (one COPY of their events, one read and one write of each table of aggregates), then answers each.
    /// One writer per instance, so concurrent requests share a transaction instead of queueing for each other's locks.
    /// </summary>
    private async Task WriteMetricGroupsAsync()
    {
        var group = new List<MetricBatchWrite>();
        while (await metricBatches.Reader.WaitToReadAsync())
        {
            GroupedWrite<MetricGroup>.TakeGroup(metricBatches.Reader, maxEventsPerGroup, group);
            if (group.Count > 0)
                await CommitMetricGroupAsync(group);
            group.Clear();
        }
    }

    private async Task CommitMetricGroupAsync(List<MetricBatchWrite> group)
    {
        try
        {
            await WriteAggregatesAsync(async (connection, transaction) =>
            {
                var metricGroup = await MetricGroup.ReadAsync(connection, transaction, group.SelectMany(w => w.Events));
                foreach (var write in group)
                {
                    try
                    {
                        await write.ApplyAsync(metricGroup);
                    }
                    catch (Exception e) when (e is PromptVaultException or ConcurrentWriteException)
                    {
                        // Refused before it wrote anything (an unknown version, a key stored first): its neighbours go on.
                        write.Refuse(e);
                    }
                }
                await metricGroup.StoreAsync();
                return true;
            }, CancellationToken.None);
        }
        catch (Exception e)
        {
            foreach (var write in group)
                write.Fail(e);
            return;
        }
        Interlocked.Increment(ref committedMetricGroups);
        foreach (var write in group)
            write.Complete();
    }

    /// <summary>A queued metric batch, with its <c>Idempotency-Key</c> record; weighs its events.</summary>
    private sealed class MetricBatchWrite(IReadOnlyList<MetricEvent> events, Func<MetricRecordResult, IdempotencyRecord>? idempotency,
        CancellationToken cancellationToken)
        : GroupedWrite<MetricGroup, MetricRecordResult>(events.Count, 0, group => group.AddAsync(events, idempotency), cancellationToken)
    {
        public IReadOnlyList<MetricEvent> Events { get; } = events;
    }

    /// <summary>
    /// The batches of one group commit: each is checked against what the database held when the group began and the
    /// batches before it (<see cref="AddAsync"/>), then the accepted ones are stored together (<see cref="StoreAsync"/>).
    /// </summary>
    private sealed class MetricGroup(NpgsqlConnection connection, NpgsqlTransaction transaction, HashSet<string> versions, HashSet<string> experiments,
        HashSet<string> storedIds)
    {
        private readonly List<MetricEvent> accepted = [];

        /// <summary>Reads which of the events' versions and experiments exist, and which of their ids are stored already.</summary>
        public static async Task<MetricGroup> ReadAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IEnumerable<MetricEvent> events)
        {
            var all = events.ToList();
            var (versions, experiments) = await FindOwnersAsync(connection, transaction, all.Select(e => e.VersionId),
                all.Select(e => e.ExperimentId).OfType<string>(), lockThem: false, CancellationToken.None);
            var ids = all.Select(e => e.Id).OfType<string>().Distinct().ToArray();
            var storedIds = ids.Length == 0 ? [] : (await connection.QueryAsync<string>(Command(
                "SELECT id FROM metric_events WHERE id = ANY(@ids)", new { ids }, CancellationToken.None, transaction))).ToHashSet(StringComparer.Ordinal);
            return new MetricGroup(connection, transaction, versions, experiments, storedIds);
        }

        /// <summary>
        /// Accepts a batch: its events whose id is neither stored nor repeated earlier (in it or the group) are stored with the
        /// group, its <c>Idempotency-Key</c> record at once. A refused batch changes nothing.
        /// </summary>
        /// <exception cref="NotFoundException">An event's version or experiment does not exist.</exception>
        /// <exception cref="ConcurrentWriteException">Its idempotency key is stored already (by a request before it, here or elsewhere).</exception>
        public async Task<MetricRecordResult> AddAsync(IReadOnlyList<MetricEvent> events, Func<MetricRecordResult, IdempotencyRecord>? idempotency)
        {
            for (var index = 0; index < events.Count; index++)
            {
                var e = events[index];
                if (!versions.Contains(e.VersionId))
                    throw MetricBatchRefusals.VersionNotFound(index, e.VersionId);
                if (e.ExperimentId is { } experimentId && !experiments.Contains(experimentId))
                    throw MetricBatchRefusals.ExperimentNotFound(index, experimentId);
            }
            var batchIds = new HashSet<string>(StringComparer.Ordinal);
            var stored = new List<MetricEvent>(events.Count);
            var duplicateIds = new List<string>();
            foreach (var e in events)
            {
                if (e.Id is { } id && (storedIds.Contains(id) || !batchIds.Add(id)))
                    duplicateIds.Add(id);
                else
                    stored.Add(e);
            }
            var result = new MetricRecordResult(stored.Count, duplicateIds);
            if (idempotency is not null)
                await RegistryStatements.InsertIdempotencyRecordAsync(connection, transaction, idempotency(result), CancellationToken.None);
            storedIds.UnionWith(batchIds);
            accepted.AddRange(stored);
            return result;
        }

        /// <summary>
        /// Stores the accepted events (one binary COPY) and, under their versions' and experiments' locks, adds them to the
        /// rollups and the unit analysis.
        /// </summary>
        public async Task StoreAsync()
        {
            if (accepted.Count == 0)
                return;
            // The raw events go in before the locks, so the locks are held only while the aggregates change: the unique
            // index, not the locks, keeps an id from being stored twice (a writer that loses that race runs again). In the
            // order of their ids, so two writers of the same ids wait for each other in one direction only.
            await CopyEventsAsync(connection, accepted.OrderBy(e => e.Id, StringComparer.Ordinal), CancellationToken.None);
            await FindOwnersAsync(connection, transaction, accepted.Select(e => e.VersionId), accepted.Select(e => e.ExperimentId).OfType<string>(),
                lockThem: true, CancellationToken.None);
            await FoldIntoRollupsAsync(connection, transaction, accepted, CancellationToken.None);
            await AddToUnitAnalysisAsync(connection, transaction, accepted, CancellationToken.None);
        }
    }

    /// <summary>
    /// Runs <paramref name="write"/> in one transaction, again from the start when it lost a race that only the database
    /// saw: a deadlock, or an event id that another writer stored meanwhile (the next try finds it stored).
    /// </summary>
    /// <exception cref="TimeoutException">It lost every try: transient, the caller may retry (the API answers 503 store_busy).</exception>
    private async Task<T> WriteAggregatesAsync<T>(Func<NpgsqlConnection, NpgsqlTransaction, Task<T>> write, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await WriteAsync(write, cancellationToken);
            }
            catch (PostgresException e) when (PostgresErrors.IsLostRace(e) || PostgresErrors.IsUniqueViolation(e))
            {
                if (attempt == MaxWriteAttempts)
                    throw new TimeoutException($"The write lost {attempt} races with other writers ({e.MessageText}). This is transient: retry the request.", e);
            }
        }
    }

    /// <summary>
    /// Finds the versions and experiments that exist among those given and, when <paramref name="lockThem"/>, locks them
    /// until the transaction ends: one advisory lock per owner of aggregates, taken in the order of the lock keys, so that
    /// two writers never wait for each other in a circle. Advisory rather than row locks, so that registry writes (a
    /// version's status, an experiment's) never wait for metrics.
    /// </summary>
    /// <returns>The ids that exist, of each kind (the others are not locked).</returns>
    private static async Task<(HashSet<string> Versions, HashSet<string> Experiments)> FindOwnersAsync(NpgsqlConnection connection,
        NpgsqlTransaction transaction, IEnumerable<string> versionIds, IEnumerable<string> experimentIds, bool lockThem, CancellationToken cancellationToken)
    {
        const string Owners = """
            SELECT 'version' AS kind, id, hashtextextended('version:' || id, 0) AS lock_key FROM versions WHERE id = ANY(@Versions)
            UNION ALL
            SELECT 'experiment', id, hashtextextended('experiment:' || id, 0) FROM experiments WHERE id = ANY(@Experiments)
            """;
        var sql = lockThem
            ? $"SELECT kind, id FROM (SELECT kind, id, pg_advisory_xact_lock(lock_key) FROM ({Owners} ORDER BY lock_key) ordered) locked"
            : $"SELECT kind, id FROM ({Owners}) owners";
        var owners = await connection.QueryAsync<(string Kind, string Id)>(Command(sql,
            new { Versions = versionIds.Distinct().ToArray(), Experiments = experimentIds.Distinct().ToArray() }, cancellationToken, transaction));
        var versions = new HashSet<string>(StringComparer.Ordinal);
        var experiments = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (kind, id) in owners)
            (kind == "version" ? versions : experiments).Add(id);
        return (versions, experiments);
    }

    /// <summary>Appends the events to <c>metric_events</c> with one binary COPY.</summary>
    private static async Task CopyEventsAsync(NpgsqlConnection connection, IEnumerable<MetricEvent> events, CancellationToken cancellationToken)
    {
        await using var copy = await connection.BeginBinaryImportAsync(CopyEventsSql, cancellationToken);
        foreach (var e in events)
        {
            await copy.StartRowAsync(cancellationToken);
            await copy.WriteAsync(e.Id, NpgsqlDbType.Text, cancellationToken);
            await copy.WriteAsync(e.VersionId, NpgsqlDbType.Text, cancellationToken);
            await copy.WriteAsync(e.ExperimentId, NpgsqlDbType.Text, cancellationToken);
            await copy.WriteAsync(e.VariantId, NpgsqlDbType.Text, cancellationToken);
            await copy.WriteAsync(e.UnitId, NpgsqlDbType.Text, cancellationToken);
            await copy.WriteAsync(ToText(e.Timestamp), NpgsqlDbType.Text, cancellationToken);
            await copy.WriteAsync(e.LatencyMs, NpgsqlDbType.Double, cancellationToken);
            await copy.WriteAsync(e.InputTokens, NpgsqlDbType.Bigint, cancellationToken);
            await copy.WriteAsync(e.OutputTokens, NpgsqlDbType.Bigint, cancellationToken);
            await copy.WriteAsync(e.Cost, NpgsqlDbType.Double, cancellationToken);
            await copy.WriteAsync(e.QualityScore, NpgsqlDbType.Double, cancellationToken);
            await copy.WriteAsync(e.UserFeedback, NpgsqlDbType.Double, cancellationToken);
            await copy.WriteAsync(e.Converted, NpgsqlDbType.Boolean, cancellationToken);
            await copy.WriteAsync(e.Error, NpgsqlDbType.Text, cancellationToken);
            await copy.WriteAsync(e.Metadata?.GetRawText(), NpgsqlDbType.Text, cancellationToken);
        }
        await copy.CompleteAsync(cancellationToken);
    }

    /// <summary>Adds the events to their versions' hour and all-time rows: each row read once, merged, written once.</summary>
    private static async Task FoldIntoRollupsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<MetricEvent> events,
        CancellationToken cancellationToken)
    {
        // Only versions have rollup rows now (experiments analyse units), so scope and variant_id are always the same.
        var rollups = new MetricRollups();
        foreach (var e in events)
            rollups.Add(e);
        var totals = rollups.Rows;
        if (totals.Count == 0)
            return;
        var keys = new { Versions = totals.Keys.Select(k => k.VersionId).ToArray(), Hours = totals.Keys.Select(k => k.Hour).ToArray() };
        var rows = await connection.QueryAsync<(string VersionId, long Hour, byte[] Aggregate)>(Command("""
            SELECT r.scope_id, r.hour, r.aggregate FROM metric_rollups r
            JOIN unnest(@Versions, @Hours) AS k (scope_id, hour) USING (scope_id, hour)
            WHERE r.scope = 'version' AND r.variant_id = ''
            """, keys, cancellationToken, transaction));
        foreach (var (versionId, hour, blob) in rows)
        {
            var total = MetricAggregateCodec.Decode(blob);
            total.Merge(totals[new RollupKey(versionId, hour)]);
            totals[new RollupKey(versionId, hour)] = total;
        }
        await connection.ExecuteAsync(Command("""
            INSERT INTO metric_rollups (scope, scope_id, hour, variant_id, aggregate)
            SELECT 'version', k.scope_id, k.hour, '', k.aggregate FROM unnest(@Versions, @Hours, @Aggregates) AS k (scope_id, hour, aggregate)
            ON CONFLICT (scope, scope_id, hour, variant_id) DO UPDATE SET aggregate = excluded.aggregate
            """, new { keys.Versions, keys.Hours, Aggregates = totals.Values.Select(MetricAggregateCodec.Encode).ToArray() },
            cancellationToken, transaction));
    }
}
