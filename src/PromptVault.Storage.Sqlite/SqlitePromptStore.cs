using Dapper;
using Microsoft.Data.Sqlite;
using PromptVault.Core;
using PromptVault.Core.Audit;
using PromptVault.Core.Prompts;
using PromptVault.Core.Storage;
using PromptVault.Core.Versioning;
using static PromptVault.Storage.StoredValues;

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
        return WithConnectionAsync(async connection =>
        {
            var row = await connection.QuerySingleOrDefaultAsync<PromptRow>(Command(
                $"SELECT {PromptRow.Columns} FROM prompts p WHERE p.name = @name", new { name }, cancellationToken));
            return row?.ToPrompt();
        }, cancellationToken);
    }

    public Task<Page<PromptListing>> ListPromptsAsync(PromptFilter filter, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var conditions = new List<string>();
        if (filter.Type is not null) conditions.Add("p.type = @Type");
        if (filter.Category is not null) conditions.Add("p.category = @Category");
        if (filter.Tag is not null) conditions.Add("EXISTS (SELECT 1 FROM json_each(p.tags) t WHERE t.value = @Tag)");
        var where = conditions.Count == 0 ? "" : "WHERE " + string.Join(" AND ", conditions);
        var page = filter.Page ?? PageRequest.All;
        var parameters = new { Type = filter.Type is { } type ? ToName(type) : null, filter.Category, filter.Tag, page.Limit, page.Offset };

        return WithConnectionAsync(async connection =>
        {
            // The count, the page of prompts with their latest versions, then their labels: read from one snapshot.
            using var transaction = connection.BeginTransaction(deferred: true);
            var total = await connection.ExecuteScalarAsync<int>(Command($"SELECT COUNT(*) FROM prompts p {where}", parameters, cancellationToken, transaction));
            var latest = await connection.QueryAsync<PromptRow, VersionRow, (PromptRow Prompt, VersionRow Version)>(Command($"""
                SELECT {PromptRow.Columns}, {VersionRow.Columns}
                FROM (SELECT * FROM prompts p {where} ORDER BY p.name LIMIT @Limit OFFSET @Offset) p
                JOIN versions v ON v.prompt_id = p.id AND v.sequence = (SELECT MAX(sequence) FROM versions WHERE prompt_id = p.id)
                ORDER BY p.name
                """, parameters, cancellationToken, transaction), (p, v) => (p, v), splitOn: "Id");
            var labels = (await connection.QueryAsync<LabelRow>(Command($"""
                SELECT {LabelRow.Columns}
                FROM labels l
                JOIN versions v ON v.id = l.version_id
                JOIN (SELECT p.id FROM prompts p {where} ORDER BY p.name LIMIT @Limit OFFSET @Offset) p ON p.id = l.prompt_id
                ORDER BY l.name
                """, parameters, cancellationToken, transaction))).Select(l => l.ToLabel()).ToLookup(l => l.PromptId);

            return new Page<PromptListing>(latest.Select(r => new PromptListing(r.Prompt.ToPrompt(), r.Version.ToVersion(), labels[r.Prompt.Id].ToList())).ToList(), total);
        }, cancellationToken);
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
        return WithConnectionAsync<IReadOnlyList<Label>>(async connection =>
        {
            var rows = await connection.QueryAsync<LabelRow>(Command($"""
                SELECT {LabelRow.Columns} FROM labels l JOIN versions v ON v.id = l.version_id
                WHERE l.prompt_id = @promptId ORDER BY l.name
                """, new { promptId }, cancellationToken));
            return rows.Select(r => r.ToLabel()).ToList();
        }, cancellationToken);
    }

    public Task SaveAsync(PromptChanges changes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(changes);
        return WriteAsync(async (connection, transaction) =>
        {
            if (changes.NewPrompt is { } prompt)
                await InsertPromptAsync(connection, transaction, prompt, cancellationToken);
            if (changes.TouchedPrompt is { } touched)
            {
                await connection.ExecuteAsync(Command("UPDATE prompts SET updated_at = @UpdatedAt, updated_by = @UpdatedBy WHERE id = @Id",
                    new { touched.Id, UpdatedAt = ToText(touched.UpdatedAt), touched.UpdatedBy }, cancellationToken, transaction));
            }
            if (changes.NewVersion is { } version)
                await InsertVersionAsync(connection, transaction, version, cancellationToken);
            foreach (var change in changes.StatusChanges)
                await ChangeStatusAsync(connection, transaction, change, cancellationToken);
            foreach (var change in changes.LabelChanges)
                await MoveLabelAsync(connection, transaction, change, cancellationToken);
            foreach (var entry in changes.Audit)
                await InsertAuditAsync(connection, transaction, entry, cancellationToken);
            if (changes.Idempotency is { } record)
                await InsertIdempotencyRecordAsync(connection, transaction, record, cancellationToken);
            return true;
        }, cancellationToken);
    }

    public Task<Page<AuditEntry>> ListAuditAsync(AuditQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        // Only the conditions asked for, so SQLite can walk an (x, id) index backwards (ix_audit_prompt_name, ix_audit_actor, ix_audit_action).
        var conditions = new List<string>();
        if (query.PromptName is not null) conditions.Add("prompt_name = @PromptName");
        if (query.Actor is not null) conditions.Add("actor = @Actor");
        if (query.Action is not null) conditions.Add("action = @Action");
        // Timestamps are stored as fixed-width UTC round-trip text, so text order is time order.
        if (query.From is not null) conditions.Add("timestamp >= @From");
        if (query.To is not null) conditions.Add("timestamp < @To");
        var where = conditions.Count == 0 ? "" : " WHERE " + string.Join(" AND ", conditions);
        return PageAsync<AuditRow, AuditEntry>(AuditRow.Columns, "audit" + where, "id DESC",
            new { query.PromptName, query.Actor, query.Action, From = ToText(query.From), To = ToText(query.To) },
            query.Page ?? PageRequest.All, r => r.ToEntry(), cancellationToken);
    }

    private static async Task InsertPromptAsync(SqliteConnection connection, SqliteTransaction transaction, Prompt prompt, CancellationToken cancellationToken)
    {
        try
        {
            await connection.ExecuteAsync(Command("""
                INSERT INTO prompts (id, name, description, type, tags, category, created_at, created_by, updated_at, updated_by)
                VALUES (@Id, @Name, @Description, @Type, @Tags, @Category, @CreatedAt, @CreatedBy, @UpdatedAt, @UpdatedBy)
                """, new
            {
                prompt.Id, prompt.Name, prompt.Description, Type = ToName(prompt.Type), Tags = ToJson(prompt.Tags.ToList()), prompt.Category,
                CreatedAt = ToText(prompt.CreatedAt), prompt.CreatedBy, UpdatedAt = ToText(prompt.UpdatedAt), prompt.UpdatedBy,
            }, cancellationToken, transaction));
        }
        catch (SqliteException e) when (SqliteErrors.IsUniqueViolation(e))
        {
            throw ConflictException.PromptExists(prompt.Name);
        }
    }

    private static async Task InsertVersionAsync(SqliteConnection connection, SqliteTransaction transaction, PromptVersion version, CancellationToken cancellationToken)
    {
        try
        {
            await connection.ExecuteAsync(Command("""
                INSERT INTO versions (id, prompt_id, sequence, major, minor, patch, content, variables, metadata, change_description, created_by, created_at, status)
                VALUES (@Id, @PromptId, @Sequence, @Major, @Minor, @Patch, @Content, @Variables, @Metadata, @ChangeDescription, @CreatedBy, @CreatedAt, @Status)
                """, new
            {
                version.Id, version.PromptId, version.Sequence, version.Version.Major, version.Version.Minor, version.Version.Patch,
                version.Content, Variables = ToJson(version.Variables.ToList()), Metadata = ToJson(version.Metadata),
                version.ChangeDescription, version.CreatedBy, CreatedAt = ToText(version.CreatedAt), Status = ToName(version.Status),
            }, cancellationToken, transaction));
        }
        catch (SqliteException e) when (SqliteErrors.IsUniqueViolation(e))
        {
            throw new ConcurrentWriteException(
                $"version {version.Version} (sequence {version.Sequence}) of prompt {version.PromptId} was written by another writer first.");
        }
    }

    private static async Task ChangeStatusAsync(SqliteConnection connection, SqliteTransaction transaction, StatusChange change, CancellationToken cancellationToken)
    {
        var changed = await connection.ExecuteAsync(Command("UPDATE versions SET status = @To WHERE id = @VersionId AND status = @From",
            new { change.VersionId, From = ToName(change.From), To = ToName(change.To) }, cancellationToken, transaction));
        if (changed == 0)
            throw new ConcurrentWriteException($"version {change.VersionId} is no longer {ToName(change.From)}.");
    }

    private static async Task MoveLabelAsync(SqliteConnection connection, SqliteTransaction transaction, LabelChange change, CancellationToken cancellationToken)
    {
        var parameters = new
        {
            change.PromptId, Name = change.Label, From = change.FromVersionId, To = change.ToVersionId, At = ToText(change.At), change.By,
        };
        int changed;
        if (change.FromVersionId is null)
        {
            if (change.ToVersionId is null)
            {
                // Expects no label and leaves none: only check the expectation.
                changed = await connection.ExecuteScalarAsync<long>(Command("SELECT COUNT(*) FROM labels WHERE prompt_id = @PromptId AND name = @Name",
                    parameters, cancellationToken, transaction)) == 0 ? 1 : 0;
            }
            else
            {
                try
                {
                    changed = await connection.ExecuteAsync(Command("""
                        INSERT INTO labels (prompt_id, name, version_id, updated_at, updated_by) VALUES (@PromptId, @Name, @To, @At, @By)
                        """, parameters, cancellationToken, transaction));
                }
                catch (SqliteException e) when (SqliteErrors.IsPrimaryKeyViolation(e))
                {
                    changed = 0;
                }
            }
        }
        else if (change.ToVersionId is null)
        {
            changed = await connection.ExecuteAsync(Command("DELETE FROM labels WHERE prompt_id = @PromptId AND name = @Name AND version_id = @From",
                parameters, cancellationToken, transaction));
        }
        else
        {
            changed = await connection.ExecuteAsync(Command("""
                UPDATE labels SET version_id = @To, updated_at = @At, updated_by = @By
                WHERE prompt_id = @PromptId AND name = @Name AND version_id = @From
                """, parameters, cancellationToken, transaction));
        }
        if (changed == 0)
            throw new ConcurrentWriteException(
                $"label '{change.Label}' of prompt {change.PromptId} no longer points at {change.FromVersionId ?? "nothing"}.");
    }

    private static Task InsertAuditAsync(SqliteConnection connection, SqliteTransaction transaction, AuditEntry entry, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(Command("""
            INSERT INTO audit (timestamp, actor, action, prompt_name, subject, before_json, after_json)
            VALUES (@Timestamp, @Actor, @Action, @PromptName, @Subject, @Before, @After)
            """, new
        {
            Timestamp = ToText(entry.Timestamp), entry.Actor, entry.Action, entry.PromptName, entry.Subject,
            Before = State(entry.Before), After = State(entry.After),
        }, cancellationToken, transaction));

    private static string? State(IReadOnlyDictionary<string, string?>? state) =>
        state is null ? null : ToJson(new Dictionary<string, string?>(state));

    /// <param name="clause">The statement after <c>WHERE</c>: the condition, and an order when several rows match.</param>
    private Task<PromptVersion?> FindVersionAsync(string clause, object parameters, CancellationToken cancellationToken) =>
        WithConnectionAsync(async connection =>
        {
            var row = await connection.QueryFirstOrDefaultAsync<VersionRow>(Command(
                $"SELECT {VersionRow.Columns} FROM versions v WHERE {clause}", parameters, cancellationToken));
            return row?.ToVersion();
        }, cancellationToken);

    /// <summary>A page of <c>SELECT columns FROM from ORDER BY orderBy</c> and the count of all its rows, read from one snapshot.</summary>
    private Task<Page<T>> PageAsync<TRow, T>(string columns, string from, string orderBy, object parameters, PageRequest page, Func<TRow, T> map,
        CancellationToken cancellationToken) =>
        WithConnectionAsync(async connection =>
        {
            using var transaction = connection.BeginTransaction(deferred: true);
            var all = new DynamicParameters(parameters);
            all.AddDynamicParams(new { page.Limit, page.Offset });
            var total = await connection.ExecuteScalarAsync<int>(Command($"SELECT COUNT(*) FROM {from}", all, cancellationToken, transaction));
            var rows = await connection.QueryAsync<TRow>(Command(
                $"SELECT {columns} FROM {from} ORDER BY {orderBy} LIMIT @Limit OFFSET @Offset", all, cancellationToken, transaction));
            return new Page<T>(rows.Select(map).ToList(), total);
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
