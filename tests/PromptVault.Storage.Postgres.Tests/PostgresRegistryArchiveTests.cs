using Dapper;
using Npgsql;
using PromptVault.Core;
using PromptVault.Core.Audit;
using PromptVault.Core.Storage;
using PromptVault.Storage.Sqlite;
using PromptVault.Storage.Testing;
using static PromptVault.Storage.Testing.Samples;

namespace PromptVault.Storage.Postgres.Tests;

public sealed class PostgresRegistryArchiveTests : RegistryArchiveContractTests, IAsyncDisposable
{
    /// <summary>What is deliberately not exported (docs/export-format.md): expiring idempotency answers and the migration history.</summary>
    // registry_changes is the servers' shared change counter (002_registry_changes.sql), not registry data.
    // webhooks and their outbox are a deployment's receivers and secrets (docs/export-format.md).
    private static readonly string[] NotExported = ["schema_migrations", "data_protection_keys", "idempotency_keys", "include_graph", "registry_changes", "webhooks", "webhook_deliveries", "webhook_attempts"];

    private readonly List<PostgresTestDatabase> databases = [];
    private readonly string sqliteFolder = Path.Combine(Path.GetTempPath(), "promptvault-tests", Guid.NewGuid().ToString("N"));

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
        if (Directory.Exists(sqliteFolder)) Directory.Delete(sqliteFolder, recursive: true);
    }

    /// <summary>
    /// An export's snapshot is held at its client's pace: a client that stalls between sections for longer than the pool's limit on
    /// idle transactions (PostgresDataSource; 1 s here) still gets the whole export, where the server ended the transaction before.
    /// </summary>
    [Fact]
    public async Task ExportAsync_ReaderStallsLongerThanTheIdleTransactionLimit_StillExportsEverySection()
    {
        await using var database = await PostgresServer.CreateDatabaseAsync(cancellationToken: Cancel);
        await using var dataSource = PostgresDataSource.Create(
            new NpgsqlConnectionStringBuilder(database.ConnectionString) { Options = "-c idle_in_transaction_session_timeout=1s" }.ConnectionString);
        await using var store = new PostgresPromptStore(dataSource);
        await SeedPromptAsync(store, "exported");
        var writer = new StallingWriter(TimeSpan.FromSeconds(2));

        await store.ExportAsync(writer, Cancel);

        Assert.Equal(RegistryArchiveSchema.Sections.Count, writer.SectionsEnded);
        Assert.True(writer.Rows >= 2, $"{writer.Rows} rows");
    }

    /// <summary>Counts what it is given, and waits <paramref name="stall"/> after the first section, as a stalled client would.</summary>
    private sealed class StallingWriter(TimeSpan stall) : IRegistryArchiveWriter
    {
        public int SectionsEnded { get; private set; }
        public int Rows { get; private set; }

        public ValueTask BeginSectionAsync(ArchiveSection section, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask WriteRowAsync(object?[] values, CancellationToken cancellationToken)
        {
            Rows++;
            return ValueTask.CompletedTask;
        }

        public async ValueTask EndSectionAsync(ArchiveSection section, CancellationToken cancellationToken)
        {
            if (SectionsEnded++ == 0) await Task.Delay(stall, cancellationToken);
        }
    }

    [Fact]
    public async Task ImportAsync_RegistryExportedBySqlite_ExportsTheSameRowsAndReadsTheSame()
    {
        using var sqliteConnections = new SqliteConnectionFactory(Path.Combine(sqliteFolder, "promptvault.db"));
        await new SqliteDatabase(sqliteConnections).MigrateAsync(Cancel);
        await using var sqlite = new SqlitePromptStore(sqliteConnections);
        var (prompt, first, second) = await SeedPromptAsync(sqlite, "moved");
        var local = new DateTimeOffset(2025, 6, 7, 8, 9, 10, TimeSpan.FromHours(5.5)).AddTicks(9_876_543);
        await sqlite.SaveAsync(new PromptChanges
        {
            LabelChanges = [Label(prompt, "production", null, second.Id) with { At = local }],
            Audit = [Audit(AuditActions.LabelMoved, prompt.Name, "production")],
        }, Cancel);
        var exported = await ArchiveCollector.ExportAsync(sqlite, Cancel);
        var (postgres, _, postgresArchive) = await CreateStoreAsync();

        await postgresArchive.ImportAsync(exported, merge: false, checks: null, Imported, Cancel);

        var reexported = ArchiveCollector.WithoutImportEntries(await ArchiveCollector.ExportAsync(postgresArchive, Cancel));
        Assert.Equal(RegistryArchiveSchema.Sections.Select(s => Json(exported[s])), RegistryArchiveSchema.Sections.Select(s => Json(reexported[s])));
        Assert.Equal(Json(await sqlite.FindPromptAsync("moved", Cancel)), Json(await postgres.FindPromptAsync("moved", Cancel)));
        Assert.Equal(Json(await sqlite.ListVersionsAsync(prompt.Id, PageRequest.All, Cancel)), Json(await postgres.ListVersionsAsync(prompt.Id, PageRequest.All, Cancel)));
        Assert.Equal(Json(await sqlite.ListLabelsAsync(prompt.Id, Cancel)), Json(await postgres.ListLabelsAsync(prompt.Id, Cancel)));
        Assert.Equal(Json(await sqlite.ListAuditAsync(new AuditQuery(), Cancel)), Json((await postgres.ListAuditAsync(new AuditQuery(), Cancel)).Where(e => e.Action != AuditActions.RegistryImported)));
        Assert.Equal(Json(await sqlite.FindVersionAsync(prompt.Id, first.Version, Cancel)), Json(await postgres.FindVersionAsync(prompt.Id, first.Version, Cancel)));
    }

    [Fact]
    public async Task ImportAsync_ThousandsOfRows_OneTransactionWithNoSubtransactionPerBatch()
    {
        var archive = await ArchiveOfEventsAsync(refusedRow: null);
        var (_, _, targetArchive) = await CreateStoreAsync();

        await targetArchive.ImportAsync(archive, merge: false, checks: null, Imported, Cancel);

        await using var connection = await databases[^1].DataSource.OpenConnectionAsync(Cancel);
        // A row carries the id of the (sub)transaction that wrote it: a savepoint per 1,000 rows gave each batch its own.
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>("SELECT count(DISTINCT xmin::text) FROM metric_events"));
        Assert.Equal(2_500, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM metric_events"));
    }

    [Fact]
    public async Task ImportAsync_RefusedRowInALaterBatch_NamedByItsIndexAndNothingWritten()
    {
        var archive = await ArchiveOfEventsAsync(refusedRow: 1_234);
        var (target, _, targetArchive) = await CreateStoreAsync();

        var error = await Assert.ThrowsAsync<InvalidInputException>(() => targetArchive.ImportAsync(archive, merge: false, checks: null, Imported, Cancel));

        Assert.Equal(("import_invalid_reference", "$.metricEvents[1234]"), (error.Code, error.Field));
        Assert.Null(await target.FindPromptAsync("busy", Cancel));
    }

    /// <summary>An export of prompt "busy" with 2,500 metric events of its first version (three import batches); <paramref name="refusedRow"/> names no version.</summary>
    private async Task<RegistryArchive> ArchiveOfEventsAsync(int? refusedRow)
    {
        var (source, _, sourceArchive) = await CreateStoreAsync();
        var (_, first, _) = await SeedPromptAsync(source, "busy");
        var exported = await ArchiveCollector.ExportAsync(sourceArchive, Cancel);
        var events = Enumerable.Range(0, 2_500).Select(i => new object?[]
        {
            $"event-{i}", i == refusedRow ? "no-such-version" : first.Id, null, null, null, "2025-03-04T05:07:07.1234567+00:00",
            120.0, 10L, 20L, 0.001, null, null, true, null, null,
        }).ToList();
        return new RegistryArchive(RegistryArchiveSchema.Sections.ToDictionary(s => s,
            s => s == RegistryArchiveSchema.MetricEvents ? events : exported[s]));
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
