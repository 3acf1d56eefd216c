using System.Collections.Concurrent;
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
        const int Waves = 500;
        var opened = new SqliteConnection?[Opens];
        var failures = new ConcurrentQueue<string>();
        // Each barrier's last arrival runs its action while the others wait: before a wave the pool is emptied, so every open
        // creates or reclaims; after it the wave's connections are compared and closed.
        using var start = new Barrier(Opens, _ => database.Connections.Dispose());
        using var end = new Barrier(Opens, barrier =>
        {
            var live = opened.OfType<SqliteConnection>().ToList();
            var handles = live.Select(c => c.Handle).Distinct(ReferenceEqualityComparer.Instance).Count();
            if (handles != live.Count) failures.Enqueue($"wave {barrier.CurrentPhaseNumber}: {live.Count} open connections shared {handles} native connections");
            foreach (var connection in live) connection.Dispose();
            Array.Clear(opened);
        });
        // A thread each (LongRunning) for all the waves, so that all 16 wait at the barrier and open at once; a failed open fails
        // the test. The threads are made once, not 16 a wave (8,000 thread starts were a quarter of the test's time).
        await Task.WhenAll(Enumerable.Range(0, Opens).Select(i => Task.Factory.StartNew(() =>
        {
            for (var wave = 0; wave < Waves; wave++)
            {
                start.SignalAndWait(Cancel);
                try { opened[i] = database.Connections.OpenAsync(Cancel).GetAwaiter().GetResult(); }
                catch (Exception e) { failures.Enqueue($"wave {wave}: an open failed: {e}"); }
                end.SignalAndWait(Cancel);
            }
        }, Cancel, TaskCreationOptions.LongRunning, TaskScheduler.Default)));

        Assert.True(failures.IsEmpty, $"{failures.Count} failures in {Waves} waves; the first: {failures.FirstOrDefault()}");
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
