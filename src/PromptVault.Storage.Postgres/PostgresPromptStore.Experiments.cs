using Dapper;
using Npgsql;
using NpgsqlTypes;
using PromptVault.Core;
using PromptVault.Core.Analysis;
using PromptVault.Core.Audit;
using PromptVault.Core.Experiments;
using PromptVault.Core.Storage;
using static PromptVault.Storage.StoredValues;

namespace PromptVault.Storage.Postgres;

public sealed partial class PostgresPromptStore : IExperimentStore, IAsyncDisposable
{
    private const int ExposureQueueCapacity = 65_536;
    private const int MaxExposuresPerTransaction = 8_192;

    private readonly RecentExposures recentExposures = new(RecentExposures.DefaultSlots);
    private readonly PostgresExposureQueue exposureQueue;

    /// <summary>Commits the queued render exposures, then stops taking new ones. The data source is the caller's to dispose.</summary>
    public ValueTask DisposeAsync() => exposureQueue.DisposeAsync();

    /// <summary>How many render exposures wait for the writer.</summary>
    internal int QueuedExposures => exposureQueue.Count;

    public Task CreateExperimentAsync(Experiment experiment, IReadOnlyList<AuditEntry> audit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(experiment);
        ArgumentNullException.ThrowIfNull(audit);
        return WriteAsync(async (connection, transaction) =>
        {
            await WriteExperimentAsync(connection, transaction, experiment, ExperimentStatements.InsertExperimentSql,
                ExperimentStatements.Parameters(experiment), cancellationToken);
            foreach (var entry in audit)
                await InsertAuditAsync(connection, transaction, entry, cancellationToken);
            return true;
        }, cancellationToken);
    }

    public Task<Experiment?> FindExperimentAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        return WithConnectionAsync(connection => ExperimentStatements.FindExperimentAsync(connection, "e.id = @id", new { id }, cancellationToken),
            cancellationToken);
    }

    public Task<Page<Experiment>> ListExperimentsAsync(string? promptName, PageRequest page, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(page);
        var where = promptName is null ? "" : " WHERE p.name = @promptName";
        return PageAsync<ExperimentRow, Experiment>(ExperimentRow.Columns, ExperimentRow.From + where, ExperimentStatements.ExperimentsOrder,
            new { promptName }, page, r => r.ToExperiment(), cancellationToken);
    }

    public Task<Experiment?> FindRunningExperimentAsync(string promptId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(promptId);
        return WithConnectionAsync(connection => ExperimentStatements.FindExperimentAsync(connection, ExperimentStatements.RunningCondition,
            new { promptId }, cancellationToken), cancellationToken);
    }

    public Task UpdateExperimentAsync(Experiment experiment, ExperimentStatus expectedStatus, IReadOnlyList<AuditEntry> audit,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(experiment);
        ArgumentNullException.ThrowIfNull(audit);
        return WriteAsync(async (connection, transaction) =>
        {
            var changed = await WriteExperimentAsync(connection, transaction, experiment, ExperimentStatements.UpdateExperimentSql,
                ExperimentStatements.Parameters(experiment, expectedStatus), cancellationToken);
            if (changed == 0)
                throw new ConcurrentWriteException($"experiment {experiment.Id} is no longer {ToName(expectedStatus)}.");
            foreach (var entry in audit)
                await InsertAuditAsync(connection, transaction, entry, cancellationToken);
            return true;
        }, cancellationToken);
    }

    public Task<bool> RecordExposureAsync(Exposure exposure, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(exposure);
        return WriteAggregatesAsync(async (connection, transaction) =>
        {
            var (firstExposures, unknown) = await WriteExposuresAsync(connection, transaction, [exposure], cancellationToken);
            return unknown.Count > 0 ? throw ExperimentStatements.ExperimentNotFound(exposure.ExperimentId) : firstExposures > 0;
        }, cancellationToken);
    }

    public ExposureQueueOutcome QueueExposure(Exposure exposure)
    {
        ArgumentNullException.ThrowIfNull(exposure);
        return recentExposures.Queue(exposure, exposureQueue.TryQueue);
    }

    /// <summary>The render exposures' writer: one transaction per batch.</summary>
    private PostgresExposureQueue CreateExposureQueue(int capacity) => new(capacity, MaxExposuresPerTransaction,
        exposures => WriteAggregatesAsync(async (connection, transaction) =>
        {
            var (_, unknown) = await WriteExposuresAsync(connection, transaction, exposures, CancellationToken.None);
            // An experiment that does not exist never will: its exposures are lost, the others stored.
            if (unknown.Count > 0)
                Telemetry.ExposuresLost(unknown.Count);
            return true;
        }, CancellationToken.None),
        recentExposures.Forget);

    /// <summary>
    /// Stores each unit's first exposure (binary COPY), then once per variant: its count of exposed units, and the unit sums
    /// of earlier events its new units bring in (see <see cref="BringInUnitsAsync"/>). Holds the experiments' locks
    /// (<see cref="FindOwnersAsync"/>), so no other writer changes their exposures or unit statistics meanwhile.
    /// </summary>
    /// <returns>How many of the exposures were first exposures, and those whose experiment does not exist (not stored).</returns>
    private static async Task<(int FirstExposures, IReadOnlyList<Exposure> Unknown)> WriteExposuresAsync(NpgsqlConnection connection,
        NpgsqlTransaction transaction, IReadOnlyList<Exposure> exposures, CancellationToken cancellationToken)
    {
        var (_, experiments) = await FindOwnersAsync(connection, transaction, [], exposures.Select(e => e.ExperimentId), lockThem: true, cancellationToken);
        var unknown = exposures.Where(e => !experiments.Contains(e.ExperimentId)).ToList();
        // A unit's first exposure in the batch is the one that may count.
        var candidates = exposures.Where(e => experiments.Contains(e.ExperimentId)).DistinctBy(e => (e.ExperimentId, e.UnitId)).ToList();
        var stored = await FindExposedVariantsAsync(connection, transaction, candidates.Select(e => (e.ExperimentId, e.UnitId)), cancellationToken);
        var fresh = candidates.Where(e => !stored.ContainsKey((e.ExperimentId, e.UnitId))).ToList();
        if (fresh.Count == 0)
            return (0, unknown);

        await using (var copy = await connection.BeginBinaryImportAsync(
            "COPY exposures (experiment_id, unit_id, variant_id, at) FROM STDIN (FORMAT BINARY)", cancellationToken))
        {
            foreach (var exposure in fresh)
            {
                await copy.StartRowAsync(cancellationToken);
                await copy.WriteAsync(exposure.ExperimentId, NpgsqlDbType.Text, cancellationToken);
                await copy.WriteAsync(exposure.UnitId, NpgsqlDbType.Text, cancellationToken);
                await copy.WriteAsync(exposure.VariantId, NpgsqlDbType.Text, cancellationToken);
                await copy.WriteAsync(ToText(exposure.At), NpgsqlDbType.Text, cancellationToken);
            }
            await copy.CompleteAsync(cancellationToken);
        }

        var newUnits = fresh.CountBy(e => (e.ExperimentId, e.VariantId)).ToList();
        await connection.ExecuteAsync(Command("""
            INSERT INTO exposure_counts (experiment_id, variant_id, units) SELECT * FROM unnest(@Experiments, @Variants, @Units)
            ON CONFLICT (experiment_id, variant_id) DO UPDATE SET units = exposure_counts.units + excluded.units
            """, new
        {
            Experiments = newUnits.Select(n => n.Key.ExperimentId).ToArray(), Variants = newUnits.Select(n => n.Key.VariantId).ToArray(),
            Units = newUnits.Select(n => (long)n.Value).ToArray(),
        }, cancellationToken, transaction));
        await BringInUnitsAsync(connection, transaction, fresh, cancellationToken);
        return (fresh.Count, unknown);
    }

    public async Task<IReadOnlyDictionary<string, long>> CountExposuresAsync(string experimentId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(experimentId);
        // Render exposures queued before the read count in it.
        await exposureQueue.SettleAsync(cancellationToken);
        return await WithConnectionAsync(connection => ExperimentStatements.CountExposuresAsync(connection, experimentId, cancellationToken), cancellationToken);
    }

    /// <summary>Runs the insert or update of <paramref name="experiment"/>, translating its unique constraints.</summary>
    /// <returns>The number of rows written.</returns>
    private static async Task<int> WriteExperimentAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Experiment experiment,
        string sql, object parameters, CancellationToken cancellationToken)
    {
        try
        {
            return await connection.ExecuteAsync(Command(sql, parameters, cancellationToken, transaction));
        }
        catch (PostgresException e) when (PostgresErrors.IsUniqueViolation(e))
        {
            // Two unique constraints can fire; PostgreSQL names the one that did (the transaction cannot ask any more).
            throw e.ConstraintName == "ux_experiments_running"
                ? ConflictException.ExperimentRunning(experiment.PromptName)
                : ConflictException.ExperimentExists(experiment.PromptName, experiment.Name);
        }
    }
}
