using Dapper;
using PromptVault.Core;
using PromptVault.Core.Storage;
using PromptVault.Storage.Testing;
using static PromptVault.Storage.Testing.Samples;

namespace PromptVault.Storage.Sqlite.Tests;

/// <summary>Idempotency records: stored with the write they guard or not at all, one per owner and key, expired after their time.</summary>
public sealed class SqliteIdempotencyStoreTests : IDisposable
{
    private static readonly TimeSpan Day = TimeSpan.FromHours(24);
    private readonly TempDatabase database = new();

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public void Dispose() => database.Dispose();

    [Fact]
    public async Task SaveAsync_WithRecord_StoresItWithTheVersion()
    {
        var store = await database.CreateStoreAsync();
        var (prompt, _, _) = await SeedPromptAsync(store, "guarded");

        await store.SaveAsync(new PromptChanges { NewVersion = Version(prompt, 3), Idempotency = Record("owner-1", "k1", Now) }, Cancel);

        var found = await store.FindIdempotencyRecordAsync("owner-1", "k1", Now, Cancel);
        Assert.Equal(Json(Record("owner-1", "k1", Now)), Json(found));
        Assert.Null(await store.FindIdempotencyRecordAsync("owner-2", "k1", Now, Cancel));
    }

    [Fact]
    public async Task SaveAsync_KeyStoredAlready_FailsAndStoresNothingOfTheWrite()
    {
        var store = await database.CreateStoreAsync();
        var (prompt, _, _) = await SeedPromptAsync(store, "guarded");
        await store.SaveAsync(new PromptChanges { NewVersion = Version(prompt, 3), Idempotency = Record("owner-1", "k1", Now) }, Cancel);

        await Assert.ThrowsAsync<ConcurrentWriteException>(() =>
            store.SaveAsync(new PromptChanges { NewVersion = Version(prompt, 4), Idempotency = Record("owner-1", "k1", Now) }, Cancel));

        Assert.Equal(3, (await store.ListVersionsAsync(prompt.Id, PageRequest.All, Cancel)).Count);
    }

    [Fact]
    public async Task RecordEventsAsync_KeyStoredAlready_StoresNoEvent()
    {
        var store = await database.CreateStoreAsync();
        var (_, first, _) = await SeedPromptAsync(store, "guarded");
        await store.RecordEventsAsync([Event(first.Id, Now)], _ => Record("owner-1", "k1", Now), Cancel);

        await Assert.ThrowsAsync<ConcurrentWriteException>(() =>
            store.RecordEventsAsync([Event(first.Id, Now), Event(first.Id, Now)], _ => Record("owner-1", "k1", Now), Cancel));

        Assert.Equal(1, (await store.ReadVersionTotalAsync(first.Id, Cancel)).Count);
        await using var connection = await database.Connections.OpenAsync(Cancel);
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM metric_events"));
    }

    [Fact]
    public async Task FindIdempotencyRecordAsync_AfterItsRetention_FindsNothing_AndTheNextKeyedWritePrunesIt()
    {
        var store = await database.CreateStoreAsync();
        var (_, first, _) = await SeedPromptAsync(store, "guarded");
        await store.RecordEventsAsync([Event(first.Id, Now)], _ => Record("owner-1", "old", Now), Cancel);

        var justBefore = await store.FindIdempotencyRecordAsync("owner-1", "old", Now + Day - TimeSpan.FromTicks(1), Cancel);
        var atExpiry = await store.FindIdempotencyRecordAsync("owner-1", "old", Now + Day, Cancel);
        await store.RecordEventsAsync([Event(first.Id, Now)], _ => Record("owner-1", "new", Now + Day), Cancel);

        Assert.NotNull(justBefore);
        Assert.Null(atExpiry);
        await using var connection = await database.Connections.OpenAsync(Cancel);
        Assert.Equal(["new"], await connection.QueryAsync<string>("SELECT key FROM idempotency_keys"));
    }

    private static IdempotencyRecord Record(string owner, string key, DateTimeOffset at) =>
        new(owner, key, "hash-" + key, """{"answer":1}""", at, at + Day);
}
