using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement.Internal;
using Microsoft.Extensions.DependencyInjection;
using PromptVault.Core.Storage;
using PromptVault.Server.Dashboard;
using PromptVault.Storage.Sqlite;
using PromptVault.Storage.Testing;

namespace PromptVault.Server.Tests.Hosting;

/// <summary>
/// Two servers starting at once on a new database (each its own Data Protection services and store, as the server registers
/// them) both read the empty key ring and make a first key: one key is stored, and both use it.
/// </summary>
public sealed class KeyRingFirstKeyTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task TwoServersStartingAtOnce_OnANewSqliteDatabase_StoreOneFirstKey_AndBothUseIt()
    {
        var folder = Directory.CreateTempSubdirectory("promptvault-keyring-").FullName;
        using var connections = new SqliteConnectionFactory(Path.Combine(folder, "promptvault.db"));
        await new SqliteDatabase(connections).MigrateAsync(Cancel);
        await using var a = new SqlitePromptStore(connections);
        await using var b = new SqlitePromptStore(connections);

        await BothStartAtOnce_StoreOneKey_AndShareItAsync(a, b);
    }

    [Fact]
    public async Task TwoServersStartingAtOnce_OnANewPostgresDatabase_StoreOneFirstKey_AndBothUseIt()
    {
        await using var database = await PostgresServer.CreateDatabaseAsync(cancellationToken: Cancel);
        await using var other = database.OpenInstance();

        await BothStartAtOnce_StoreOneKey_AndShareItAsync(database.CreateStore(), other.CreateStore());
    }

    /// <summary>Both read the empty ring before either stores a key; B stores its key after A has made and used its own.</summary>
    private static async Task BothStartAtOnce_StoreOneKey_AndShareItAsync(IKeyRingStore storeA, IKeyRingStore storeB)
    {
        using var bothRead = new Barrier(2);
        var aStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var a = Server(new RacingStore(storeA, bothRead, Task.CompletedTask));
        await using var b = Server(new RacingStore(storeB, bothRead, aStarted.Task));

        var startA = Task.Run(() =>
        {
            try { return a.GetRequiredService<IKeyRingProvider>().GetCurrentKeyRing().DefaultKeyId; }
            finally { aStarted.SetResult(); }
        }, Cancel);
        var startB = Task.Run(() => b.GetRequiredService<IKeyRingProvider>().GetCurrentKeyRing().DefaultKeyId, Cancel);
        var keyOfA = await startA;
        var keyOfB = await startB;

        Assert.Single(await storeA.GetKeyRingElementsAsync(Cancel));
        Assert.Equal(keyOfA, keyOfB);
        var protectedByA = a.GetDataProtector("test").Protect("signed in on A");
        Assert.Equal("signed in on A", b.GetDataProtector("test").Unprotect(protectedByA));
    }

    private static ServiceProvider Server(IKeyRingStore store) =>
        new ServiceCollection().AddLogging().AddSingleton(store).AddKeyRingInDatabase().BuildServiceProvider();

    /// <summary>A store whose first read waits for the other server's, and whose writes wait for <paramref name="mayWrite"/>.</summary>
    private sealed class RacingStore(IKeyRingStore store, Barrier bothRead, Task mayWrite) : IKeyRingStore
    {
        private int _reads;

        public async Task<IReadOnlyList<string>> GetKeyRingElementsAsync(CancellationToken cancellationToken = default)
        {
            var elements = await store.GetKeyRingElementsAsync(cancellationToken);
            if (Interlocked.Increment(ref _reads) == 1 && !bothRead.SignalAndWait(TimeSpan.FromSeconds(30), cancellationToken))
                throw new TimeoutException("the other server did not read the key ring");
            return elements;
        }

        public async Task AddKeyRingElementAsync(string name, string xml, CancellationToken cancellationToken = default)
        {
            await mayWrite;
            await store.AddKeyRingElementAsync(name, xml, cancellationToken);
        }

        public async Task<bool> AddFirstKeyRingElementAsync(string name, string xml, CancellationToken cancellationToken = default)
        {
            await mayWrite;
            return await store.AddFirstKeyRingElementAsync(name, xml, cancellationToken);
        }
    }
}
