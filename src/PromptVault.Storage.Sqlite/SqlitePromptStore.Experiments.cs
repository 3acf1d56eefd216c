using System.Data.Common;
using Dapper;
using Microsoft.Data.Sqlite;
using PromptVault.Core;
using PromptVault.Core.Analysis;
using PromptVault.Core.Experiments;
using PromptVault.Core.Storage;
using static PromptVault.Storage.StoredValues;

namespace PromptVault.Storage.Sqlite;

public sealed partial class SqlitePromptStore
{
    // Appended: ExposedUnits, not a key, keeps a unit's first exposure the only one (migration 012).
    private const string InsertExposureSql = """
        INSERT INTO exposures (experiment_id, unit_id, variant_id, at) VALUES (?1, ?2, ?3, ?4)
        """;

    private const string AddExposedUnitsSql = """
        INSERT INTO exposure_counts (experiment_id, variant_id, units) VALUES (?1, ?2, ?3)
        ON CONFLICT (experiment_id, variant_id) DO UPDATE SET units = units + excluded.units
        """;

    public override Task<IReadOnlyList<bool>> RecordExposuresAsync(IReadOnlyList<Exposure> exposures, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(exposures);
        // One acknowledged write of the group commit however many exposures it holds, in a savepoint of its own: all or none.
        return writes.EnqueueAsync(WriteKind.Exposure, exposures.Count, context => Task.FromResult(WriteExposures(context, exposures)), cancellationToken);
    }

    /// <summary>
    /// Stores each unit's first exposure, then once per variant: its count of exposed units, and the unit sums of earlier
    /// events its new units bring in (see <see cref="BringInUnits"/>).
    /// </summary>
    /// <returns>For each exposure, whether it was its unit's first.</returns>
    /// <exception cref="NotFoundException">An exposure's experiment does not exist; none of them is stored.</exception>
    private static IReadOnlyList<bool> WriteExposures(SqliteWriteContext context, IReadOnlyList<Exposure> exposures)
    {
        if (!context.Analysis.IsEmpty)
            throw new InvalidOperationException("A group writes its exposures before its event batches: the unit rows they read are written at its commit.");
        var insert = context.Prepare(InsertExposureSql);
        var findSums = context.Prepare(FindUnitSumsSql);
        var first = new bool[exposures.Count];
        var variants = new Dictionary<(string Experiment, string Variant), NewUnits>();
        for (var i = 0; i < exposures.Count; i++)
        {
            var exposure = exposures[i];
            first[i] = context.TryAddExposure(exposure);
            if (!first[i]) continue;
            try
            {
                insert.Bind(1, exposure.ExperimentId).Bind(2, exposure.UnitId).Bind(3, exposure.VariantId).Bind(4, exposure.At).Execute();
            }
            catch (SqliteException e) when (SqliteErrors.IsForeignKeyViolation(e))
            {
                throw ExperimentStatements.ExperimentNotFound(exposure.ExperimentId);
            }

            var key = (exposure.ExperimentId, exposure.VariantId);
            if (!variants.TryGetValue(key, out var variant))
                variants.Add(key, variant = new NewUnits(ReadVariantUnitStats(context, exposure.ExperimentId, exposure.VariantId)));
            variant.Count++;
            // Until its exposure a unit's events count as unattributed (DeferredAnalysis), so a variant with none has no sums
            // of a unit not yet exposed to it: its new units need no look.
            if (variant.Stats.UnattributedEvents != 0
                && findSums.Bind(1, exposure.ExperimentId).Bind(2, exposure.UnitId).Bind(3, exposure.VariantId).QueryBlob() is { } stored)
                variant.BroughtIn.Add(UnitStatisticsCodec.DecodeUnitSums(stored));
        }
        var addUnits = context.Prepare(AddExposedUnitsSql);
        foreach (var ((experimentId, variantId), variant) in variants)
        {
            addUnits.Bind(1, experimentId).Bind(2, variantId).Bind(3, variant.Count).Execute();
            if (variant.BroughtIn.Count > 0)
                BringInUnits(context, experimentId, variantId, variant.Stats, variant.BroughtIn);
        }
        return first;
    }

    /// <summary>A variant's units first exposed in one write, its statistics as stored before it, and the sums of the new units' earlier events.</summary>
    private sealed class NewUnits(VariantUnitStats stats)
    {
        public VariantUnitStats Stats { get; } = stats;
        public long Count { get; set; }
        public List<UnitSums> BroughtIn { get; } = [];
    }

    internal override Task<bool> ExperimentNameTakenAsync(SqliteConnection connection, SqliteTransaction transaction,
        Experiment experiment, DbException error, CancellationToken cancellationToken) =>
        // Two unique constraints can fire; the failed statement changed nothing, so ask which one holds the other row.
        connection.ExecuteScalarAsync<bool>(Command(
            "SELECT EXISTS (SELECT 1 FROM experiments WHERE prompt_id = @PromptId AND name = @Name AND id <> @Id)",
            new { experiment.PromptId, experiment.Name, experiment.Id }, cancellationToken, transaction));
}
