using Dapper;
using PromptVault.Core;
using PromptVault.Core.Storage;
using PromptVault.Storage.Testing;
using static PromptVault.Storage.Testing.Samples;

namespace PromptVault.Storage.Sqlite.Tests;

public sealed class SqliteIdempotencyStoreTests : IdempotencyStoreContractTests, IDisposable
{
    private readonly TempDatabase database = new();

    protected override async Task<(IPromptStore Prompts, IIdempotencyStore Idempotency)> CreateStoreAsync()
    {
        var store = await database.CreateStoreAsync();
        return (store, store);
    }

    public void Dispose() => database.Dispose();

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
}
