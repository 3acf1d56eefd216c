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

    // One statement for what a batch needs of each unit it names: its sums so far and the variant it was exposed to.
    internal const string FindUnitSumsAndExposureSql = """
        SELECT (SELECT sums FROM unit_sums WHERE experiment_id = @ExperimentId AND unit_id = @UnitId AND variant_id = @VariantId),
               (SELECT variant_id FROM exposures WHERE experiment_id = @ExperimentId AND unit_id = @UnitId)
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
        return WriteAsync(async (connection, transaction) =>
        {
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

    private const string UpsertUnitSumsSql = """
        INSERT INTO unit_sums (experiment_id, unit_id, variant_id, sums) VALUES (?1, ?2, ?3, ?4)
        ON CONFLICT (experiment_id, unit_id, variant_id) DO UPDATE SET sums = excluded.sums
        """;

    /// <summary>
    /// A batch's changes to the unit analysis, folded in memory so each unit row and variant row is read and written once:
    /// <see cref="Add"/> each newly stored event, then <see cref="WriteAsync"/>.
    /// </summary>
    private sealed class UnitAnalysisBatch(SqliteWriteContext context, CancellationToken cancellationToken)
    {
        // Entries hold references: a batch names hundreds of units, and entries holding two UnitSums each made the
        // dictionary's arrays large-object-heap allocations on every batch.
        private readonly Dictionary<(string Experiment, string Unit, string Variant), UnitChange> units = [];
        private readonly Dictionary<(string Experiment, string Variant), VariantChange> variants = [];

        public async Task AddAsync(MetricEvent metricEvent)
        {
            if (metricEvent is not { ExperimentId: { } experimentId, VariantId: { } variantId })
                return;
            if (metricEvent.UnitId is not { } unitId)
            {
                var variant = await VariantAsync(experimentId, variantId);
                variant.Stats = variant.Stats.AddUnattributed(1);
                return;
            }
            var key = (experimentId, unitId, variantId);
            if (!units.TryGetValue(key, out var unit))
            {
                // A unit's events name one variant in all but misuse, so its exposure is read once per unit and variant named.
                var (stored, exposed) = context.Prepare(FindUnitSumsAndExposureSql).Bind(1, experimentId).Bind(2, unitId).Bind(3, variantId)
                    .QueryRow(static row => (SqliteStatement.Blob(row, 0), SqliteStatement.Text(row, 1)));
                unit = new UnitChange(stored is null ? default : UnitStatisticsCodec.DecodeUnitSums(stored), exposed);
                units.Add(key, unit);
            }
            unit.After = unit.After.Add(metricEvent);
        }

        /// <summary>Writes each changed unit row, and each variant row once with what its units' changes mean for it.</summary>
        public async Task WriteAsync()
        {
            var upsert = context.Prepare(UpsertUnitSumsSql);
            foreach (var ((experimentId, unitId, variantId), unit) in units)
            {
                upsert.Bind(1, experimentId).Bind(2, unitId).Bind(3, variantId).Bind(4, UnitStatisticsCodec.Encode(unit.After)).Execute();
                var variant = await VariantAsync(experimentId, variantId);
                variant.Stats = unit.Exposed == variantId
                    ? variant.Stats.Replace(unit.Before, unit.After)
                    : variant.Stats.AddUnattributed(unit.After.Events - unit.Before.Events);
            }
            foreach (var ((experimentId, variantId), variant) in variants)
                await WriteVariantUnitStatsAsync(context.Connection, context.Transaction, experimentId, variantId, variant.Stats, cancellationToken);
        }

        private async ValueTask<VariantChange> VariantAsync(string experimentId, string variantId)
        {
            if (!variants.TryGetValue((experimentId, variantId), out var variant))
            {
                variant = new VariantChange(await FindVariantUnitStatsAsync(context.Connection, context.Transaction, experimentId, variantId, cancellationToken));
                variants.Add((experimentId, variantId), variant);
            }
            return variant;
        }

        /// <summary>A unit's sums before the batch and after its events so far, and the variant it was exposed to (null: none).</summary>
        private sealed class UnitChange(UnitSums before, string? exposed)
        {
            public UnitSums Before { get; } = before;
            public UnitSums After { get; set; } = before;
            public string? Exposed { get; } = exposed;
        }

        private sealed class VariantChange(VariantUnitStats stats)
        {
            public VariantUnitStats Stats { get; set; } = stats;
        }
    }

    /// <summary>Units' first exposures to a variant: their earlier events naming it leave the unattributed count and count for it.</summary>
    private static async Task BringInUnitsAsync(SqliteConnection connection, SqliteTransaction transaction, string experimentId, string variantId,
        IReadOnlyList<UnitSums> units, CancellationToken cancellationToken)
    {
        var stats = await FindVariantUnitStatsAsync(connection, transaction, experimentId, variantId, cancellationToken);
        foreach (var sums in units)
            stats = stats.Replace(default, sums).AddUnattributed(-sums.Events);
        await WriteVariantUnitStatsAsync(connection, transaction, experimentId, variantId, stats, cancellationToken);
    }

    private static async Task<VariantUnitStats> FindVariantUnitStatsAsync(SqliteConnection connection, SqliteTransaction transaction, string experimentId,
        string variantId, CancellationToken cancellationToken)
    {
        var stored = await connection.QuerySingleOrDefaultAsync<byte[]>(Command(FindVariantUnitStatsSql,
            new { ExperimentId = experimentId, VariantId = variantId }, cancellationToken, transaction));
        return stored is null ? new VariantUnitStats() : UnitStatisticsCodec.DecodeVariantUnitStats(stored);
    }

    private static Task WriteVariantUnitStatsAsync(SqliteConnection connection, SqliteTransaction transaction, string experimentId, string variantId,
        VariantUnitStats stats, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(Command("""
            INSERT INTO variant_unit_stats (experiment_id, variant_id, stats) VALUES (@ExperimentId, @VariantId, @Stats)
            ON CONFLICT (experiment_id, variant_id) DO UPDATE SET stats = excluded.stats
            """, new { ExperimentId = experimentId, VariantId = variantId, Stats = UnitStatisticsCodec.Encode(stats) }, cancellationToken, transaction));
}
