using Microsoft.Data.Sqlite;

namespace PromptVault.Storage.Sqlite.Tests;

/// <summary>A database file in its own temporary directory, deleted on dispose.</summary>
public sealed class TempDatabase : IDisposable
{
    private readonly string directory = Path.Combine(Path.GetTempPath(), "promptvault-tests", Guid.NewGuid().ToString("N"));

    public TempDatabase(TimeSpan? busyTimeout = null)
    {
        FilePath = Path.Combine(directory, "promptvault.db");
        Connections = busyTimeout is { } timeout ? new SqliteConnectionFactory(FilePath, timeout) : new SqliteConnectionFactory(FilePath);
    }

    public string FilePath { get; }

    public SqliteConnectionFactory Connections { get; }

    public async Task<SqlitePromptStore> CreateStoreAsync()
    {
        await new SqliteDatabase(Connections).MigrateAsync(TestContext.Current.CancellationToken);
        return new SqlitePromptStore(Connections);
    }

    public void Dispose()
    {
        // Pooled connections keep the file open; close them before deleting it.
        using (var connection = new SqliteConnection(Connections.ConnectionString))
            SqliteConnection.ClearPool(connection);
        if (Directory.Exists(directory))
            Directory.Delete(directory, recursive: true);
    }
}
