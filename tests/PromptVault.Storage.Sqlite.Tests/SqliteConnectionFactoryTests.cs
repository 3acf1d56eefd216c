using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using PromptVault.Core.Storage;

namespace PromptVault.Storage.Sqlite.Tests;

public sealed class SqliteConnectionFactoryTests : IDisposable
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private readonly TempDatabase database = new();
    private readonly TempDatabase other = new();

    public void Dispose()
    {
        database.Dispose();
        other.Dispose();
    }

    [Fact]
    public async Task OpenAsync_SixteenAtOnceOnAnEmptyPool_NeverLendsOneConnectionToTwoOwners()
    {
        // Microsoft.Data.Sqlite 10.0.5 could hand one pooled connection to two concurrent opens (dotnet/efcore#39008; 10.0.15
        // does not), so two requests would share one transaction. A server's first burst of requests opens like this. 10.0.5
        // shared a connection in 26 of 3,000 such bursts: 500 catch it with a probability of 98.7%.
        const int Opens = 16;
        for (var wave = 0; wave < 500; wave++)
        {
            database.Connections.Dispose(); // the pool is empty again: every open below creates or reclaims
            var opened = new SqliteConnection[Opens];
            using var start = new Barrier(Opens);
            // A thread each (LongRunning), so that all 16 wait at the barrier and open at once; a failed open fails the test.
            await Task.WhenAll(Enumerable.Range(0, Opens).Select(i => Task.Factory.StartNew(() =>
            {
                start.SignalAndWait(Cancel);
                opened[i] = database.Connections.OpenAsync(Cancel).GetAwaiter().GetResult();
            }, Cancel, TaskCreationOptions.LongRunning, TaskScheduler.Default)));

            var handles = opened.Select(c => c.Handle).Distinct(ReferenceEqualityComparer.Instance).Count();
            foreach (var connection in opened) connection.Dispose();
            Assert.True(handles == Opens, $"wave {wave}: {Opens} open connections shared {handles} native connections");
        }
    }

    [Fact]
    public async Task Dispose_ClosesThisDatabasesPooledConnections_NotAnotherDatabasesInUse()
    {
        await using (await database.Connections.OpenAsync(Cancel)) { }
        await using var inUse = await other.Connections.OpenAsync(Cancel);
        Assert.True(OpenHandles(database.FilePath) > 0, "a closed connection stays open in the pool");

        database.Connections.Dispose();

        Assert.Equal(0, OpenHandles(database.FilePath));
        Assert.Equal(1, await inUse.ExecuteScalarAsync<int>("SELECT 1"));
        Assert.True(OpenHandles(other.FilePath) > 0);
    }

    [Fact]
    public async Task DisposingTheServiceProvider_ClosesTheDatabaseFile()
    {
        var services = new ServiceCollection().AddLogging().AddPromptVaultSqlite(database.FilePath).BuildServiceProvider();
        await services.GetRequiredService<SqliteDatabase>().MigrateAsync(Cancel);
        Assert.Null(await services.GetRequiredService<IPromptStore>().FindPromptAsync("none", Cancel));
        Assert.True(OpenHandles(database.FilePath) > 0);

        await services.DisposeAsync();

        Assert.Equal(0, OpenHandles(database.FilePath));
    }

    /// <summary>How many of this process's file descriptors are open on <paramref name="path"/> (Linux's <c>/proc</c>).</summary>
    private static int OpenHandles(string path)
    {
        if (!Directory.Exists("/proc/self/fd"))
            Assert.Skip("Counting open files needs Linux's /proc/self/fd.");
        return new DirectoryInfo("/proc/self/fd").EnumerateFileSystemInfos()
            .Count(fd => { try { return fd.LinkTarget == path; } catch (IOException) { return false; } });
    }
}
