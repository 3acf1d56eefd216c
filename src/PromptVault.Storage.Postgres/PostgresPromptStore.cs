using System.Data;
using Dapper;
using Npgsql;
using PromptVault.Core;
using PromptVault.Core.Audit;
using PromptVault.Core.Prompts;
using PromptVault.Core.Storage;
using PromptVault.Core.Versioning;

namespace PromptVault.Storage.Postgres;

/// <summary>
/// Prompts, versions, labels, the audit log, API keys, experiments and metrics in one PostgreSQL database, shared by any
/// number of PromptVault instances. Every write is one transaction (read committed); a write that lost a race to another
/// writer (a taken version number, a label or status no longer as expected) fails with <see cref="ConcurrentWriteException"/>,
/// as on SQLite. Reads of several statements read one snapshot (repeatable read).
/// </summary>
/// <remarks>Thread-safe; register it as a singleton. Run <see cref="PostgresDatabase.MigrateAsync"/> before first use.</remarks>
public sealed partial class PostgresPromptStore : IPromptStore
{
    private readonly NpgsqlDataSource dataSource;

    /// <param name="dataSource">The database's connections; the store does not dispose it.</param>
    public PostgresPromptStore(NpgsqlDataSource dataSource)
        : this(dataSource, ExposureQueueCapacity)
    {
    }

    /// <param name="exposureQueueCapacity">Render exposures that may wait for the writer (tests fill a small queue).</param>
    internal PostgresPromptStore(NpgsqlDataSource dataSource, int exposureQueueCapacity)
    {
        this.dataSource = dataSource ?? throw new ArgumentNullException(nameof(dataSource));
        exposureQueue = CreateExposureQueue(exposureQueueCapacity);
    }

    public Task<Prompt?> FindPromptAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        return WithConnectionAsync(connection => RegistryStatements.FindPromptAsync(connection, name, cancellationToken), cancellationToken);
    }

    public Task<Page<PromptListing>> ListPromptsAsync(PromptFilter filter, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        return ReadSnapshotAsync((connection, transaction) => RegistryStatements.ListPromptsAsync(connection, transaction, filter,
            "EXISTS (SELECT 1 FROM json_array_elements_text(p.tags::json) t WHERE t = @Tag)", cancellationToken), cancellationToken);
    }

    public Task<Page<PromptVersion>> ListVersionsAsync(string promptId, PageRequest page, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(promptId);
        ArgumentNullException.ThrowIfNull(page);
        return PageAsync<VersionRow, PromptVersion>(VersionRow.Columns, "versions v WHERE v.prompt_id = @promptId", "v.sequence DESC",
            new { promptId }, page, r => r.ToVersion(), cancellationToken);
    }

    public Task<PromptVersion?> FindVersionAsync(string promptId, SemanticVersion version, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(promptId);
        return FindVersionAsync("v.prompt_id = @promptId AND v.major = @Major AND v.minor = @Minor AND v.patch = @Patch",
            new { promptId, version.Major, version.Minor, version.Patch }, cancellationToken);
    }

    public Task<PromptVersion?> FindVersionByIdAsync(string promptId, string versionId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(promptId);
        ArgumentNullException.ThrowIfNull(versionId);
        return FindVersionAsync("v.id = @versionId AND v.prompt_id = @promptId", new { promptId, versionId }, cancellationToken);
    }

    public Task<PromptVersion?> FindAnyVersionAsync(string versionId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(versionId);
        return FindVersionAsync("v.id = @versionId", new { versionId }, cancellationToken);
    }

    public Task<IReadOnlyDictionary<string, SemanticVersion>> FindVersionNumbersAsync(IReadOnlyCollection<string> versionIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(versionIds);
        return WithConnectionAsync<IReadOnlyDictionary<string, SemanticVersion>>(async connection =>
        {
            var rows = await connection.QueryAsync<(string Id, int Major, int Minor, int Patch)>(Command(
                "SELECT id, major, minor, patch FROM versions WHERE id = ANY(@Ids)", new { Ids = versionIds.ToArray() }, cancellationToken));
            return rows.ToDictionary(r => r.Id, r => new SemanticVersion(r.Major, r.Minor, r.Patch));
        }, cancellationToken);
    }

    public Task<PromptVersion?> FindLatestVersionAsync(string promptId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(promptId);
        return FindVersionAsync("v.prompt_id = @promptId ORDER BY v.sequence DESC LIMIT 1", new { promptId }, cancellationToken);
    }

    public Task<PromptVersion?> FindLabelledVersionAsync(string promptId, string label, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(promptId);
        ArgumentNullException.ThrowIfNull(label);
        return FindVersionAsync("v.id = (SELECT version_id FROM labels WHERE prompt_id = @promptId AND name = @label)",
            new { promptId, label }, cancellationToken);
    }

    public Task<IReadOnlyList<Label>> ListLabelsAsync(string promptId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(promptId);
        return WithConnectionAsync(connection => RegistryStatements.ListLabelsAsync(connection, promptId, cancellationToken), cancellationToken);
    }

    public async Task SaveAsync(PromptChanges changes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(changes);
        try
        {
            await WriteAsync(async (connection, transaction) =>
            {
                await RegistryStatements.SaveAsync(connection, transaction, changes, Errors, cancellationToken);
                return true;
            }, cancellationToken);
        }
        catch (PostgresException e) when (PostgresErrors.IsLostRace(e))
        {
            // Two changes locking the same versions or labels in opposite orders: one is rolled back whole, and is retried like any lost race.
            throw new ConcurrentWriteException($"another writer crossed this change ({e.MessageText}).");
        }
    }

    public Task<Page<AuditEntry>> ListAuditAsync(AuditQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var (from, parameters) = RegistryStatements.AuditSelection(query);
        return PageAsync<AuditRow, AuditEntry>(AuditRow.Columns, from, "id DESC", parameters, query.Page ?? PageRequest.All, r => r.ToEntry(), cancellationToken);
    }

    private static readonly StoreErrors Errors = new(
        e => e is PostgresException p && PostgresErrors.IsUniqueViolation(p),
        e => e is PostgresException p && PostgresErrors.IsForeignKeyViolation(p));

    private static Task InsertAuditAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, AuditEntry entry, CancellationToken cancellationToken) =>
        RegistryStatements.InsertAuditAsync(connection, transaction, entry, cancellationToken);

    private static Task InsertIdempotencyRecordAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IdempotencyRecord record,
        CancellationToken cancellationToken) =>
        RegistryStatements.InsertIdempotencyRecordAsync(connection, transaction, record, Errors, cancellationToken);

    /// <param name="clause">The statement after <c>WHERE</c>: the condition, and an order when several rows match.</param>
    private Task<PromptVersion?> FindVersionAsync(string clause, object parameters, CancellationToken cancellationToken) =>
        WithConnectionAsync(connection => RegistryStatements.FindVersionAsync(connection, clause, parameters, cancellationToken), cancellationToken);

    /// <summary>A page of <c>SELECT columns FROM from ORDER BY orderBy</c> and the count of all its rows, read from one snapshot.</summary>
    private Task<Page<T>> PageAsync<TRow, T>(string columns, string from, string orderBy, object parameters, PageRequest page, Func<TRow, T> map,
        CancellationToken cancellationToken) =>
        ReadSnapshotAsync((connection, transaction) =>
            RegistryStatements.PageAsync(connection, transaction, columns, from, orderBy, parameters, page, map, cancellationToken), cancellationToken);

    private static CommandDefinition Command(string sql, object? parameters, CancellationToken cancellationToken, NpgsqlTransaction? transaction = null) =>
        new(sql, parameters, transaction, cancellationToken: cancellationToken);

    /// <summary>Runs <paramref name="work"/> on a connection from the pool.</summary>
    private async Task<T> WithConnectionAsync<T>(Func<NpgsqlConnection, Task<T>> work, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await work(connection);
    }

    /// <summary>Runs the statements of <paramref name="read"/> in one read-only snapshot.</summary>
    private Task<T> ReadSnapshotAsync<T>(Func<NpgsqlConnection, NpgsqlTransaction, Task<T>> read, CancellationToken cancellationToken) =>
        InTransactionAsync(IsolationLevel.RepeatableRead, read, cancellationToken);

    /// <summary>Runs <paramref name="write"/> in one transaction, committed when it returns and rolled back when it throws.</summary>
    private Task<T> WriteAsync<T>(Func<NpgsqlConnection, NpgsqlTransaction, Task<T>> write, CancellationToken cancellationToken) =>
        InTransactionAsync(IsolationLevel.ReadCommitted, write, cancellationToken);

    private Task<T> InTransactionAsync<T>(IsolationLevel isolation, Func<NpgsqlConnection, NpgsqlTransaction, Task<T>> work, CancellationToken cancellationToken) =>
        WithConnectionAsync(async connection =>
        {
            await using var transaction = await connection.BeginTransactionAsync(isolation, cancellationToken);
            var result = await work(connection, transaction);
            await transaction.CommitAsync(cancellationToken);
            return result;
        }, cancellationToken);
}
