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

    /// <summary>
    /// The database refused a value or a row (SQLSTATE classes 22, data exception, and 23, integrity constraint): an
    /// error of what was written, which writing it again gives again, unlike a lost connection or a timeout.
    /// </summary>
    public static bool IsDataRefusal(Exception e) => e is PostgresException { SqlState: ['2', '2' or '3', ..] };
}
