using Dapper;
using Npgsql;
using PromptVault.Core.Audit;
using PromptVault.Core.Evaluations;
using PromptVault.Storage.Testing;
using static PromptVault.Storage.Testing.Samples;

namespace PromptVault.Storage.Postgres.Tests;

/// <summary>
/// An instance that stops answering in the middle of a write transaction (its host crashed, or a partition cut it off
/// without closing its connections) does not hold its locks for long: <see cref="PostgresDataSource"/>'s
/// idle_in_transaction_session_timeout ends its transaction, so the other instances' writes go on. Nor does one whose
/// session ends mid-write (its process killed, its connection cut): its locks end with it.
/// </summary>
public sealed class PostgresVanishedInstanceTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AnInstanceVanishesHoldingAVersionsLock_AnotherInstancesWriteCompletesAfterTheIdleTransactionLimit_AndTheVanishedWriteIsNotCommitted()
    {
        await using var database = await PostgresServer.CreateDatabaseAsync(cancellationToken: Cancel);
        var survivor = database.CreateStore();
        var (prompt, version, _) = await SeedPromptAsync(survivor, "held");
        var direct = new NpgsqlConnectionStringBuilder(database.ConnectionString);
        await using var relay = new StallingRelay(direct.Host!, direct.Port);
        // The limit the pool sets (60 s), shortened through the connection string's own Options, which win.
        var idleLimit = TimeSpan.FromSeconds(2);
        await using var vanishingSource = PostgresDataSource.Create(new NpgsqlConnectionStringBuilder(database.ConnectionString)
        {
            Port = relay.Port, Options = $"-c idle_in_transaction_session_timeout={idleLimit.TotalMilliseconds}",
        }.ConnectionString);
        await using var vanishing = new PostgresPromptStore(vanishingSource);

        // The vanishing instance writes the version's test cases (the row lock ChangeTestsAsync's compare-and-set takes)
        // and goes quiet before committing.
        var holding = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var never = new CancellationTokenSource();
        var vanishingWrite = vanishing.WriteAsync(async (connection, transaction) =>
        {
            Assert.True(await EvaluationStatements.ReplaceTestsAsync(connection, transaction, version.Id, null, [Case("from the vanished instance")], Cancel));
            holding.SetResult();
            await Task.Delay(Timeout.Infinite, never.Token);
            return true;
        }, Cancel);
        await holding.Task.WaitAsync(Cancel);
        relay.Stall();
        var stalledAt = System.Diagnostics.Stopwatch.StartNew();

        await survivor.ChangeTestsAsync(version.Id, stored => ([.. stored, Case("from the survivor")],
            Audit(AuditActions.TestsChanged, prompt.Name, "1.0.0")), Cancel).WaitAsync(TimeSpan.FromSeconds(12), Cancel);

        Assert.True(stalledAt.Elapsed >= idleLimit * 0.9, $"the survivor's write did not wait for the lock ({stalledAt.Elapsed})");
        Assert.Equal(["from the survivor"], (await survivor.FindTestsAsync(version.Id, Cancel)).Select(t => t.Name));
        await never.CancelAsync();
        await Assert.ThrowsAnyAsync<Exception>(() => vanishingWrite);
    }

    [Fact]
    public async Task AWritersSessionKilledHoldingAVersionsMetricLock_AnotherInstancesBatchProceeds_OnlyWhatWasAcknowledgedCountsOnce()
    {
        await using var database = await PostgresServer.CreateDatabaseAsync(cancellationToken: Cancel);
        await using var survivorSource = PostgresDataSource.Create(Named(database, "pv-survivor"));
        await using var killedSource = PostgresDataSource.Create(Named(database, "pv-killed"));
        await using var survivor = new PostgresPromptStore(survivorSource);
        await using var killed = new PostgresPromptStore(killedSource);
        var (_, version, _) = await SeedPromptAsync(survivor, "killed");
        await survivor.RecordEventsAsync([Event(version.Id, Now, "seed")], null, Cancel);

        // The test holds the version's rollup rows, so the killed instance's writer stops mid-batch: its events copied,
        // the version's advisory lock taken, waiting to update the rows.
        await using var blocker = await database.DataSource.OpenConnectionAsync(Cancel);
        await using var blocking = await blocker.BeginTransactionAsync(Cancel);
        await using (var hold = new NpgsqlCommand("SELECT 1 FROM metric_rollups WHERE scope_id = $1 FOR UPDATE", blocker, blocking))
        {
            hold.Parameters.Add(new NpgsqlParameter { Value = version.Id });
            await hold.ExecuteNonQueryAsync(Cancel);
        }
        var lost = new[] { Event(version.Id, Now, "lost-1"), Event(version.Id, Now, "lost-2") };
        var killedWrite = killed.RecordEventsAsync(lost, null, Cancel);
        var killedPid = await Eventually(() => WaitingBackendAsync(database, "pv-killed", advisory: false), pid => pid is not null);
        var acknowledged = new[] { Event(version.Id, Now, "kept-1"), Event(version.Id, Now, "kept-2"), Event(version.Id, Now, "kept-3") };
        var survivorWrite = survivor.RecordEventsAsync(acknowledged, null, Cancel);
        await Eventually(() => WaitingBackendAsync(database, "pv-survivor", advisory: true), pid => pid is not null);

        await using (var kill = new NpgsqlCommand("SELECT pg_terminate_backend($1)", blocker, blocking))
        {
            kill.Parameters.Add(new NpgsqlParameter { Value = killedPid!.Value });
            await kill.ExecuteNonQueryAsync(Cancel);
        }
        await Assert.ThrowsAnyAsync<Exception>(() => Eventually(killedWrite));
        // The advisory lock died with the killed session: the survivor's writer took it and now waits for the test's rows.
        await Eventually(() => WaitingBackendAsync(database, "pv-survivor", advisory: false), pid => pid is not null);
        await blocking.RollbackAsync(Cancel);

        Assert.Equal(3, (await Eventually(survivorWrite)).Stored);
        // The killed instance's client sends its batch again, to the survivor: none of it was stored, so all of it is.
        var retried = await survivor.RecordEventsAsync(lost, null, Cancel);
        Assert.Equal((2, 0), (retried.Stored, retried.DuplicateIds.Count));
        // And the killed instance's pool replaced the connection: it writes again.
        Assert.Equal(1, (await killed.RecordEventsAsync([Event(version.Id, Now, "after")], null, Cancel)).Stored);

        Assert.Equal(["after", "kept-1", "kept-2", "kept-3", "lost-1", "lost-2", "seed"],
            await blocker.QueryAsync<string>("SELECT id FROM metric_events ORDER BY id"));
        Assert.Equal(7, (await survivor.ReadVersionTotalAsync(version.Id, Cancel)).Count);
        Assert.Equal(7, (await survivor.ReadVersionHoursAsync(version.Id, DateTimeOffset.MinValue, Cancel)).Sum(h => h.Aggregate.Count));
    }

    private static string Named(PostgresTestDatabase database, string applicationName) =>
        new NpgsqlConnectionStringBuilder(database.ConnectionString) { ApplicationName = applicationName }.ConnectionString;

    /// <summary>
    /// The backend of <paramref name="applicationName"/> that waits for a lock: an advisory one, or another (a row's). Asked
    /// outside any transaction, which would see the activity of its first read only.
    /// </summary>
    private static async Task<int?> WaitingBackendAsync(PostgresTestDatabase database, string applicationName, bool advisory)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync(Cancel);
        return await connection.QuerySingleOrDefaultAsync<int?>("""
            SELECT pid FROM pg_stat_activity
            WHERE application_name = @applicationName AND wait_event_type = 'Lock' AND (wait_event = 'advisory') = @advisory
            """, new { applicationName, advisory });
    }

    private static TestCase Case(string name) => new(name, new Dictionary<string, System.Text.Json.JsonElement>(), null, []);
}
