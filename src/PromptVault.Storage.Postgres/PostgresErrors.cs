using Npgsql;

namespace PromptVault.Storage.Postgres;

/// <summary>Recognises the PostgreSQL errors the store translates (SQLSTATE codes).</summary>
internal static class PostgresErrors
{
    /// <summary>A unique or primary key constraint (PostgreSQL does not tell them apart).</summary>
    public static bool IsUniqueViolation(PostgresException e) => e.SqlState == PostgresErrorCodes.UniqueViolation;

    public static bool IsForeignKeyViolation(PostgresException e) => e.SqlState == PostgresErrorCodes.ForeignKeyViolation;
}
