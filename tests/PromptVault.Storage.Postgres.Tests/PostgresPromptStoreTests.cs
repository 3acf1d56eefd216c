using System.Text.Json;
using Dapper;
using PromptVault.Core.Contracts;
using PromptVault.Core.Prompts;
using PromptVault.Core.Storage;
using PromptVault.Storage.Testing;
using static PromptVault.Storage.Testing.Samples;

namespace PromptVault.Storage.Postgres.Tests;

public sealed class PostgresPromptStoreTests : PromptStoreContractTests, IAsyncDisposable
{
    private PostgresTestDatabase? database;

    protected override async Task<(IPromptStore Prompts, IApiKeyStore Keys)> CreateStoreAsync()
    {
        database = await PostgresServer.CreateDatabaseAsync(cancellationToken: Cancel);
        var store = database.CreateStore();
        return (store, store);
    }

    public ValueTask DisposeAsync() => database?.DisposeAsync() ?? ValueTask.CompletedTask;

    [Fact]
    public async Task SaveAsync_NewVersion_StoresWhatSqliteStores()
    {
        var (store, _) = await CreateStoreAsync();
        var prompt = Prompt("wire", PromptType.FewShot);
        var version = Version(prompt, 1);

        await store.SaveAsync(Created(prompt, version), Cancel);

        await using var connection = await database!.DataSource.OpenConnectionAsync(Cancel);
        var row = await connection.QuerySingleAsync<(string Type, string Status, string Variables, string Metadata, string CreatedAt)>(
            "SELECT p.type, v.status, v.variables, v.metadata, v.created_at FROM prompts p JOIN versions v ON v.prompt_id = p.id");
        Assert.Equal(("few-shot", "draft"), (row.Type, row.Status));
        // The API's JSON text byte for byte (json/jsonb columns would reformat it), and 100 ns timestamps (timestamptz keeps µs).
        Assert.Equal(JsonSerializer.Serialize(Variables.ToList(), PromptVaultJson.Options), row.Variables);
        Assert.Equal(JsonSerializer.Serialize(Metadata, PromptVaultJson.Options), row.Metadata);
        Assert.Equal("2025-03-04T05:07:07.1234567+00:00", row.CreatedAt);
    }

    [Theory]
    [InlineData("SELECT * FROM audit WHERE actor = 'a' ORDER BY id DESC LIMIT 100", "ix_audit_actor")]
    [InlineData("SELECT * FROM audit WHERE action = 'a' ORDER BY id DESC LIMIT 100", "ix_audit_action")]
    [InlineData("SELECT * FROM audit WHERE prompt_name = 'a' ORDER BY id DESC LIMIT 100", "ix_audit_prompt_name")]
    [InlineData("SELECT * FROM experiments e JOIN prompts p ON p.id = e.prompt_id ORDER BY e.created_at DESC, e.id DESC LIMIT 100", "ix_experiments_created")]
    [InlineData("SELECT * FROM versions v WHERE v.prompt_id = 'a' ORDER BY v.sequence DESC LIMIT 100", "versions_prompt_id_sequence_key")]
    public async Task PagedListQueries_HaveAnIndexInTheirOrder(string sql, string index)
    {
        await using var database = await PostgresServer.CreateDatabaseAsync(cancellationToken: Cancel);
        await using var connection = await database.DataSource.OpenConnectionAsync(Cancel);
        // On empty tables scanning and sorting is always cheapest: discourage both, to see whether an index yields the order.
        await connection.ExecuteAsync("SET enable_seqscan = off; SET enable_bitmapscan = off; SET enable_sort = off");

        var plan = string.Join("\n", await connection.QueryAsync<string>("EXPLAIN " + sql));

        Assert.Contains(index, plan, StringComparison.Ordinal);
        Assert.DoesNotContain("Sort", plan, StringComparison.Ordinal);
    }
}
