
namespace PromptVault.Storage.Sqlite.Tests;

/// <summary>A database file in its own temporary directory, deleted on dispose with the stores made on it.</summary>
public sealed class TempDatabase : IDisposable
{
    private readonly string directory = Path.Combine(Path.GetTempPath(), "promptvault-tests", Guid.NewGuid().ToString("N"));
    private readonly List<SqlitePromptStore> stores = [];

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
        return CreateStore();
    }

    /// <summary>A store on the file as it is, without migrating it first.</summary>
    public SqlitePromptStore CreateStore()
    {
        var store = new SqlitePromptStore(Connections);
        lock (stores) stores.Add(store);
        return store;
    }

    public void Dispose()
    {
        // A store's writer and checkpointer write to the file until they stop.
        foreach (var store in stores)
            store.DisposeAsync().AsTask().GetAwaiter().GetResult();
        // Pooled connections keep the file open; close them before deleting it.
        Connections.Dispose();
        if (Directory.Exists(directory))
            Directory.Delete(directory, recursive: true);
    }
}
