using System.Text.Json;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using PromptVault.Core.Audit;
using PromptVault.Core.Contracts;
using PromptVault.Core.Prompts;
using PromptVault.Core.Storage;
using PromptVault.Storage.Testing;
using static PromptVault.Storage.Testing.Samples;

namespace PromptVault.Storage.Sqlite.Tests;

public sealed class SqlitePromptStoreTests : PromptStoreContractTests, IDisposable
{
    private readonly TempDatabase database = new();

    protected override async Task<(IPromptStore Prompts, IApiKeyStore Keys)> CreateStoreAsync()
    {
        var store = await database.CreateStoreAsync();
        return (store, store);
    }

    public void Dispose() => database.Dispose();

    [Fact]
    public async Task MigrateAsync_NewFile_AppliesEachScriptOnce()
    {
        var migrations = new SqliteDatabase(database.Connections);

        var first = await migrations.MigrateAsync(Cancel);
        var second = await migrations.MigrateAsync(Cancel);

        Assert.Equal(SqliteDatabase.Scripts().Count, first);
        Assert.Equal(0, second);
        await using var connection = await database.Connections.OpenAsync(Cancel);
        var versions = await connection.QueryAsync<int>("SELECT version FROM schema_migrations ORDER BY version");
        Assert.Equal(SqliteDatabase.Scripts().Select(s => s.Version), versions);
    }

    [Theory]
    [InlineData("SELECT * FROM audit WHERE actor = 'a' ORDER BY id DESC LIMIT 100", "ix_audit_actor")]
    [InlineData("SELECT * FROM audit WHERE action = 'a' ORDER BY id DESC LIMIT 100", "ix_audit_action")]
    [InlineData("SELECT * FROM audit WHERE prompt_name = 'a' ORDER BY id DESC LIMIT 100", "ix_audit_prompt_name")]
    [InlineData("SELECT * FROM experiments e JOIN prompts p ON p.id = e.prompt_id ORDER BY e.created_at DESC, e.id DESC LIMIT 100", "ix_experiments_created")]
    public async Task PagedListQueries_UseAnIndexInsteadOfSorting(string sql, string index)
    {
        await database.CreateStoreAsync();
        await using var connection = await database.Connections.OpenAsync(Cancel);

        var plan = string.Join("\n", (await connection.QueryAsync<(long, long, long, string Detail)>("EXPLAIN QUERY PLAN " + sql)).Select(r => r.Detail));

        Assert.Contains(index, plan);
        Assert.DoesNotContain("TEMP B-TREE", plan);
    }

    [Fact]
    public async Task MigrateAsync_ExistingFileWithData_AppliesNothingAndKeepsData()
    {
        var store = await database.CreateStoreAsync();
        var prompt = Prompt("kept");
        await store.SaveAsync(Created(prompt, Version(prompt, 1)), Cancel);

        var applied = await new SqliteDatabase(new SqliteConnectionFactory(database.FilePath)).MigrateAsync(Cancel);

        Assert.Equal(0, applied);
        Assert.NotNull(await store.FindPromptAsync("kept", Cancel));
    }

    [Fact]
    public async Task MigrateAsync_MetricEventIds_KeepsEveryEventInItsOrder_IdsStayUniqueThroughAPartialIndex()
    {
        var migrations = new SqliteDatabase(database.Connections);
        await migrations.MigrateAsync(throughVersion: 10, Cancel);
        var version = new { Id = "v1" };
        await using var connection = await database.Connections.OpenAsync(Cancel);
        // Written as schema 10 holds them: today's store writes columns added later.
        await connection.ExecuteAsync("""
            INSERT INTO prompts (id, name, description, type, tags, created_at, created_by, updated_at, updated_by)
                VALUES ('p1', 'events', '', 'system', '[]', '2026-01-01T00:00:00.000Z', 'test', '2026-01-01T00:00:00.000Z', 'test');
            INSERT INTO versions (id, prompt_id, sequence, major, minor, patch, content, variables, metadata, change_description, created_by, created_at, status)
                VALUES ('v1', 'p1', 1, 1, 0, 0, 'Hi', '[]', '{}', 'Initial version', 'test', '2026-01-01T00:00:00.000Z', 'draft');
            """);
        await connection.ExecuteAsync("""
            INSERT INTO metric_events (rowid, id, version_id, timestamp, latency_ms, metadata) VALUES
                (5, 'first', @Id, '2026-01-01T00:00:00.000Z', 1.5, '{"a":1}'),
                (9, NULL, @Id, '2026-01-01T00:00:01.000Z', 2.5, NULL),
                (12, NULL, @Id, '2026-01-01T00:00:02.000Z', NULL, NULL)
            """, new { version.Id });
        const string Rows = "SELECT rowid, id, version_id, timestamp, latency_ms, metadata FROM metric_events ORDER BY rowid";
        var before = (await connection.QueryAsync<(long, string?, string, string, double?, string?)>(Rows)).ToList();

        Assert.Equal(1, await migrations.MigrateAsync(throughVersion: 11, Cancel));

        Assert.Equal(before, await connection.QueryAsync<(long, string?, string, string, double?, string?)>(Rows));
        var duplicate = await Assert.ThrowsAsync<Microsoft.Data.Sqlite.SqliteException>(() => connection.ExecuteAsync(
            "INSERT INTO metric_events (id, version_id, timestamp) VALUES ('first', @Id, '2026-01-01T00:00:03.000Z')", new { version.Id }));
        Assert.Contains("UNIQUE constraint failed: metric_events.id", duplicate.Message, StringComparison.Ordinal);
        var index = await connection.QuerySingleAsync<(string Name, long Unique, long Partial)>(
            "SELECT name, \"unique\", partial FROM pragma_index_list('metric_events')");
        Assert.Equal(("ux_metric_events_id", 1L, 1L), index);
    }

    [Fact]
    public async Task OpenAsync_AnyConnection_UsesWalForeignKeysBusyTimeoutAndNormalSync()
    {
        await database.CreateStoreAsync();

        await using var connection = await database.Connections.OpenAsync(Cancel);

        Assert.Equal("wal", await connection.ExecuteScalarAsync<string>("PRAGMA journal_mode"));
        Assert.Equal(1, await connection.ExecuteScalarAsync<int>("PRAGMA foreign_keys"));
        Assert.Equal(10_000, await connection.ExecuteScalarAsync<int>("PRAGMA busy_timeout"));
        Assert.Equal(1, await connection.ExecuteScalarAsync<int>("PRAGMA synchronous")); // 1 = NORMAL
    }

    [Fact]
    public async Task SaveAsync_NewVersion_StoresApiJsonAndWireNames()
    {
        var store = await database.CreateStoreAsync();
        var prompt = Prompt("wire", PromptType.FewShot);
        var version = Version(prompt, 1);

        await store.SaveAsync(Created(prompt, version), Cancel);

        await using var connection = await database.Connections.OpenAsync(Cancel);
        var row = await connection.QuerySingleAsync<(string Type, string Status, string Variables, string Metadata)>(
            "SELECT p.type, v.status, v.variables, v.metadata FROM prompts p JOIN versions v ON v.prompt_id = p.id");
        Assert.Equal(("few-shot", "draft"), (row.Type, row.Status));
        Assert.Equal(JsonSerializer.Serialize(Variables.ToList(), PromptVaultJson.Options), row.Variables);
        Assert.Equal(JsonSerializer.Serialize(Metadata, PromptVaultJson.Options), row.Metadata);
        Assert.Contains("\"type\":\"number\",", row.Variables, StringComparison.Ordinal);
        Assert.Contains("\"defaultValue\":0.70,", row.Variables, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SaveAsync_DatabaseLockedPastBusyTimeout_ThrowsTransientTimeout()
    {
        using var locked = new TempDatabase(TimeSpan.FromMilliseconds(100));
        var store = await locked.CreateStoreAsync();
        var prompt = Prompt("locked");
        await using var other = await locked.Connections.OpenAsync(Cancel);
        using var writing = other.BeginTransaction();

        var error = await Assert.ThrowsAsync<TimeoutException>(() => store.SaveAsync(Created(prompt, Version(prompt, 1)), Cancel));

        Assert.Contains("transient", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddPromptVaultSqlite_Resolve_OneSingletonStoreForEveryInterface()
    {
        await using var services = new ServiceCollection().AddPromptVaultSqlite(database.FilePath).BuildServiceProvider();

        await services.GetRequiredService<SqliteDatabase>().MigrateAsync(Cancel);
        var prompts = services.GetRequiredService<IPromptStore>();

        Assert.IsType<SqlitePromptStore>(prompts);
        Assert.Same(prompts, services.GetRequiredService<IApiKeyStore>());
        Assert.Same(prompts, services.GetRequiredService<IExperimentStore>());
        Assert.Same(prompts, services.GetRequiredService<IMetricStore>());
        Assert.Same(prompts, services.GetRequiredService<SqlitePromptStore>());
        Assert.Empty(await prompts.ListAuditAsync(new AuditQuery(), Cancel));
    }

    [Fact]
    public async Task AddPromptVaultSqlite_WithTheHostsLogging_TheStoreLogsThroughIt()
    {
        await using var services = new ServiceCollection().AddLogging(logging => logging.AddFakeLogging())
            .AddPromptVaultSqlite(database.FilePath).BuildServiceProvider();

        services.GetRequiredService<SqlitePromptStore>().Logger.LogWarning("from the store");

        var line = services.GetFakeLogCollector().LatestRecord;
        Assert.Equal((typeof(SqlitePromptStore).FullName, "from the store"), (line.Category, line.Message));
    }
}
