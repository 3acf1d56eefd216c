using PromptVault.Core;
using PromptVault.Core.Storage;
using static PromptVault.Storage.Testing.Samples;

namespace PromptVault.Storage.Testing;

/// <summary>
/// What every <see cref="IIdempotencyStore"/> must do with records written by <see cref="IPromptStore.SaveAsync"/>: stored
/// with the write they guard or not at all, one per owner and key, expired after their time. Each provider inherits this suite.
/// </summary>
public abstract class IdempotencyStoreContractTests
{
    protected static readonly TimeSpan Day = TimeSpan.FromHours(24);

    protected static CancellationToken Cancel => TestContext.Current.CancellationToken;

    /// <summary>A new, empty, migrated store; both interfaces may be the same object.</summary>
    protected abstract Task<(IPromptStore Prompts, IIdempotencyStore Idempotency)> CreateStoreAsync();

    [Fact]
    public async Task SaveAsync_WithRecord_StoresItWithTheVersion()
    {
        var (store, records) = await CreateStoreAsync();
        var (prompt, _, _) = await SeedPromptAsync(store, "guarded");

        await store.SaveAsync(new PromptChanges { NewVersion = Version(prompt, 3), Idempotency = Record("owner-1", "k1", Now) }, Cancel);

        var found = await records.FindIdempotencyRecordAsync("owner-1", "k1", Now, Cancel);
        Assert.Equal(Json(Record("owner-1", "k1", Now)), Json(found));
        Assert.Null(await records.FindIdempotencyRecordAsync("owner-2", "k1", Now, Cancel));
    }

    [Fact]
    public async Task SaveAsync_KeyStoredAlready_FailsAndStoresNothingOfTheWrite()
    {
        var (store, _) = await CreateStoreAsync();
        var (prompt, _, _) = await SeedPromptAsync(store, "guarded");
        await store.SaveAsync(new PromptChanges { NewVersion = Version(prompt, 3), Idempotency = Record("owner-1", "k1", Now) }, Cancel);

        await Assert.ThrowsAsync<ConcurrentWriteException>(() =>
            store.SaveAsync(new PromptChanges { NewVersion = Version(prompt, 4), Idempotency = Record("owner-1", "k1", Now) }, Cancel));

        Assert.Equal(3, (await store.ListVersionsAsync(prompt.Id, PageRequest.All, Cancel)).Count);
    }

    [Fact]
    public async Task FindIdempotencyRecordAsync_AfterItsRetention_FindsNothing_AndTheNextKeyedWritePrunesIt()
    {
        var (store, records) = await CreateStoreAsync();
        var (prompt, _, _) = await SeedPromptAsync(store, "guarded");
        await store.SaveAsync(new PromptChanges { NewVersion = Version(prompt, 3), Idempotency = Record("owner-1", "old", Now) }, Cancel);

        var justBefore = await records.FindIdempotencyRecordAsync("owner-1", "old", Now + Day - TimeSpan.FromTicks(1), Cancel);
        var atExpiry = await records.FindIdempotencyRecordAsync("owner-1", "old", Now + Day, Cancel);
        await store.SaveAsync(new PromptChanges { NewVersion = Version(prompt, 4), Idempotency = Record("owner-1", "new", Now + Day) }, Cancel);

        Assert.NotNull(justBefore);
        Assert.Null(atExpiry);
        // Pruned: the old key can be stored again (a kept row would collide with it).
        await store.SaveAsync(new PromptChanges { NewVersion = Version(prompt, 5), Idempotency = Record("owner-1", "old", Now + Day) }, Cancel);
        Assert.Equal(Json(Record("owner-1", "old", Now + Day)), Json(await records.FindIdempotencyRecordAsync("owner-1", "old", Now + Day, Cancel)));
    }

    protected static IdempotencyRecord Record(string owner, string key, DateTimeOffset at) =>
        new(owner, key, "hash-" + key, """{"answer":1}""", at, at + Day);
}
