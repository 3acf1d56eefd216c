using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using PromptVault.Core;
using PromptVault.Core.Contracts;
using PromptVault.Core.Idempotency;
using PromptVault.Core.Prompts;
using PromptVault.Core.Registry;
using PromptVault.Core.Templates;
using PromptVault.Storage.Testing;

namespace PromptVault.Storage.Postgres.Tests;

/// <summary>
/// What a server's <see cref="RegistryCache"/> does with the changes another server makes, heard by LISTEN/NOTIFY (which names the
/// prompt by id only): it drops the changed prompt's entries and keeps every other prompt's, and an includer's render sees each
/// change to what it includes, however deep, once the change is heard. The writer here is another instance on its own data
/// source, with no listener, so the reader learns of its writes only from PostgreSQL.
/// </summary>
public sealed class PostgresIncludeCacheTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private sealed class Reader(PromptRegistry registry, RegistryCache cache, PostgresRegistryChanges listener) : IDisposable
    {
        public PromptRegistry Registry { get; } = registry;
        public RegistryCache Cache { get; } = cache;
        public PostgresRegistryChanges Listener { get; } = listener;

        public async Task<string?> RenderAsync(string name, string? version = null) =>
            (await Registry.RenderAsync(name, new RenderRequest(Version: version), Cancel)).Content;

        public void Dispose()
        {
            Listener.Dispose();
            Cache.Dispose();
        }
    }

    [Fact]
    public async Task AnUnrelatedChange_HeardFromPostgres_KeepsTheIncludedPromptsCached()
    {
        await using var database = await PostgresServer.CreateDatabaseAsync(cancellationToken: Cancel);
        await using var writerInstance = database.OpenInstance();
        var writer = Registry(writerInstance.CreateStore(), new RegistryChangeFeed());
        await CreateChainAsync(writer);
        await ServeAsync(writer, "other", "Other.");
        using var reader = await StartReaderAsync(database);
        Assert.Equal("Top [Mid [Leaf one.]]", await reader.RenderAsync("top"));
        var cached = await CachedPromptsAsync(reader, "top", "mid", "leaf", "other");

        await writer.CreateVersionAsync("other", new CreateVersionRequest("Other two.", ChangeDescription: "two"), "bob", Cancel);
        await writer.MoveLabelAsync("other", Label.Production, "1.0.1", "bob", cancellationToken: Cancel);
        await HeardEverythingAsync(database, reader);

        var after = await CachedPromptsAsync(reader, "top", "mid", "leaf", "other");
        Assert.Same(cached["top"], after["top"]);
        Assert.Same(cached["mid"], after["mid"]);
        Assert.Same(cached["leaf"], after["leaf"]);
        Assert.NotSame(cached["other"], after["other"]);
        Assert.Equal("Top [Mid [Leaf one.]]", await reader.RenderAsync("top"));
        Assert.Equal("Other two.", await reader.RenderAsync("other"));
    }

    [Fact]
    public async Task EveryChangeToWhatAnIncluderReaches_HeardFromPostgres_IsRenderedAtOnce()
    {
        await using var database = await PostgresServer.CreateDatabaseAsync(cancellationToken: Cancel);
        await using var writerInstance = database.OpenInstance();
        var writer = Registry(writerInstance.CreateStore(), new RegistryChangeFeed());
        await CreateChainAsync(writer);
        await writer.CreatePromptAsync(new CreatePromptRequest("pinner", "Pins leaf 1.0.0", PromptType.Template, "Pin [{{> leaf@1.0.0}}]"), "alice", Cancel);
        using var reader = await StartReaderAsync(database);
        Assert.Equal("Top [Mid [Leaf one.]]", await reader.RenderAsync("top"));
        Assert.Equal("Pin [Leaf one.]", await reader.RenderAsync("pinner", "1.0.0"));

        // Two levels down.
        await ServeAsync(writer, "leaf", "Leaf two.");
        await HeardEverythingAsync(database, reader);
        Assert.Equal("Top [Mid [Leaf two.]]", await reader.RenderAsync("top"));

        // One level down.
        await ServeAsync(writer, "mid", "Mid two [{{> leaf}}]");
        await HeardEverythingAsync(database, reader);
        Assert.Equal("Top [Mid two [Leaf two.]]", await reader.RenderAsync("top"));

        // The version an unserved includer pins is archived (nothing that serves holds it).
        await writer.ChangeStatusAsync("leaf", "1.0.0", VersionStatus.Archived, "bob", cancellationToken: Cancel);
        await HeardEverythingAsync(database, reader);
        var refused = await Assert.ThrowsAsync<ConflictException>(() => reader.RenderAsync("pinner", "1.0.0"));
        Assert.Equal("version_archived", refused.Code);
        Assert.Equal("Top [Mid two [Leaf two.]]", await reader.RenderAsync("top"));
    }

    /// <summary>top includes mid, which includes leaf, each by its production label.</summary>
    private static async Task CreateChainAsync(PromptRegistry writer)
    {
        await ServeAsync(writer, "leaf", "Leaf one.");
        await ServeAsync(writer, "mid", "Mid [{{> leaf}}]");
        await ServeAsync(writer, "top", "Top [{{> mid}}]");
    }

    /// <summary>Creates the prompt, or a new version of it, and promotes that version.</summary>
    private static async Task ServeAsync(PromptRegistry writer, string name, string content)
    {
        string version;
        try
        {
            version = (await writer.CreateVersionAsync(name, new CreateVersionRequest(content, ChangeDescription: "next"), "alice", Cancel)).Version;
        }
        catch (NotFoundException)
        {
            version = (await writer.CreatePromptAsync(new CreatePromptRequest(name, name, PromptType.Template, content), "alice", Cancel)).LatestVersion.Version;
        }
        await writer.MoveLabelAsync(name, Label.Production, version, "alice", cancellationToken: Cancel);
    }

    private static async Task<Reader> StartReaderAsync(PostgresTestDatabase database)
    {
        var store = database.CreateStore();
        var changes = new RegistryChangeFeed();
        var cache = new RegistryCache(store, store, store, changes);
        var listener = new PostgresRegistryChanges(database.DataSource, changes, NullLogger<PostgresRegistryChanges>.Instance);
        await listener.StartAsync(Cancel);
        var reader = new Reader(Registry(store, changes, cache), cache, listener);
        await HeardEverythingAsync(database, reader);
        return reader;
    }

    /// <summary>Waits until the reader has applied every change committed so far (its clock would drop everything after 2 s; this waits longer, as the
    /// machine may be busy).</summary>
    private static async Task HeardEverythingAsync(PostgresTestDatabase database, Reader reader)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync(Cancel);
        var committed = await connection.ExecuteScalarAsync<long>("SELECT sequence FROM registry_changes WHERE id = 1");
        await Eventually(() => Task.FromResult(reader.Listener.Applied), applied => applied >= committed);
    }

    private static async Task<Dictionary<string, Prompt?>> CachedPromptsAsync(Reader reader, params string[] names)
    {
        var found = new Dictionary<string, Prompt?>();
        foreach (var name in names)
            found[name] = await reader.Cache.FindPromptAsync(name, Cancel);
        return found;
    }

    private static PromptRegistry Registry(PostgresPromptStore store, RegistryChangeFeed changes, RegistryCache? cache = null) =>
        new(store, store, store, new TemplateEngine(), TimeProvider.System, new IdempotentRequests(store, TimeProvider.System),
            cache ?? new RegistryCache(store, store, store, changes), changes);
}
