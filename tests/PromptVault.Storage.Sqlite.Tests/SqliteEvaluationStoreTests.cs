using PromptVault.Core.Storage;
using PromptVault.Storage.Testing;

namespace PromptVault.Storage.Sqlite.Tests;

public sealed class SqliteEvaluationStoreTests : EvaluationStoreContractTests, IDisposable
{
    private readonly TempDatabase database = new();

    protected override async Task<(IPromptStore Prompts, IEvaluationStore Evaluations)> CreateStoreAsync()
    {
        var store = await database.CreateStoreAsync();
        return (store, store);
    }

    public void Dispose() => database.Dispose();
}
