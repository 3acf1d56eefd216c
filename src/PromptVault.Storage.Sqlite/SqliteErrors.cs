using Microsoft.Data.Sqlite;
using PromptVault.Core;

namespace PromptVault.Storage.Sqlite;

/// <summary>Recognises the SQLite errors the store translates (result codes from https://sqlite.org/rescode.html).</summary>
internal static class SqliteErrors
{
    private const int Busy = 5;
    private const int Locked = 6;
    private const int ReadOnly = 8;
    private const int IoErr = 10;
    private const int Full = 13;
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

    /// <summary>
    /// The store's own exception for a failure the caller may retry, or null: a lock held by another connection for longer
    /// than the busy timeout (<see cref="TimeoutException"/>), a full disk (<see cref="StoreFullException"/>), or a file
    /// SQLite opened read-only, as it does without a word when the file, its folder or its filesystem is not writable
    /// (<see cref="StoreReadOnlyException"/>). A connection opened before that reports a write to its <c>-wal</c> file as a
    /// disk I/O error instead, so an I/O error while the database's files cannot be opened for writing is read-only too.
    /// </summary>
    public static Exception? Transient(SqliteException e, SqliteConnectionFactory connections) => e.SqliteErrorCode switch
    {
        Busy or Locked => new TimeoutException(
            $"The SQLite database stayed locked by another writer for more than {connections.BusyTimeout.TotalSeconds:0.#} s. " +
            "This is transient: retry the request.", e),
        ReadOnly or IoErr when e.SqliteErrorCode == ReadOnly || !Writable(connections.DatabasePath) => new StoreReadOnlyException(
            $"The SQLite database file {connections.DatabasePath} cannot be written (it, its folder or its filesystem is read-only): " +
            "nothing was stored, and reads still work. Make it writable, then retry the request.", e),
        Full => new StoreFullException("The SQLite database's disk is full: nothing was stored. Free space, then retry the request.", e),
        _ => null,
    };

    private static bool Writable(string databasePath)
    {
        try
        {
            foreach (var path in new[] { databasePath, databasePath + "-wal" }.Where(File.Exists))
                using (File.Open(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete)) { }
            return true;
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            return false;
        }
    }
}
