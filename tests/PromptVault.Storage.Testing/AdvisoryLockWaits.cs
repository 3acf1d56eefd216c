using Dapper;
using Npgsql;
using static PromptVault.Storage.Testing.Waiting;

namespace PromptVault.Storage.Testing;

/// <summary>The transactions that wait for an advisory lock a test holds, as PostgreSQL sees them.</summary>
public static class AdvisoryLockWaits
{
    // pg_locks is the whole server's: tests of other databases, run at the same time, take advisory locks too.
    private const string WaitingHere = """
        SELECT count(*) FROM pg_locks
        WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
        """;

    /// <summary>How many transactions of <paramref name="connection"/>'s database wait for an advisory lock.</summary>
    public static Task<long> CountAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction = null) =>
        connection.ExecuteScalarAsync<long>(WaitingHere, transaction: transaction);

    /// <summary>
    /// Waits until a transaction of <paramref name="connection"/>'s database waits for an advisory lock (one the test holds):
    /// the writer has taken its group or batch and is writing it. An empty queue alone does not say that: the writer may
    /// still be taking what is queued meanwhile into the same group.
    /// </summary>
    public static Task WriterWaitsAsync(NpgsqlConnection connection) => Eventually(async () => await CountAsync(connection) > 0);
}
