using Npgsql;
using PromptVault.Core;
using PromptVault.Core.Storage;
using PromptVault.Storage.Testing;
using static PromptVault.Storage.Testing.Samples;

namespace PromptVault.Storage.Postgres.Tests;

/// <summary>A database turned read-only and back (as a failover to a standby, then to a new primary): writes resume at once.</summary>
public sealed class PostgresReadOnlyTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task SaveAsync_ManyAtOnceRightAfterTheDatabaseIsWritableAgain_EverySaveIsStored()
    {
        await using var database = await PostgresServer.CreateDatabaseAsync(cancellationToken: Cancel);
        var store = database.CreateStore();
        // Opened while the database is writable, so it can turn read-only off again.
        await using var admin = new NpgsqlConnection(database.ConnectionString);
        await admin.OpenAsync(Cancel);
        var databaseName = new NpgsqlConnectionStringBuilder(database.ConnectionString).Database;
        for (var round = 0; round < 10; round++)
        {
            await SetReadOnlyAsync(admin, databaseName!, true);
            database.DataSource.Clear(); // new sessions, as after a failover to a standby
            // Sessions begun while it is read-only wait idle in the pool, and keep that default.
            await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => store.FindPromptAsync("absent", Cancel)));
            await Assert.ThrowsAsync<StoreReadOnlyException>(() => SaveAsync(store, $"refused-{round}"));
            await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => store.FindPromptAsync("absent", Cancel)));

            await SetReadOnlyAsync(admin, databaseName!, false);
            // Each save meets a read-only session, clears the pool and retries, at the same time as the others.
            await Task.WhenAll(Enumerable.Range(0, 16).Select(i => SaveAsync(store, $"written-{round}-{i}")));
        }
    }

    private static Task SaveAsync(PostgresPromptStore store, string name)
    {
        var prompt = Prompt(name);
        return store.SaveAsync(Created(prompt, Version(prompt, 1)), Cancel);
    }

    private static async Task SetReadOnlyAsync(NpgsqlConnection admin, string database, bool on)
    {
        await using var command = new NpgsqlCommand($"ALTER DATABASE \"{database}\" SET default_transaction_read_only = {(on ? "on" : "off")}", admin);
        await command.ExecuteNonQueryAsync(Cancel);
    }
}
