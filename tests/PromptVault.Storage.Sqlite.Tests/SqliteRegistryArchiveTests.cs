using PromptVault.Core.Storage;
using PromptVault.Storage.Testing;

namespace PromptVault.Storage.Sqlite.Tests;

public sealed class SqliteRegistryArchiveTests : RegistryArchiveContractTests, IDisposable
{
    private readonly List<TempDatabase> databases = [];

    protected override async Task<(IPromptStore Prompts, IApiKeyStore Keys, IRegistryArchiveStore Archive)> CreateStoreAsync()
    {
        var database = new TempDatabase();
        databases.Add(database);
        var store = await database.CreateStoreAsync();
        return (store, store, store);
    }

    public void Dispose() => databases.ForEach(d => d.Dispose());
}
