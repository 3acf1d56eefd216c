using Npgsql;

namespace PromptVault.Storage.Postgres;

/// <summary>Recognises the PostgreSQL errors the store translates (SQLSTATE codes).</summary>
internal static class PostgresErrors
{
    /// <summary>A unique or primary key constraint (PostgreSQL does not tell them apart).</summary>
    public static bool IsUniqueViolation(PostgresException e) => e.SqlState == PostgresErrorCodes.UniqueViolation;

    /// <summary>The transaction was chosen as a deadlock victim, or could not be serialised: rolled back whole, safe to redo.</summary>
    public static bool IsLostRace(PostgresException e) => e.SqlState is PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure;

    public static bool IsForeignKeyViolation(PostgresException e) => e.SqlState == PostgresErrorCodes.ForeignKeyViolation;

    /// <summary>The server could not extend a file (SQLSTATE 53100): the transaction is rolled back whole, and waits for an operator.</summary>
    public static bool IsDiskFull(PostgresException e) => e.SqlState == PostgresErrorCodes.DiskFull;

    /// <summary>The server takes no writes (SQLSTATE 25006): a hot standby, or <c>default_transaction_read_only</c> on.</summary>
    public static bool IsReadOnly(PostgresException e) => e.SqlState == PostgresErrorCodes.ReadOnlySqlTransaction;

    /// <summary>
    /// The server could not be reached or went away: no connection (refused, timed out, dropped; Npgsql's own exception,
    /// transient), a connection error (SQLSTATE class 08), or the server shutting down, crashed or starting (57P01-57P03).
    /// Not a lost race or a full disk, which Npgsql also calls transient but are answered otherwise, nor an exhausted pool.
    /// </summary>
    public static bool IsUnreachable(NpgsqlException e) =>
        e is PostgresException p ? p.SqlState is ['0', '8', ..] or "57P01" or "57P02" or "57P03" : e.IsTransient && !IsPoolExhausted(e);

    /// <summary>
    /// Every connection of the pool (its <c>Max Pool Size</c>) stayed in use past its <c>Timeout</c>: the database is reachable,
    /// this server is busy. Npgsql tells it apart from a connect timeout (the same inner <see cref="TimeoutException"/>) only
    /// by its wording, which is not localised.
    /// </summary>
    public static bool IsPoolExhausted(NpgsqlException e) =>
        e is not PostgresException && e.InnerException is TimeoutException
        && e.Message.StartsWith("The connection pool has been exhausted", StringComparison.Ordinal);

    /// <summary>
    /// The server refused a new connection because a connection limit is reached (SQLSTATE 53300): its <c>max_connections</c>,
    /// or the role's or the database's <c>CONNECTION LIMIT</c>. The database is reachable and busy, as with an exhausted pool.
    /// </summary>
    public static bool IsConnectionLimitReached(NpgsqlException e) => e is PostgresException { SqlState: PostgresErrorCodes.TooManyConnections };

    /// <summary>What to do about <see cref="IsConnectionLimitReached"/>, the same at start and while running (docs/deployment.md).</summary>
    public const string ConnectionLimitAdvice = "keep servers × (Maximum Pool Size + 1) below the server's max_connections and the role's and "
        + "database's CONNECTION LIMIT (docs/deployment.md, Connections and pool size)";

    /// <summary>
    /// The database refused a value or a row (SQLSTATE classes 22, data exception, and 23, integrity constraint): an
    /// error of what was written, which writing it again gives again, unlike a lost connection or a timeout.
    /// </summary>
    public static bool IsDataRefusal(Exception e) => e is PostgresException { SqlState: ['2', '2' or '3', ..] };
}
