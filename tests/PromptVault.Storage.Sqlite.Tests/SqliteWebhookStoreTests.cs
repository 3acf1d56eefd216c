using PromptVault.Core.Storage;
using PromptVault.Storage.Testing;

namespace PromptVault.Storage.Sqlite.Tests;

public sealed class SqliteWebhookStoreTests : WebhookStoreContractTests, IDisposable
{
    private readonly TempDatabase database = new();

    protected override async Task<(IPromptStore Prompts, IWebhookStore Webhooks)> CreateStoreAsync()
    {
        var store = await database.CreateStoreAsync();
        return (store, store);
    }

    public void Dispose() => database.Dispose();
}
