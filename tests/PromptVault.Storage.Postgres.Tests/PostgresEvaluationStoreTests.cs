using PromptVault.Core.Storage;
using PromptVault.Storage.Testing;

namespace PromptVault.Storage.Postgres.Tests;

public sealed class PostgresEvaluationStoreTests : EvaluationStoreContractTests, IAsyncDisposable
{
    private PostgresTestDatabase? database;

    protected override async Task<(IPromptStore Prompts, IEvaluationStore Evaluations)> CreateStoreAsync()
    {
        database = await PostgresServer.CreateDatabaseAsync(cancellationToken: Cancel);
        var store = database.CreateStore();
        return (store, store);
    }

    public ValueTask DisposeAsync() => database?.DisposeAsync() ?? ValueTask.CompletedTask;
}
