using Dapper;
using Microsoft.Data.Sqlite;
using PromptVault.Core;
using PromptVault.Core.Metrics;
using PromptVault.Core.Storage;
using static PromptVault.Storage.StoredValues;

namespace PromptVault.Storage.Sqlite;

public sealed partial class SqlitePromptStore
{
    internal const string ReadHoursSql = ExperimentStatements.ReadHoursSql;
    internal const string ReadTotalSql = ExperimentStatements.ReadTotalSql;
    private const string VersionScope = ExperimentStatements.VersionScope;

    public override Task<MetricRecordResult> RecordEventsAsync(IReadOnlyList<MetricEvent> events, Func<MetricRecordResult, IdempotencyRecord>? idempotency,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        return writes.EnqueueAsync(WriteKind.Events, events.Count, async context =>
        {
            var duplicateIds = new List<string>();
            var batchIds = new HashSet<string>(StringComparer.Ordinal);
            var insert = new EventInsert(context);
            for (var index = 0; index < events.Count; index++)
            {
                var metricEvent = events[index];
                var firstInBatch = metricEvent.Id is not { } id || batchIds.Add(id);
                if (!firstInBatch || !await insert.ExecuteAsync(metricEvent, index, cancellationToken))
                {
                    duplicateIds.Add(metricEvent.Id!);
                    continue;
                }
                // The rollups and the unit analysis are written once for the whole group, before its commit.
                context.Analysis.Add(metricEvent);
            }
            context.Analysis.ReadRollupsOfWrite();
            var result = new MetricRecordResult(events.Count - duplicateIds.Count, duplicateIds);
            if (idempotency is not null)
                await InsertIdempotencyRecordAsync(context.Connection, context.Transaction, idempotency(result), cancellationToken);
            return result;
        }, cancellationToken);
    }

    /// <summary>The insert of a batch's events: one statement, prepared once for the writer's connection, run with each event's values.</summary>
    private sealed class EventInsert(SqliteWriteContext context)
    {
        private const string Sql = """
            INSERT INTO metric_events (id, version_id, experiment_id, variant_id, unit_id, timestamp, latency_ms, input_tokens,
                output_tokens, cost, quality_score, user_feedback, converted, error, metadata)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
            ON CONFLICT (id) WHERE id IS NOT NULL DO NOTHING
            """;

        private readonly SqliteStatement insert = context.Prepare(Sql);

        /// <returns>False when an event with the same id is already stored.</returns>
        /// <exception cref="NotFoundException">The event's version or experiment does not exist.</exception>
        public async Task<bool> ExecuteAsync(MetricEvent e, int index, CancellationToken cancellationToken)
        {
            try
            {
                return insert.Bind(1, e.Id).Bind(2, e.VersionId).Bind(3, e.ExperimentId).Bind(4, e.VariantId).Bind(5, e.UnitId)
                    .Bind(6, e.Timestamp).Bind(7, e.LatencyMs).Bind(8, e.InputTokens).Bind(9, e.OutputTokens).Bind(10, e.Cost)
                    .Bind(11, e.QualityScore).Bind(12, e.UserFeedback).Bind(13, e.Converted).Bind(14, e.Error).Bind(15, e.Metadata?.GetRawText())
                    .Execute() == 1;
            }
            catch (SqliteException error) when (SqliteErrors.IsForeignKeyViolation(error))
            {
                // The statement changed nothing; find which of the two references is missing.
                var versionExists = await context.Connection.ExecuteScalarAsync<bool>(Command(
                    "SELECT EXISTS (SELECT 1 FROM versions WHERE id = @VersionId)", new { e.VersionId }, cancellationToken, context.Transaction));
                throw versionExists
                    ? MetricBatchRefusals.ExperimentNotFound(index, e.ExperimentId!)
                    : MetricBatchRefusals.VersionNotFound(index, e.VersionId);
            }
        }
    }

    private const string FindRollupSql = "SELECT aggregate FROM metric_rollups WHERE scope = ?1 AND scope_id = ?2 AND hour = ?3 AND variant_id = ''";

    private const string UpsertRollupSql = """
        INSERT INTO metric_rollups (scope, scope_id, hour, variant_id, aggregate) VALUES (?1, ?2, ?3, '', ?4)
        ON CONFLICT (scope, scope_id, hour, variant_id) DO UPDATE SET aggregate = excluded.aggregate
        """;

    /// <summary>A version's rollup row as stored (only versions have rollup rows now: experiments analyse units); null when none.</summary>
    /// <exception cref="InvalidDataException">The stored aggregate cannot be read.</exception>
    internal static MetricAggregate? ReadRollup(SqliteWriteContext context, RollupKey key) =>
        context.Prepare(FindRollupSql).Bind(1, VersionScope).Bind(2, key.VersionId).Bind(3, key.Hour).QueryBlob() is { } stored
            ? MetricAggregateCodec.Decode(stored)
            : null;

    /// <summary>Stores <paramref name="total"/> as the row's aggregate (the stored one, read first, merged in).</summary>
    internal static void WriteRollup(SqliteWriteContext context, RollupKey key, MetricAggregate total) =>
        context.Prepare(UpsertRollupSql).Bind(1, VersionScope).Bind(2, key.VersionId).Bind(3, key.Hour).Bind(4, MetricAggregateCodec.Encode(total)).Execute();
}
