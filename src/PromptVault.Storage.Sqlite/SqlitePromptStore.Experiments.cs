using Dapper;
using Microsoft.Data.Sqlite;
using PromptVault.Core;
using PromptVault.Core.Analysis;
using PromptVault.Core.Audit;
using PromptVault.Core.Experiments;
using PromptVault.Core.Storage;
using static PromptVault.Storage.StoredValues;

namespace PromptVault.Storage.Sqlite;

public sealed partial class SqlitePromptStore : IExperimentStore
{
    private const string InsertExposureSql = """
        INSERT INTO exposures (experiment_id, unit_id, variant_id, at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (experiment_id, unit_id) DO NOTHING
        """;

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
        return writes.EnqueueAsync(WriteKind.Exposure, 1, async context => await WriteExposuresAsync(context, [exposure], cancellationToken) > 0,
            cancellationToken);
    }

    public ExposureQueueOutcome QueueExposure(Exposure exposure)
    {
        ArgumentNullException.ThrowIfNull(exposure);
        return recentExposures.Queue(exposure, writes.TryQueue);
    }

    /// <summary>
    /// Stores each unit's first exposure, then once per variant: its count of exposed units, and the unit sums of earlier
    /// events its new units bring in (see <see cref="BringInUnitsAsync"/>).
    /// </summary>
    /// <returns>How many of the exposures were first exposures.</returns>
    /// <exception cref="NotFoundException">An exposure's experiment does not exist; none of them is stored.</exception>
    private static async Task<int> WriteExposuresAsync(SqliteWriteContext context, IReadOnlyList<Exposure> exposures, CancellationToken cancellationToken)
    {
        var insert = context.Prepare(InsertExposureSql);
        var findSums = context.Prepare(FindUnitSumsSql);
        var newUnits = new Dictionary<(string Experiment, string Variant), long>();
        var broughtIn = new Dictionary<(string Experiment, string Variant), List<UnitSums>>();
        foreach (var exposure in exposures)
        {
            int inserted;
            try
            {
                inserted = insert.Bind(1, exposure.ExperimentId).Bind(2, exposure.UnitId).Bind(3, exposure.VariantId).Bind(4, ToText(exposure.At)).Execute();
            }
            catch (SqliteException e) when (SqliteErrors.IsForeignKeyViolation(e))
            {
                throw ExperimentStatements.ExperimentNotFound(exposure.ExperimentId);
            }
            if (inserted == 0) continue;

            var key = (exposure.ExperimentId, exposure.VariantId);
            newUnits[key] = newUnits.GetValueOrDefault(key) + 1;
            if (findSums.Bind(1, exposure.ExperimentId).Bind(2, exposure.UnitId).Bind(3, exposure.VariantId).QueryBlob() is { } stored)
            {
                if (!broughtIn.TryGetValue(key, out var sums))
                    broughtIn.Add(key, sums = []);
                sums.Add(UnitStatisticsCodec.DecodeUnitSums(stored));
            }
        }
        foreach (var ((experimentId, variantId), units) in newUnits)
        {
            await context.Connection.ExecuteAsync(Command("""
                INSERT INTO exposure_counts (experiment_id, variant_id, units) VALUES (@ExperimentId, @VariantId, @Units)
                ON CONFLICT (experiment_id, variant_id) DO UPDATE SET units = units + excluded.units
                """, new { ExperimentId = experimentId, VariantId = variantId, Units = units }, cancellationToken, context.Transaction));
        }
        foreach (var ((experimentId, variantId), sums) in broughtIn)
            await BringInUnitsAsync(context.Connection, context.Transaction, experimentId, variantId, sums, cancellationToken);
        return newUnits.Values.Sum(n => (int)n);
    }

    public async Task<IReadOnlyDictionary<string, long>> CountExposuresAsync(string experimentId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(experimentId);
        // Render exposures queued before the read count in it.
        await writes.SettleExposuresAsync(cancellationToken);
        return await WithConnectionAsync(connection => ExperimentStatements.CountExposuresAsync(connection, experimentId, cancellationToken), cancellationToken);
    }

    /// <summary>Runs the insert or update of <paramref name="experiment"/>, translating its unique constraints.</summary>
    /// <returns>The number of rows written.</returns>
    private static async Task<int> WriteExperimentAsync(SqliteConnection connection, SqliteTransaction transaction, Experiment experiment,
        string sql, object parameters, CancellationToken cancellationToken)
    {
        try
        {
            return await connection.ExecuteAsync(Command(sql, parameters, cancellationToken, transaction));
        }
        catch (SqliteException e) when (SqliteErrors.IsUniqueViolation(e))
        {
            // Two unique constraints can fire; the failed statement changed nothing, so ask which one holds the other row.
            var nameTaken = await connection.ExecuteScalarAsync<bool>(Command(
                "SELECT EXISTS (SELECT 1 FROM experiments WHERE prompt_id = @PromptId AND name = @Name AND id <> @Id)",
                new { experiment.PromptId, experiment.Name, experiment.Id }, cancellationToken, transaction));
            throw nameTaken ? ConflictException.ExperimentExists(experiment.PromptName, experiment.Name) : ConflictException.ExperimentRunning(experiment.PromptName);
        }
    }
}
