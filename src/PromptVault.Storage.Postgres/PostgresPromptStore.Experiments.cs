using System.Data.Common;
using Dapper;
using Npgsql;
using NpgsqlTypes;
using PromptVault.Core;
using PromptVault.Core.Experiments;
using PromptVault.Core.Storage;
using static PromptVault.Storage.StoredValues;

namespace PromptVault.Storage.Postgres;

public sealed partial class PostgresPromptStore : IAsyncDisposable
{
    private const int ExposureQueueCapacity = 65_536;
    private const int MaxExposuresPerTransaction = 8_192;

    private readonly PostgresExposureQueue exposureQueue;

    /// <summary>Commits the queued metric batches and render exposures, then stops taking new ones. The data source is the caller's to dispose.</summary>
    public async ValueTask DisposeAsync()
    {
        metricBatches.Writer.TryComplete();
        await metricWriter;
        metricQueueObserver.Dispose();
        await exposureQueue.DisposeAsync();
    }

    /// <summary>How many render exposures wait for the writer.</summary>
    internal int QueuedExposures => exposureQueue.Count;

    public override Task<IReadOnlyList<bool>> RecordExposuresAsync(IReadOnlyList<Exposure> exposures, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(exposures);
        // One transaction however many exposures: with one per exposure, each held a pooled connection while it queued for
        // the experiment's lock, and an SDK's batch of 1,000 took the whole pool.
        return WriteExposureBatchAsync(exposures, async (connection, transaction) =>
        {
            var (first, unknown) = await WriteExposuresAsync(connection, transaction, exposures, cancellationToken);
            return unknown.Count > 0 ? throw ExperimentStatements.ExperimentNotFound(unknown[0].ExperimentId) : first;
        }, cancellationToken);
    }

    /// <summary>Per experiment (by hash), the exposure writers of this process take turns here before they take a connection.</summary>
    private readonly SemaphoreSlim[] exposureTurns = [.. Enumerable.Range(0, 64).Select(_ => new SemaphoreSlim(1, 1))];

    /// <summary>
    /// Runs <paramref name="write"/> (<see cref="WriteExposuresAsync"/>) once it is this process's turn on the exposures'
    /// experiments. Writers of one experiment wait for its database lock in turn; each waiting on a pooled connection, many
    /// batches to one busy experiment took the whole pool and every other request found the store busy. So they wait here,
    /// without a connection: at most one connection of this process waits on the database lock (another instance's writers).
    /// </summary>
    private async Task<T> WriteExposureBatchAsync<T>(IReadOnlyList<Exposure> exposures, Func<NpgsqlConnection, NpgsqlTransaction, Task<T>> write,
        CancellationToken cancellationToken)
    {
        // In ascending order, so two writers never wait for each other in a circle.
        var turns = exposures.Select(e => (int)((uint)StringComparer.Ordinal.GetHashCode(e.ExperimentId) % (uint)exposureTurns.Length))
            .Distinct().Order().Select(i => exposureTurns[i]).ToList();
        var taken = 0;
        try
        {
            foreach (var turn in turns)
            {
                await turn.WaitAsync(cancellationToken);
                taken++;
            }
            return await WriteAggregatesAsync(write, cancellationToken);
        }
        finally
        {
            foreach (var turn in turns.Take(taken))
                turn.Release();
        }
    }

    internal override bool TryQueueExposure(Exposure exposure) => exposureQueue.TryQueue(exposure);

    internal override Task SettleExposuresAsync(CancellationToken cancellationToken) => exposureQueue.SettleAsync(cancellationToken);

    /// <summary>The render exposures' writer: one transaction per batch.</summary>
    private PostgresExposureQueue CreateExposureQueue(int capacity) => new(capacity, MaxExposuresPerTransaction,
        async exposures =>
        {
            await WriteExposureBatchAsync(exposures, async (connection, transaction) =>
            {
                var (_, unknown) = await WriteExposuresAsync(connection, transaction, exposures, CancellationToken.None);
                // An experiment that does not exist never will: its exposures are lost, the others stored.
                if (unknown.Count > 0)
                    Telemetry.ExposuresLost(unknown.Count);
                return true;
            }, CancellationToken.None);
            ExposuresRecorded();
        },
        ExposuresLost, PostgresErrors.IsDataRefusal);

    /// <summary>
    /// Stores each unit's first exposure (binary COPY), then once per variant: its count of exposed units, and the unit sums
    /// of earlier events its new units bring in (see <see cref="BringInUnitsAsync"/>). Holds the experiments' locks
    /// (<see cref="FindOwnersAsync"/>), so no other writer changes their exposures or unit statistics meanwhile.
    /// </summary>
    /// <returns>
    /// For each exposure, whether it was its unit's first (not stored before, nor earlier in the list); and those whose
    /// experiment does not exist (not stored).
    /// </returns>
    private static async Task<(IReadOnlyList<bool> First, IReadOnlyList<Exposure> Unknown)> WriteExposuresAsync(NpgsqlConnection connection,
        NpgsqlTransaction transaction, IReadOnlyList<Exposure> exposures, CancellationToken cancellationToken)
    {
        var (_, experiments) = await FindOwnersAsync(connection, transaction, [], exposures.Select(e => e.ExperimentId), lockThem: true, cancellationToken);
        var unknown = exposures.Where(e => !experiments.Contains(e.ExperimentId)).ToList();
        // A unit's first exposure in the batch is the one that may count.
        var candidates = exposures.Where(e => experiments.Contains(e.ExperimentId)).DistinctBy(e => (e.ExperimentId, e.UnitId)).ToList();
        var stored = await FindExposedVariantsAsync(connection, transaction, candidates.Select(e => (e.ExperimentId, e.UnitId)), cancellationToken);
        var fresh = candidates.Where(e => !stored.ContainsKey((e.ExperimentId, e.UnitId))).ToList();
        var freshUnits = fresh.Select(e => (e.ExperimentId, e.UnitId)).ToHashSet();
        var first = exposures.Select(e => freshUnits.Remove((e.ExperimentId, e.UnitId))).ToArray(); // true for a unit's first occurrence only
        if (fresh.Count == 0)
            return (first, unknown);

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
        return (first, unknown);
    }

    internal override Task<bool> ExperimentNameTakenAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Experiment experiment,
        DbException error, CancellationToken cancellationToken) =>
        // Two unique constraints can fire; PostgreSQL names the one that did (the transaction cannot ask any more).
        Task.FromResult(((PostgresException)error).ConstraintName != "ux_experiments_running");
}
