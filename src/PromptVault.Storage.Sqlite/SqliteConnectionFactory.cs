using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace PromptVault.Storage.Sqlite;

/// <summary>
/// Opens connections to one SQLite database file, each set up for concurrent use: write-ahead log, foreign keys, a busy
/// timeout so writers wait for each other instead of failing, and <c>synchronous=NORMAL</c>.
/// </summary>
/// <remarks>
/// Register one per database as a singleton (the SQLite counterpart of an <c>NpgsqlDataSource</c>). Thread-safe. Disposing it
/// closes the database's pooled connections, so a stopped server leaves the file closed.
/// </remarks>
public sealed class SqliteConnectionFactory : IDisposable
{
    private static readonly TimeSpan DefaultBusyTimeout = TimeSpan.FromSeconds(10);

    private readonly string connectionPragmas;
    private readonly string unpooledConnectionString;

    // The journal mode is stored in the database file, so setting it once per factory (per database) is enough.
    private volatile bool walEnabled;

    /// <param name="databasePath">The database file; it and its directory are created on first use.</param>
    public SqliteConnectionFactory(string databasePath)
        : this(databasePath, DefaultBusyTimeout)
    {
    }

    /// <param name="databasePath">The database file; it and its directory are created on first use.</param>
    /// <param name="busyTimeout">How long a connection waits for another's lock before the store answers busy.</param>
    public SqliteConnectionFactory(string databasePath, TimeSpan busyTimeout)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(databasePath);
        DatabasePath = Path.GetFullPath(databasePath);
        BusyTimeout = busyTimeout;
        // busy_timeout comes first so the one-time switch to WAL also waits for other connections.
        connectionPragmas = $"PRAGMA busy_timeout = {(int)busyTimeout.TotalMilliseconds}; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;";
        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = DatabasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            // Microsoft.Data.Sqlite also retries SQLITE_BUSY until the command timeout (whole seconds; 0 would mean forever).
            DefaultTimeout = Math.Max(1, (int)Math.Ceiling(busyTimeout.TotalSeconds)),
        };
        ConnectionString = builder.ToString();
        builder.Pooling = false;
        unpooledConnectionString = builder.ToString();
    }

    /// <summary>The full path of the database file.</summary>
    public string DatabasePath { get; }

    public string ConnectionString { get; }

    /// <summary>How long a statement waits for another connection's lock before it fails with SQLITE_BUSY: 10 seconds.</summary>
    internal TimeSpan BusyTimeout { get; }

    /// <summary>
    /// Closes this database's idle pooled connections now and those in use when they are returned. Only this database's:
    /// <see cref="SqliteConnection.ClearAllPools"/> would also clear the pools of other databases in the process while they
    /// are in use. The factory can still open connections afterwards, into a new pool.
    /// </summary>
    public void Dispose() => ClearPool();

    /// <summary>Closes this database's idle pooled connections now and those in use when they are returned (see <see cref="Dispose"/>).</summary>
    internal void ClearPool()
    {
        using var connection = new SqliteConnection(ConnectionString);
        SqliteConnection.ClearPool(connection);
    }

    /// <summary>Whether SQLite opened <paramref name="connection"/> read-only, as it does a file it may not write.</summary>
    internal static bool IsReadOnly(SqliteConnection connection) => raw.sqlite3_db_readonly(connection.Handle, "main") == 1;

    /// <summary>Opens a configured connection; the caller disposes it.</summary>
    public Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken = default) => OpenAsync(ConnectionString, "", cancellationToken);

    /// <summary>
    /// Opens a configured connection outside the pool with <paramref name="pragmas"/> applied as well (the writer's own
    /// settings), so they end with it instead of passing to whoever takes it from the pool next; the caller disposes it.
    /// </summary>
    internal Task<SqliteConnection> OpenUnpooledAsync(string pragmas, CancellationToken cancellationToken = default) =>
        OpenAsync(unpooledConnectionString, pragmas, cancellationToken);

    private async Task<SqliteConnection> OpenAsync(string connectionString, string pragmas, CancellationToken cancellationToken)
    {
        if (!walEnabled && Path.GetDirectoryName(DatabasePath) is { Length: > 0 } directory)
            Directory.CreateDirectory(directory);

        var connection = new SqliteConnection(connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            // SQLite opens a file it may not write (its permissions, a read-only mount) read-only without a word, and stays so:
            // reads work on it, a write fails (SqliteErrors.Transient). It is not pooled, so once the file is writable again
            // the next connection writes. A server does not start on such a file (SqliteDatabase.MigrateAsync).
            if (IsReadOnly(connection)) ClearPool();
            await using var command = connection.CreateCommand();
            command.CommandText = (walEnabled ? connectionPragmas : connectionPragmas + " PRAGMA journal_mode = WAL;") + " " + pragmas;
            await command.ExecuteNonQueryAsync(cancellationToken);
            walEnabled = true;
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }
}
