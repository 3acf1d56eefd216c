using Dapper;
using Microsoft.Data.Sqlite;
using PromptVault.Core;
using PromptVault.Core.Audit;
using PromptVault.Core.Prompts;
using PromptVault.Core.Storage;
using PromptVault.Core.Versioning;

namespace PromptVault.Storage.Sqlite;

/// <summary>
/// Prompts, versions, labels, the audit log, API keys, experiments and metrics in one SQLite file. Every write is one
/// <c>BEGIN IMMEDIATE</c> transaction, so concurrent writers queue behind the busy timeout instead of failing. Exposures and
/// metric batches go through a <see cref="SqliteWriteQueue"/>: one writer commits many of them per transaction (group commit).
/// </summary>
/// <remarks>
/// Thread-safe; register it as a singleton. Run <see cref="SqliteDatabase.MigrateAsync"/> before first use.
/// A database still locked after the busy timeout surfaces as a <see cref="TimeoutException"/> that says it is transient.
/// </remarks>
public sealed partial class SqlitePromptStore : IPromptStore, IAsyncDisposable
{
    private const int WriteQueueCapacity = 1024;
    private const int ExposureQueueCapacity = 65_536;
    private const int MaxEventsPerTransaction = 4_096;

    private readonly SqliteConnectionFactory connections;
    private readonly SqliteWriteQueue writes;
    private readonly RecentExposures recentExposures;

    public SqlitePromptStore(SqliteConnectionFactory connections)
        : this(connections, WriteQueueCapacity, MaxEventsPerTransaction)
    {
    }

    internal SqlitePromptStore(SqliteConnectionFactory connections, int writeQueueCapacity, int maxEventsPerTransaction,
        int exposureQueueCapacity = ExposureQueueCapacity)
    {
        this.connections = connections ?? throw new ArgumentNullException(nameof(connections));
        recentExposures = new RecentExposures(RecentExposures.DefaultSlots);
        writes = new SqliteWriteQueue(connections, writeQueueCapacity, exposureQueueCapacity, maxEventsPerTransaction,
            (context, exposures) => WriteExposuresAsync(context, exposures, CancellationToken.None), recentExposures.Forget);
    }

    /// <summary>How many acknowledged writes (metric batches, awaited exposures) wait for the writer.</summary>
    internal int QueuedWrites => writes.Count;

    /// <summary>How many render exposures wait for the writer.</summary>
    internal int QueuedExposures => writes.ExposureCount;

    internal long CommittedWriteGroups => writes.CommittedGroups;

    /// <summary>Commits the queued writes and render exposures, then stops taking new ones.</summary>
    public ValueTask DisposeAsync() => writes.DisposeAsync();

    public Task<Prompt?> FindPromptAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        return WithConnectionAsync(connection => RegistryStatements.FindPromptAsync(connection, name, cancellationToken), cancellationToken);
    }

    public Task<Page<PromptListing>> ListPromptsAsync(PromptFilter filter, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        return ReadSnapshotAsync((connection, transaction) => RegistryStatements.ListPromptsAsync(connection, transaction, filter,
            "EXISTS (SELECT 1 FROM json_each(p.tags) t WHERE t.value = @Tag)", cancellationToken), cancellationToken);
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
                "SELECT id, major, minor, patch FROM versions WHERE id IN @versionIds", new { versionIds }, cancellationToken));
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

    public Task SaveAsync(PromptChanges changes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(changes);
        return WriteAsync(async (connection, transaction) =>
        {
            await RegistryStatements.SaveAsync(connection, transaction, changes, Errors, cancellationToken);
            return true;
        }, cancellationToken);
    }

    public Task<Page<AuditEntry>> ListAuditAsync(AuditQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var (from, parameters) = RegistryStatements.AuditSelection(query);
        return PageAsync<AuditRow, AuditEntry>(AuditRow.Columns, from, "id DESC", parameters, query.Page ?? PageRequest.All, r => r.ToEntry(), cancellationToken);
    }

    private static readonly StoreErrors Errors = new(
        e => e is SqliteException s && (SqliteErrors.IsUniqueViolation(s) || SqliteErrors.IsPrimaryKeyViolation(s)),
        e => e is SqliteException s && SqliteErrors.IsForeignKeyViolation(s));

    private static Task InsertAuditAsync(SqliteConnection connection, SqliteTransaction transaction, AuditEntry entry, CancellationToken cancellationToken) =>
        RegistryStatements.InsertAuditAsync(connection, transaction, entry, cancellationToken);

    private static Task InsertIdempotencyRecordAsync(SqliteConnection connection, SqliteTransaction transaction, IdempotencyRecord record,
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

    /// <summary>Runs the reads of <paramref name="read"/> in one deferred transaction: they all see the snapshot its first read takes (WAL).</summary>
    private Task<T> ReadSnapshotAsync<T>(Func<SqliteConnection, SqliteTransaction, Task<T>> read, CancellationToken cancellationToken) =>
        WithConnectionAsync(async connection =>
        {
            using var transaction = connection.BeginTransaction(deferred: true);
            return await read(connection, transaction);
        }, cancellationToken);

    private static CommandDefinition Command(string sql, object? parameters, CancellationToken cancellationToken, SqliteTransaction? transaction = null) =>
        new(sql, parameters, transaction, cancellationToken: cancellationToken);

    /// <summary>Runs <paramref name="work"/> on a new connection, translating a lock that outlasted the busy timeout.</summary>
    private async Task<T> WithConnectionAsync<T>(Func<SqliteConnection, Task<T>> work, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await connections.OpenAsync(cancellationToken);
            return await work(connection);
        }
        catch (SqliteException e) when (SqliteErrors.IsBusy(e))
        {
            throw SqliteErrors.Transient(e, connections.BusyTimeout);
        }
    }

    /// <summary>Runs <paramref name="write"/> in one transaction, committed when it returns and rolled back when it throws.</summary>
    private Task<T> WriteAsync<T>(Func<SqliteConnection, SqliteTransaction, Task<T>> write, CancellationToken cancellationToken) =>
        WithConnectionAsync(async connection =>
        {
            // BeginTransaction() is BEGIN IMMEDIATE: the write lock is taken (or waited for) up front, so a transaction never
            // has to upgrade a read lock, which SQLite refuses with SQLITE_BUSY without waiting.
            using var transaction = connection.BeginTransaction();
            var result = await write(connection, transaction);
            transaction.Commit();
            return result;
        }, cancellationToken);
}
