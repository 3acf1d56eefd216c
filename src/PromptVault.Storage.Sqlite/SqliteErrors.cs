using Microsoft.Data.Sqlite;

namespace PromptVault.Storage.Sqlite;

/// <summary>Recognises the SQLite errors the store translates (result codes from https://sqlite.org/rescode.html).</summary>
internal static class SqliteErrors
{
    private const int Busy = 5;
    private const int Locked = 6;
    private const int Constraint = 19;
    private const int ConstraintForeignKey = 787;
    private const int ConstraintPrimaryKey = 1555;
    private const int ConstraintUnique = 2067;

    public static bool IsUniqueViolation(SqliteException e) =>
        e.SqliteErrorCode == Constraint && e.SqliteExtendedErrorCode == ConstraintUnique;

    public static bool IsPrimaryKeyViolation(SqliteException e) =>
        e.SqliteErrorCode == Constraint && e.SqliteExtendedErrorCode == ConstraintPrimaryKey;

    public static bool IsForeignKeyViolation(SqliteException e) =>
        e.SqliteErrorCode == Constraint && e.SqliteExtendedErrorCode == ConstraintForeignKey;

    /// <summary>Another connection held the lock for longer than the busy timeout.</summary>
    public static bool IsBusy(SqliteException e) => e.SqliteErrorCode is Busy or Locked;

    public static TimeoutException Transient(SqliteException e, TimeSpan busyTimeout) =>
        new($"The SQLite database stayed locked by another writer for more than {busyTimeout.TotalSeconds:0.#} s. " +
            "This is transient: retry the request.", e);
}
