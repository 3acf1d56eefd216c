using Dapper;
using PromptVault.Core.Storage;
using PromptVault.Storage.Testing;

namespace PromptVault.Storage.Postgres.Tests;

public sealed class PostgresRegistryArchiveTests : RegistryArchiveContractTests, IAsyncDisposable
{
    /// <summary>What is deliberately not exported (docs/export-format.md): expiring idempotency answers and the migration history.</summary>
    private static readonly string[] NotExported = ["schema_migrations", "idempotency_keys"];

    private readonly List<PostgresTestDatabase> databases = [];

    protected override async Task<(IPromptStore Prompts, IApiKeyStore Keys, IRegistryArchiveStore Archive)> CreateStoreAsync()
    {
        var database = await PostgresServer.CreateDatabaseAsync(cancellationToken: Cancel);
        databases.Add(database);
        var store = database.CreateStore();
        return (store, store, store);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var database in databases) await database.DisposeAsync();
    }

    [Fact]
    public async Task ArchiveSections_CoverEveryTableAndColumnOfTheMigratedSchema()
    {
        await using var database = await PostgresServer.CreateDatabaseAsync(cancellationToken: Cancel);
        await using var connection = await database.DataSource.OpenConnectionAsync(Cancel);

        var tables = (await connection.QueryAsync<string>("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name"))
            .Except(NotExported).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(tables, RegistryArchiveSchema.Sections.Select(ArchiveStatements.TableName).Order(StringComparer.Ordinal));
        foreach (var section in RegistryArchiveSchema.Sections)
        {
            var table = ArchiveStatements.TableName(section);
            var columns = (await connection.QueryAsync<(string Name, string Nullable)>(
                "SELECT column_name, is_nullable FROM information_schema.columns WHERE table_schema = 'public' AND table_name = @table", new { table }))
                // seq is metric_events' insertion order (SQLite's rowid), not data.
                .Where(c => !(table == "metric_events" && c.Name == "seq")).ToList();
            Assert.Equal(columns.Select(c => c.Name).Order(StringComparer.Ordinal),
                section.Columns.Select(ArchiveStatements.ColumnName).Order(StringComparer.Ordinal));
            foreach (var column in section.Columns)
            {
                var stored = columns.Single(c => c.Name == ArchiveStatements.ColumnName(column));
                Assert.True(column.Nullable == (stored.Nullable == "YES"), $"{table}.{stored.Name}: the format says nullable = {column.Nullable}, the schema {stored.Nullable}");
            }
        }
    }
}
