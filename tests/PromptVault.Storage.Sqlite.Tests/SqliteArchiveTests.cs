using Dapper;
using PromptVault.Core.Storage;

namespace PromptVault.Storage.Sqlite.Tests;

/// <summary>The export covers the whole schema: a table or column a later migration adds must get a place in the format.</summary>
public sealed class SqliteArchiveTests
{
    /// <summary>What is deliberately not exported (docs/export-format.md): expiring idempotency answers, webhooks (a deployment's receivers and secrets) with their outbox, and SQLite's own bookkeeping.</summary>
    private static readonly string[] NotExported = ["schema_migrations", "data_protection_keys", "idempotency_keys", "include_graph", "sqlite_sequence", "webhooks", "webhook_deliveries", "webhook_attempts"];

    [Fact]
    public async Task ArchiveSections_CoverEveryTableAndColumnOfTheMigratedSchema()
    {
        using var database = new TempDatabase();
        await using var store = await database.CreateStoreAsync();
        await using var connection = await database.Connections.OpenAsync(TestContext.Current.CancellationToken);

        var tables = (await connection.QueryAsync<string>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"))
            .Except(NotExported).ToList();
        Assert.Equal(tables, RegistryArchiveSchema.Sections.Select(ArchiveStatements.TableName).Order(StringComparer.Ordinal));
        foreach (var section in RegistryArchiveSchema.Sections)
        {
            var table = ArchiveStatements.TableName(section);
            var columns = (await connection.QueryAsync<(string Name, long NotNull, long Pk)>(
                $"SELECT name, \"notnull\", pk FROM pragma_table_info('{table}') ORDER BY cid")).ToList();
            Assert.Equal(columns.Select(c => c.Name).Order(StringComparer.Ordinal),
                section.Columns.Select(ArchiveStatements.ColumnName).Order(StringComparer.Ordinal));
            foreach (var column in section.Columns)
            {
                var stored = columns.Single(c => c.Name == ArchiveStatements.ColumnName(column));
                // A primary key column is never null, whether or not it says NOT NULL (audit.id is an INTEGER PRIMARY KEY).
                var storedNullable = stored.NotNull == 0 && stored.Pk == 0;
                Assert.True(column.Nullable == storedNullable, $"{table}.{stored.Name}: the format says nullable = {column.Nullable}, the schema {storedNullable}");
            }
        }
    }
}
