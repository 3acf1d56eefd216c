using Npgsql;
using PromptVault.Core.Audit;
using PromptVault.Core.Evaluations;
using PromptVault.Storage.Testing;
using static PromptVault.Storage.Testing.Samples;

namespace PromptVault.Storage.Postgres.Tests;

/// <summary>
/// An instance that stops answering in the middle of a write transaction (its host crashed, or a partition cut it off
/// without closing its connections) does not hold its locks for long: <see cref="PostgresDataSource"/>'s
/// idle_in_transaction_session_timeout ends its transaction, so the other instances' writes go on.
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

    private static TestCase Case(string name) => new(name, new Dictionary<string, System.Text.Json.JsonElement>(), null, []);
}
