using Dapper;
using Npgsql;
using PromptVault.Core.Analysis;
using PromptVault.Core.Experiments;
using PromptVault.Core.Metrics;
using PromptVault.Core.Storage;
using static PromptVault.Storage.StoredValues;

namespace PromptVault.Storage.Postgres;

// The unit-level analysis of experiments (SPEC §3), as on SQLite (SqlitePromptStore.UnitAnalysis.cs): per (experiment,
// unit, variant named) the unit's sums, per (experiment, variant) the statistics of its exposed units' sums, written in
// the transaction of the events or exposures that change them, under their experiments' locks (FindOwnersAsync). Each
// step reads or writes all the rows it needs in one statement, by their full primary keys.
public sealed partial class PostgresPromptStore
{
    // Bounded by thinning on write: when a series passes MaxPerSeries points, every second point but the newest is
    // deleted, so the chart still spans the whole experiment at half the resolution (its start is always kept).
    private const string ThinSequentialHistorySql = """
        DELETE FROM sequential_history h USING (
            SELECT variant_id, metric, at, row_number() OVER series AS n, count(*) OVER (PARTITION BY variant_id, metric) AS total
            FROM sequential_history WHERE experiment_id = @ExperimentId
            WINDOW series AS (PARTITION BY variant_id, metric ORDER BY at)) numbered
        WHERE h.experiment_id = @ExperimentId AND h.variant_id = numbered.variant_id AND h.metric = numbered.metric AND h.at = numbered.at
            AND numbered.total > @Max AND numbered.n % 2 = 0 AND numbered.n < numbered.total
        """;

    public override Task SaveSequentialStateAsync(string experimentId, SequentialState state, IReadOnlyList<SequentialHistoryPoint> history,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(experimentId);
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(history);
        return WriteAggregatesAsync(async (connection, transaction) =>
        {
            // The experiment's lock: a look racing another merges with what that one stored.
            var (_, experiments) = await FindOwnersAsync(connection, transaction, [], [experimentId], lockThem: true, cancellationToken);
            if (experiments.Count == 0)
                throw ExperimentStatements.ExperimentNotFound(experimentId);
            await ExperimentStatements.SaveSequentialStateAsync(connection, transaction, experimentId, state, cancellationToken);
            if (history.Count == 0)
                return true;
            await connection.ExecuteAsync(Command("""
                INSERT INTO sequential_history (experiment_id, variant_id, metric, at, estimate, low, high)
                SELECT @ExperimentId, * FROM unnest(@Variants, @Metrics, @Ats, @Estimates, @Lows, @Highs)
                ON CONFLICT (experiment_id, variant_id, metric, at) DO UPDATE SET estimate = excluded.estimate, low = excluded.low, high = excluded.high
                """, new
            {
                ExperimentId = experimentId, Variants = history.Select(p => p.VariantId).ToArray(), Metrics = history.Select(p => p.Metric).ToArray(),
                Ats = history.Select(p => ToText(p.At)).ToArray(), Estimates = history.Select(p => p.Estimate).ToArray(),
                Lows = history.Select(p => p.Low).ToArray(), Highs = history.Select(p => p.High).ToArray(),
            }, cancellationToken, transaction));
            await connection.ExecuteAsync(Command(ThinSequentialHistorySql,
                new { ExperimentId = experimentId, Max = SequentialHistoryPoint.MaxPerSeries }, cancellationToken, transaction));
            return true;
        }, cancellationToken);
    }

    /// <summary>
    /// Adds newly stored events to the unit analysis: each event naming a variant joins its unit's sums for it; when the
    /// unit's exposure is to that variant the variant's statistics take the unit's new sums, otherwise (and for events
    /// without a unit) the events count as the variant's unattributed ones.
    /// </summary>
    private static async Task AddToUnitAnalysisAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<MetricEvent> events,
        CancellationToken cancellationToken)
    {
        var withoutUnit = new Dictionary<VariantKey, long>();
        var byUnit = new Dictionary<UnitKey, List<MetricEvent>>();
        foreach (var e in events)
        {
            if (e is not { ExperimentId: { } experimentId, VariantId: { } variantId })
                continue;
            if (e.UnitId is not { } unitId)
            {
                withoutUnit[new(experimentId, variantId)] = withoutUnit.GetValueOrDefault(new(experimentId, variantId)) + 1;
                continue;
            }
            if (!byUnit.TryGetValue(new(experimentId, unitId, variantId), out var ofUnit))
                byUnit.Add(new(experimentId, unitId, variantId), ofUnit = []);
            ofUnit.Add(e);
        }
        if (withoutUnit.Count == 0 && byUnit.Count == 0)
            return;

        var before = await FindUnitSumsAsync(connection, transaction, byUnit.Keys, cancellationToken);
        var exposedTo = await FindExposedVariantsAsync(connection, transaction, byUnit.Keys.Select(k => (k.ExperimentId, k.UnitId)), cancellationToken);
        var stats = await FindVariantUnitStatsAsync(connection, transaction, withoutUnit.Keys.Concat(byUnit.Keys.Select(k => k.Variant)), cancellationToken);
        foreach (var (variant, count) in withoutUnit)
            stats[variant] = stats[variant].AddUnattributed(count);
        var after = new Dictionary<UnitKey, UnitSums>();
        foreach (var (unit, ofUnit) in byUnit)
        {
            var sums = before.GetValueOrDefault(unit);
            after[unit] = ofUnit.Aggregate(sums, (s, e) => s.Add(e));
            stats[unit.Variant] = exposedTo.GetValueOrDefault((unit.ExperimentId, unit.UnitId)) == unit.VariantId
                ? stats[unit.Variant].Replace(sums, after[unit])
                : stats[unit.Variant].AddUnattributed(after[unit].Events - sums.Events);
        }
        await connection.ExecuteAsync(Command("""
            INSERT INTO unit_sums (experiment_id, unit_id, variant_id, sums) SELECT * FROM unnest(@Experiments, @Units, @Variants, @Sums)
            ON CONFLICT (experiment_id, unit_id, variant_id) DO UPDATE SET sums = excluded.sums
            """, new
        {
            Experiments = after.Keys.Select(k => k.ExperimentId).ToArray(), Units = after.Keys.Select(k => k.UnitId).ToArray(),
            Variants = after.Keys.Select(k => k.VariantId).ToArray(), Sums = after.Values.Select(UnitStatisticsCodec.Encode).ToArray(),
        }, cancellationToken, transaction));
        await WriteVariantUnitStatsAsync(connection, transaction, stats, cancellationToken);
    }

    /// <summary>Units' first exposures to a variant: their earlier events naming it leave the unattributed count and count for it.</summary>
    private static async Task BringInUnitsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<Exposure> firstExposures,
        CancellationToken cancellationToken)
    {
        var units = firstExposures.Select(e => new UnitKey(e.ExperimentId, e.UnitId, e.VariantId)).ToList();
        var sums = await FindUnitSumsAsync(connection, transaction, units, cancellationToken);
        if (sums.Count == 0)
            return;
        var stats = await FindVariantUnitStatsAsync(connection, transaction, sums.Keys.Select(k => k.Variant), cancellationToken);
        // In the exposures' order, as SQLite folds them.
        foreach (var unit in units.Where(sums.ContainsKey))
            stats[unit.Variant] = stats[unit.Variant].Replace(default, sums[unit]).AddUnattributed(-sums[unit].Events);
        await WriteVariantUnitStatsAsync(connection, transaction, stats, cancellationToken);
    }

    private static async Task<Dictionary<UnitKey, UnitSums>> FindUnitSumsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction,
        IEnumerable<UnitKey> keys, CancellationToken cancellationToken)
    {
        var list = keys.ToList();
        var rows = await connection.QueryAsync<(string ExperimentId, string UnitId, string VariantId, byte[] Sums)>(Command("""
            SELECT s.experiment_id, s.unit_id, s.variant_id, s.sums FROM unit_sums s
            JOIN unnest(@Experiments, @Units, @Variants) AS k (experiment_id, unit_id, variant_id) USING (experiment_id, unit_id, variant_id)
            """, new
        {
            Experiments = list.Select(k => k.ExperimentId).ToArray(), Units = list.Select(k => k.UnitId).ToArray(),
            Variants = list.Select(k => k.VariantId).ToArray(),
        }, cancellationToken, transaction));
        return rows.ToDictionary(r => new UnitKey(r.ExperimentId, r.UnitId, r.VariantId), r => UnitStatisticsCodec.DecodeUnitSums(r.Sums));
    }

    /// <summary>The variant each of the units is exposed to in its experiment (units without an exposure are absent).</summary>
    private static async Task<Dictionary<(string ExperimentId, string UnitId), string>> FindExposedVariantsAsync(NpgsqlConnection connection,
        NpgsqlTransaction transaction, IEnumerable<(string ExperimentId, string UnitId)> units, CancellationToken cancellationToken)
    {
        var list = units.Distinct().ToList();
        var rows = await connection.QueryAsync<(string ExperimentId, string UnitId, string VariantId)>(Command("""
            SELECT x.experiment_id, x.unit_id, x.variant_id FROM exposures x
            JOIN unnest(@Experiments, @Units) AS k (experiment_id, unit_id) USING (experiment_id, unit_id)
            """, new { Experiments = list.Select(u => u.ExperimentId).ToArray(), Units = list.Select(u => u.UnitId).ToArray() },
            cancellationToken, transaction));
        return rows.ToDictionary(r => (r.ExperimentId, r.UnitId), r => r.VariantId);
    }

    /// <summary>The stored statistics of each variant, new ones for those without.</summary>
    private static async Task<Dictionary<VariantKey, VariantUnitStats>> FindVariantUnitStatsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction,
        IEnumerable<VariantKey> keys, CancellationToken cancellationToken)
    {
        var stats = keys.Distinct().ToDictionary(k => k, _ => new VariantUnitStats());
        var rows = await connection.QueryAsync<(string ExperimentId, string VariantId, byte[] Stats)>(Command("""
            SELECT s.experiment_id, s.variant_id, s.stats FROM variant_unit_stats s
            JOIN unnest(@Experiments, @Variants) AS k (experiment_id, variant_id) USING (experiment_id, variant_id)
            """, new { Experiments = stats.Keys.Select(k => k.ExperimentId).ToArray(), Variants = stats.Keys.Select(k => k.VariantId).ToArray() },
            cancellationToken, transaction));
        foreach (var (experimentId, variantId, blob) in rows)
            stats[new(experimentId, variantId)] = UnitStatisticsCodec.DecodeVariantUnitStats(blob);
        return stats;
    }

    private static Task WriteVariantUnitStatsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Dictionary<VariantKey, VariantUnitStats> stats,
        CancellationToken cancellationToken) =>
        connection.ExecuteAsync(Command("""
            INSERT INTO variant_unit_stats (experiment_id, variant_id, stats) SELECT * FROM unnest(@Experiments, @Variants, @Stats)
            ON CONFLICT (experiment_id, variant_id) DO UPDATE SET stats = excluded.stats
            """, new
        {
            Experiments = stats.Keys.Select(k => k.ExperimentId).ToArray(), Variants = stats.Keys.Select(k => k.VariantId).ToArray(),
            Stats = stats.Values.Select(UnitStatisticsCodec.Encode).ToArray(),
        }, cancellationToken, transaction));

    private readonly record struct VariantKey(string ExperimentId, string VariantId);

    private readonly record struct UnitKey(string ExperimentId, string UnitId, string VariantId)
    {
        public VariantKey Variant => new(ExperimentId, VariantId);
    }
}
