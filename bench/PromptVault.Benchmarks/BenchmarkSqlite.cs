using PromptVault.Storage.Sqlite;

namespace PromptVault.Benchmarks;

/// <summary>A migrated SQLite database in a fresh folder of the temp folder (WAL, synchronous=NORMAL as the server uses), and its store.</summary>
internal sealed class BenchmarkSqlite : IAsyncDisposable
{
    private readonly string _directory;

    private BenchmarkSqlite(string directory, SqliteConnectionFactory connections)
    {
        _directory = directory;
        Connections = connections;
        Store = new SqlitePromptStore(connections);
    }

    public SqliteConnectionFactory Connections { get; }

    public SqlitePromptStore Store { get; }

    public static async Task<BenchmarkSqlite> CreateAsync()
    {
        var directory = Path.Combine(Path.GetTempPath(), "promptvault-bench", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var connections = new SqliteConnectionFactory(Path.Combine(directory, "promptvault.db"));
        await new SqliteDatabase(connections).MigrateAsync();
        return new BenchmarkSqlite(directory, connections);
    }

    /// <summary>Commits what the store's writer holds, then deletes the database.</summary>
    public async ValueTask DisposeAsync()
    {
        await Store.DisposeAsync();
        Connections.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
