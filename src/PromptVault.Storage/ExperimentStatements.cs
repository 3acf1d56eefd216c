using System.Data.Common;
using Dapper;
using PromptVault.Core;
using PromptVault.Core.Analysis;
using PromptVault.Core.Experiments;
using PromptVault.Core.Metrics;
using PromptVault.Core.Storage;
using static PromptVault.Storage.StoredValues;

namespace PromptVault.Storage;

/// <summary>
/// The experiments' and metrics' statements that SQLite and PostgreSQL both run: an experiment's row, and the reads of
/// exposures, aggregates and the unit analysis. The hot writes (exposures, events, unit rows) stay each engine's own:
/// SQLite's prepared statements on its one writer, PostgreSQL's binary COPY under per-version and per-experiment locks.
/// </summary>
internal static class ExperimentStatements
{
    public const string InsertExperimentSql = """
        INSERT INTO experiments (id, prompt_id, name, description, variants, target_metric, minimum_sample_size, confidence_level,
            minimum_detectable_effect, power, guardrails, promote_winner, status, hash_seed, winner, status_reason, created_at,
            created_by, updated_at, started_at, ended_at, promotion_refused)
        VALUES (@Id, @PromptId, @Name, @Description, @Variants, @TargetMetric, @MinimumSampleSize, @ConfidenceLevel,
            @MinimumDetectableEffect, @Power, @Guardrails, @PromoteWinner, @Status, @HashSeed, @Winner, @StatusReason, @CreatedAt,
            @CreatedBy, @UpdatedAt, @StartedAt, @EndedAt, @PromotionRefused)
        """;

    /// <summary>Everything but the identity (the id and the prompt it belongs to), if the status is still <c>@ExpectedStatus</c>.</summary>
    public const string UpdateExperimentSql = """
        UPDATE experiments SET name = @Name, description = @Description, variants = @Variants, target_metric = @TargetMetric,
            minimum_sample_size = @MinimumSampleSize, confidence_level = @ConfidenceLevel,
            minimum_detectable_effect = @MinimumDetectableEffect, power = @Power, guardrails = @Guardrails,
            promote_winner = @PromoteWinner, status = @Status, hash_seed = @HashSeed, winner = @Winner,
            status_reason = @StatusReason, created_at = @CreatedAt, created_by = @CreatedBy, updated_at = @UpdatedAt,
            started_at = @StartedAt, ended_at = @EndedAt, promotion_refused = @PromotionRefused
        WHERE id = @Id AND status = @ExpectedStatus
        """;

    /// <summary>The literal 'running' lets the engine use the partial index ux_experiments_running.</summary>
    public const string RunningCondition = "e.prompt_id = @promptId AND e.status = 'running'";

    public const string ExperimentsOrder = "e.created_at DESC, e.id DESC";

    // The reads of metric_rollups, each one range of its primary key; tests check their query plans.
    public const string ReadHoursSql = """
        SELECT hour, aggregate FROM metric_rollups
        WHERE scope = @Scope AND scope_id = @ScopeId AND hour >= @From AND hour <> @AllTime
        ORDER BY hour
        """;

    public const string ReadTotalSql = """
        SELECT aggregate FROM metric_rollups WHERE scope = @Scope AND scope_id = @ScopeId AND hour = @AllTime
        """;

    public const string ReadVariantUnitStatsSql = """
        SELECT variant_id, stats FROM variant_unit_stats WHERE experiment_id = @ExperimentId
        """;

    public const string FindSequentialStateSql = """
        SELECT state FROM sequential_states WHERE experiment_id = @ExperimentId
        """;

    public const string ReadSequentialHistorySql = """
        SELECT variant_id, metric, at, estimate, low, high FROM sequential_history WHERE experiment_id = @ExperimentId ORDER BY at, variant_id, metric
        """;

    /// <summary>The <c>hour</c> of all-time rows: not a multiple of 3600, so never an hour's start.</summary>
    public const long AllTime = RegistryArchiveSchema.AllTimeHour;

    /// <summary>The scope of versions' rollup rows (the only ones now: experiments analyse units).</summary>
    public const string VersionScope = RegistryArchiveSchema.VersionRollupScope;

    /// <summary>The experiment's parameters for <see cref="InsertExperimentSql"/> and <see cref="UpdateExperimentSql"/>.</summary>
    public static DynamicParameters Parameters(Experiment experiment, ExperimentStatus? expectedStatus = null)
    {
        var parameters = new DynamicParameters(ExperimentRow.Parameters(experiment));
        if (expectedStatus is { } status)
            parameters.Add("ExpectedStatus", ToName(status));
        return parameters;
    }

    public static async Task<Experiment?> FindExperimentAsync(DbConnection connection, string condition, object parameters, CancellationToken cancellationToken)
    {
        var row = await connection.QuerySingleOrDefaultAsync<ExperimentRow>(Command(
            $"SELECT {ExperimentRow.Columns} FROM {ExperimentRow.From} WHERE {condition}", parameters, cancellationToken));
        return row?.ToExperiment();
    }

    public static async Task<IReadOnlyDictionary<string, long>> CountExposuresAsync(DbConnection connection, string experimentId, CancellationToken cancellationToken)
    {
        var rows = await connection.QueryAsync<(string VariantId, long Units)>(Command(
            "SELECT variant_id, units FROM exposure_counts WHERE experiment_id = @experimentId", new { experimentId }, cancellationToken));
        return rows.ToDictionary(r => r.VariantId, r => r.Units, StringComparer.Ordinal);
    }

    public static async Task<IReadOnlyList<HourlyAggregate>> ReadVersionHoursAsync(DbConnection connection, string versionId, DateTimeOffset fromHour,
        CancellationToken cancellationToken)
    {
        var rows = await connection.QueryAsync<(long Hour, byte[] Aggregate)>(Command(ReadHoursSql,
            new { Scope = VersionScope, ScopeId = versionId, From = MetricPeriods.HourOf(fromHour).ToUnixTimeSeconds(), AllTime }, cancellationToken));
        return rows.Select(r => new HourlyAggregate(DateTimeOffset.FromUnixTimeSeconds(r.Hour), MetricAggregateCodec.Decode(r.Aggregate))).ToList();
    }

    public static async Task<MetricAggregate> ReadVersionTotalAsync(DbConnection connection, string versionId, CancellationToken cancellationToken)
    {
        var blob = await connection.QuerySingleOrDefaultAsync<byte[]>(Command(ReadTotalSql,
            new { Scope = VersionScope, ScopeId = versionId, AllTime }, cancellationToken));
        return blob is null ? new MetricAggregate() : MetricAggregateCodec.Decode(blob);
    }

    public static async Task<IReadOnlyDictionary<string, VariantUnitStats>> ReadVariantUnitStatsAsync(DbConnection connection, string experimentId,
        CancellationToken cancellationToken)
    {
        var rows = await connection.QueryAsync<(string VariantId, byte[] Stats)>(Command(ReadVariantUnitStatsSql, new { ExperimentId = experimentId }, cancellationToken));
        return rows.ToDictionary(r => r.VariantId, r => UnitStatisticsCodec.DecodeVariantUnitStats(r.Stats), StringComparer.Ordinal);
    }

    public static async Task<SequentialState?> FindSequentialStateAsync(DbConnection connection, DbTransaction? transaction, string experimentId,
        CancellationToken cancellationToken)
    {
        var json = await connection.QuerySingleOrDefaultAsync<string>(Command(FindSequentialStateSql, new { ExperimentId = experimentId }, cancellationToken, transaction));
        return json is null ? null : new SequentialState(FromJson<Dictionary<string, double>>(json));
    }

    public static async Task<IReadOnlyList<SequentialHistoryPoint>> ReadSequentialHistoryAsync(DbConnection connection, string experimentId,
        CancellationToken cancellationToken)
    {
        var rows = await connection.QueryAsync<(string VariantId, string Metric, string At, double Estimate, double Low, double High)>(
            Command(ReadSequentialHistorySql, new { ExperimentId = experimentId }, cancellationToken));
        return [.. rows.Select(r => new SequentialHistoryPoint(r.VariantId, r.Metric, ToTime(r.At), r.Estimate, r.Low, r.High))];
    }

    /// <summary>Stores the merge of the stored state and <paramref name="state"/> (the transaction holds the experiment's write lock).</summary>
    public static async Task SaveSequentialStateAsync(DbConnection connection, DbTransaction transaction, string experimentId, SequentialState state,
        CancellationToken cancellationToken)
    {
        var stored = await FindSequentialStateAsync(connection, transaction, experimentId, cancellationToken);
        var merged = (stored ?? SequentialState.Empty).Merge(state).Values;
        await connection.ExecuteAsync(Command("""
            INSERT INTO sequential_states (experiment_id, state) VALUES (@ExperimentId, @State)
            ON CONFLICT (experiment_id) DO UPDATE SET state = excluded.state
            """, new { ExperimentId = experimentId, State = ToJson(merged) }, cancellationToken, transaction));
    }

    public static NotFoundException ExperimentNotFound(string experimentId) =>
        new("experiment_not_found", $"experiment '{Core.Prompts.PromptRules.Echo(experimentId)}' does not exist.");

    private static CommandDefinition Command(string sql, object? parameters, CancellationToken cancellationToken, DbTransaction? transaction = null) =>
        RegistryStatements.Command(sql, parameters, cancellationToken, transaction);
}
