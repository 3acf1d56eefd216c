using Dapper;
using Npgsql;
using PromptVault.Core.Contracts;
using PromptVault.Core.Experiments;
using PromptVault.Storage.Testing;
using static PromptVault.Storage.Testing.Samples;

namespace PromptVault.Storage.Postgres.Tests;

/// <summary>
/// <c>POST /api/exposures</c> (<see cref="ExposureService"/>) on PostgreSQL: an SDK's batch is one transaction on one pooled
/// connection. A transaction per exposure held a connection each while they queued for the experiment's lock, so one batch
/// of 1,000 took the whole pool (100) and two at once ran out of it.
/// </summary>
public sealed class PostgresExposureBatchTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task RecordAsync_TwoSdkBatchesOf1000AtOnce_EachOneTransaction()
    {
        await using var database = await PostgresServer.CreateDatabaseAsync(cancellationToken: Cancel);
        var store = database.CreateStore();
        var (_, experiment) = await SeedRunningExperimentAsync(store, "sdk");
        var service = new ExposureService(store, TimeProvider.System);
        var batches = Enumerable.Range(0, 2).Select(b => new ExposureBatchRequest(Enumerable.Range(0, 1_000).Select(i => Exposure(experiment, $"unit-{b}-{i}"))
            .Select(e => new ExposureRequest(e.ExperimentId, e.VariantId, e.UnitId)).ToList())).ToList();

        var answers = await Task.WhenAll(batches.Select(batch => service.RecordAsync(batch, Cancel)));

        Assert.All(answers, answer => Assert.Equal((1_000, 1_000), (answer.Received, answer.Recorded)));
        await using var connection = await database.DataSource.OpenConnectionAsync(Cancel);
        // Rows written by one transaction carry its id (xmin).
        Assert.Equal(2, await connection.ExecuteScalarAsync<long>(
            "SELECT count(DISTINCT xmin::text) FROM exposures WHERE experiment_id = @Id", new { experiment.Id }));
        Assert.Equal(2_000, (await store.CountExposuresAsync(experiment.Id, Cancel)).Values.Sum());
    }

    [Fact]
    public async Task RecordExposuresAsync_ManyBatchesWaitOnOneBusyExperiment_HoldOneConnection_AReadIsAnswered_EachStoredOnce()
    {
        await using var database = await PostgresServer.CreateDatabaseAsync(cancellationToken: Cancel);
        // Three pooled connections, waited for two seconds.
        var small = new NpgsqlConnectionStringBuilder(database.ConnectionString) { MaxPoolSize = 3, Timeout = 2 };
        await using var dataSource = NpgsqlDataSource.Create(small.ConnectionString);
        await using var store = new PostgresPromptStore(dataSource);
        var (_, experiment) = await SeedRunningExperimentAsync(store, "busy");
        await using var holder = await database.DataSource.OpenConnectionAsync(Cancel);
        // Another instance's writer holds the experiment's lock (FindOwnersAsync's key).
        await holder.ExecuteAsync("SELECT pg_advisory_lock(hashtextextended('experiment:' || @Id, 0))", new { experiment.Id });

        // Each call asks for its turn (or, were there none, for a connection) before it returns: by the end of this line the
        // other seven batches wait, and any connection they asked for is asked before the read's below.
        var batches = Enumerable.Range(0, 8).Select(b => store.RecordExposuresAsync(
            [.. Enumerable.Range(0, 50).Select(i => Exposure(experiment, $"unit-{b}-{i}"))], Cancel)).ToList();
        await AdvisoryLockWaits.WriterWaitsAsync(holder);

        var prompts = await store.ListPromptsAsync(new(), Cancel);
        Assert.NotEmpty(prompts);
        Assert.Equal(1, await AdvisoryLockWaits.CountAsync(holder));

        await holder.ExecuteAsync("SELECT pg_advisory_unlock(hashtextextended('experiment:' || @Id, 0))", new { experiment.Id });
        Assert.All(await Task.WhenAll(batches), first => Assert.All(first, Assert.True));
        Assert.Equal(400, (await store.CountExposuresAsync(experiment.Id, Cancel)).Values.Sum());
        Assert.Equal(400, await holder.ExecuteScalarAsync<long>("SELECT count(*) FROM exposures WHERE experiment_id = @Id", new { experiment.Id }));
    }
}
