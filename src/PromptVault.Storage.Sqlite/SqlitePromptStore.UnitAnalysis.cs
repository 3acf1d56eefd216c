using Dapper;
using Microsoft.Data.Sqlite;
using PromptVault.Core.Analysis;
using PromptVault.Core.Metrics;
using PromptVault.Core.Storage;
using static PromptVault.Storage.StoredValues;

namespace PromptVault.Storage.Sqlite;

// The unit-level analysis of experiments (SPEC §3, 004_unit_analysis.sql): per (experiment, unit, variant named) the
// unit's sums, per (experiment, variant) the statistics of its exposed units' sums, written in the transaction of the
// events or exposure that change them. Every statement reads or writes rows by their full primary key.
public sealed partial class SqlitePromptStore
{
    // The lookups of recording; tests check their query plans.
    internal const string FindUnitSumsSql = """
        SELECT sums FROM unit_sums WHERE experiment_id = @ExperimentId AND unit_id = @UnitId AND variant_id = @VariantId
        """;

    internal const string FindVariantUnitStatsSql = """
        SELECT stats FROM variant_unit_stats WHERE experiment_id = @ExperimentId AND variant_id = @VariantId
        """;

    internal const string ReadVariantUnitStatsSql = ExperimentStatements.ReadVariantUnitStatsSql;
    internal const string FindSequentialStateSql = ExperimentStatements.FindSequentialStateSql;

    // Bounded by thinning on write: when a series passes MaxPerSeries points, every second point but the newest is
    // deleted, so the chart still spans the whole experiment at half the resolution (its start is always kept).
    private const string InsertSequentialHistorySql = """
        INSERT INTO sequential_history (experiment_id, variant_id, metric, at, estimate, low, high)
        VALUES (@ExperimentId, @VariantId, @Metric, @At, @Estimate, @Low, @High)
        ON CONFLICT (experiment_id, variant_id, metric, at) DO UPDATE SET estimate = excluded.estimate, low = excluded.low, high = excluded.high
        """;

    private const string ThinSequentialHistorySql = """
        DELETE FROM sequential_history WHERE experiment_id = @ExperimentId AND variant_id = @VariantId AND metric = @Metric AND at IN (
            SELECT at FROM (
                SELECT at, row_number() OVER (ORDER BY at) AS n, count(*) OVER () AS total FROM sequential_history
                WHERE experiment_id = @ExperimentId AND variant_id = @VariantId AND metric = @Metric)
            WHERE total > @Max AND n % 2 = 0 AND n < total)
        """;

    public override Task SaveSequentialStateAsync(string experimentId, SequentialState state, IReadOnlyList<SequentialHistoryPoint> history,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(experimentId);
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(history);
        // In the writer's group, like the metric batches the look follows: a transaction of its own took the write lock
        // from the writer after every look, and each side's wait for the other is a busy-handler sleep.
        return writes.EnqueueAsync(WriteKind.SequentialState, 1, async context =>
        {
            var (connection, transaction) = (context.Connection, context.Transaction);
            try
            {
                await ExperimentStatements.SaveSequentialStateAsync(connection, transaction, experimentId, state, cancellationToken);
                foreach (var point in history)
                {
                    var row = new
                    {
                        ExperimentId = experimentId, point.VariantId, point.Metric, At = ToText(point.At), point.Estimate, point.Low, point.High,
                        Max = SequentialHistoryPoint.MaxPerSeries,
                    };
                    await connection.ExecuteAsync(Command(InsertSequentialHistorySql, row, cancellationToken, transaction));
                    await connection.ExecuteAsync(Command(ThinSequentialHistorySql, row, cancellationToken, transaction));
                }
            }
            catch (SqliteException e) when (SqliteErrors.IsForeignKeyViolation(e))
            {
                throw ExperimentStatements.ExperimentNotFound(experimentId);
            }
            return true;
        }, cancellationToken);
    }

    internal const string UpsertUnitSumsSql = """
        INSERT INTO unit_sums (experiment_id, unit_id, variant_id, sums) VALUES (?1, ?2, ?3, ?4)
        ON CONFLICT (experiment_id, unit_id, variant_id) DO UPDATE SET sums = excluded.sums
        """;

    private const string UpsertVariantUnitStatsSql = """
        INSERT INTO variant_unit_stats (experiment_id, variant_id, stats) VALUES (?1, ?2, ?3)
        ON CONFLICT (experiment_id, variant_id) DO UPDATE SET stats = excluded.stats
        """;

    /// <summary>Units' first exposures to a variant: their earlier events naming it leave the unattributed count and count for it.</summary>
    private static void BringInUnits(SqliteWriteContext context, string experimentId, string variantId, VariantUnitStats stats, IReadOnlyList<UnitSums> units)
    {
        foreach (var sums in units)
            stats = stats.Replace(default, sums).AddUnattributed(-sums.Events);
        WriteVariantUnitStats(context, experimentId, variantId, stats);
    }

    /// <summary>A variant's stored statistics, read in the writer's transaction; empty when it has none yet.</summary>
    internal static VariantUnitStats ReadVariantUnitStats(SqliteWriteContext context, string experimentId, string variantId) =>
        context.Prepare(FindVariantUnitStatsSql).Bind(1, experimentId).Bind(2, variantId).QueryBlob() is { } stored
            ? UnitStatisticsCodec.DecodeVariantUnitStats(stored)
            : new VariantUnitStats();

    internal static void WriteVariantUnitStats(SqliteWriteContext context, string experimentId, string variantId, VariantUnitStats stats) =>
        context.Prepare(UpsertVariantUnitStatsSql).Bind(1, experimentId).Bind(2, variantId).Bind(3, UnitStatisticsCodec.Encode(stats)).Execute();
}
