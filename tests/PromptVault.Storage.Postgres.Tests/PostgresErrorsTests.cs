using System.Net;
using System.Net.Sockets;
using Npgsql;
using PromptVault.Storage.Testing;

namespace PromptVault.Storage.Postgres.Tests;

/// <summary>
/// An exhausted pool and a connect timeout are the same exception to Npgsql 10 (a plain <see cref="NpgsqlException"/> over a
/// <see cref="TimeoutException"/>, no SQLSTATE, no data); only its wording tells them apart, so these pin that wording.
/// </summary>
public sealed class PostgresErrorsTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task IsPoolExhausted_EveryPooledConnectionInUsePastTheTimeout_True_AndNotUnreachable()
    {
        await using var database = await PostgresServer.CreateDatabaseAsync(cancellationToken: Cancel);
        await using var pool = NpgsqlDataSource.Create(
            new NpgsqlConnectionStringBuilder(database.ConnectionString) { MaxPoolSize = 1, Timeout = 1 }.ConnectionString);
        await using var taken = await pool.OpenConnectionAsync(Cancel);

        var e = await Assert.ThrowsAsync<NpgsqlException>(() => pool.OpenConnectionAsync(Cancel).AsTask());

        Assert.IsType<TimeoutException>(e.InnerException);
        Assert.True(PostgresErrors.IsPoolExhausted(e), $"Npgsql's wording of an exhausted pool changed: '{e.Message}'");
        Assert.False(PostgresErrors.IsUnreachable(e));
    }

    [Fact]
    public async Task IsPoolExhausted_AServerThatNeverAnswersTheConnectPastTheTimeout_False_ItIsUnreachable()
    {
        var e = await ConnectToASilentServerAsync();

        Assert.IsType<TimeoutException>(e.InnerException);
        Assert.False(PostgresErrors.IsPoolExhausted(e), e.Message);
        Assert.True(PostgresErrors.IsUnreachable(e), e.Message);
    }

    /// <summary>
    /// A log line of the store's trouble says the store's message and then the driver's (StoreOutage.Causes); the store's
    /// message quoted the driver's too ("could not be reached (Failed to connect …); retry the request. ---> NpgsqlException: Failed to connect …").
    /// </summary>
    [Fact]
    public async Task ConnectionTrouble_AnUnreachableServer_LogsTheDriversWordsOnce()
    {
        var e = await ConnectToASilentServerAsync();

        var unavailable = Assert.IsType<Core.StoreUnavailableException>(PostgresPromptStore.ConnectionTrouble(e));

        Assert.Equal("StoreUnavailableException: The PostgreSQL database could not be reached; retry the request. ---> " + StoreOutage.Causes(e),
            StoreOutage.Causes(unavailable));
    }

    /// <summary>Connects to a server that accepts the TCP connection (the kernel does, from the backlog) and never answers the startup message.</summary>
    private static async Task<NpgsqlException> ConnectToASilentServerAsync()
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        await using var pool = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1", Port = ((IPEndPoint)silent.LocalEndpoint).Port, Username = "nobody", Database = "none", Timeout = 1,
        }.ConnectionString);
        return await Assert.ThrowsAsync<NpgsqlException>(() => pool.OpenConnectionAsync(Cancel).AsTask());
    }

    [Fact]
    public async Task ConnectionTrouble_TheServerAtItsConnectionLimit_IsABusyStore_NamingTheLimitToRaise()
    {
        // Before, 53300 was no trouble the store knew: the request failed with 500 internal_error and a stack trace in the log.
        await using var database = await PostgresServer.CreateDatabaseAsync(cancellationToken: Cancel);
        var role = "full_" + Guid.NewGuid().ToString("N");
        await using (var create = database.DataSource.CreateCommand($"CREATE ROLE {role} LOGIN CONNECTION LIMIT 0"))
            await create.ExecuteNonQueryAsync(Cancel);
        await using var pool = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(database.ConnectionString) { Username = role }.ConnectionString);

        var e = await Assert.ThrowsAnyAsync<NpgsqlException>(() => pool.OpenConnectionAsync(Cancel).AsTask());

        var busy = Assert.IsType<TimeoutException>(PostgresPromptStore.ConnectionTrouble(e));
        Assert.Contains("max_connections", busy.Message);
        Assert.Contains("Maximum Pool Size", busy.Message);
        Assert.DoesNotContain(e.Message, busy.Message, StringComparison.Ordinal);
    }
}
