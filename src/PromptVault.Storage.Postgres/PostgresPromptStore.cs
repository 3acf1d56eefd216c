using System.Data;
using Dapper;
using Npgsql;
using PromptVault.Core;
using PromptVault.Core.Audit;
using PromptVault.Core.Prompts;
using PromptVault.Core.Storage;
using PromptVault.Core.Versioning;
using static PromptVault.Storage.StoredValues;

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
        if (filter.Tag is not null) conditions.Add("EXISTS (SELECT 1 FROM json_array_elements_text(p.tags::json) t WHERE t = @Tag)");
        var where = conditions.Count == 0 ? "" : "WHERE " + string.Join(" AND ", conditions);
        var page = filter.Page ?? PageRequest.All;
        var parameters = new { Type = filter.Type is { } type ? ToName(type) : null, filter.Category, filter.Tag, page.Limit, page.Offset };

        return ReadSnapshotAsync(async (connection, transaction) =>
        {
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
        // Only the conditions asked for, so PostgreSQL can walk an (x, id) index backwards (ix_audit_prompt_name, ix_audit_actor, ix_audit_action).
        var conditions = new List<string>();
        if (query.PromptName is not null) conditions.Add("prompt_name = @PromptName");
        if (query.Actor is not null) conditions.Add("actor = @Actor");
        if (query.Action is not null) conditions.Add("action = @Action");
        // Timestamps are stored as fixed-width UTC round-trip text in the C collation, so text order is time order.
        if (query.From is not null) conditions.Add("timestamp >= @From");
        if (query.To is not null) conditions.Add("timestamp < @To");
        var where = conditions.Count == 0 ? "" : " WHERE " + string.Join(" AND ", conditions);
        return PageAsync<AuditRow, AuditEntry>(AuditRow.Columns, "audit" + where, "id DESC",
            new { query.PromptName, query.Actor, query.Action, From = ToText(query.From), To = ToText(query.To) },
            query.Page ?? PageRequest.All, r => r.ToEntry(), cancellationToken);
    }

    private static async Task InsertPromptAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Prompt prompt, CancellationToken cancellationToken)
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
        catch (PostgresException e) when (PostgresErrors.IsUniqueViolation(e))
        {
            throw ConflictException.PromptExists(prompt.Name);
        }
    }

    private static async Task InsertVersionAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, PromptVersion version, CancellationToken cancellationToken)
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
        catch (PostgresException e) when (PostgresErrors.IsUniqueViolation(e))
        {
            throw new ConcurrentWriteException(
                $"version {version.Version} (sequence {version.Sequence}) of prompt {version.PromptId} was written by another writer first.");
        }
    }

    private static async Task ChangeStatusAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, StatusChange change, CancellationToken cancellationToken)
    {
        var changed = await connection.ExecuteAsync(Command("UPDATE versions SET status = @To WHERE id = @VersionId AND status = @From",
            new { change.VersionId, From = ToName(change.From), To = ToName(change.To) }, cancellationToken, transaction));
        if (changed == 0)
            throw new ConcurrentWriteException($"version {change.VersionId} is no longer {ToName(change.From)}.");
    }

    private static async Task MoveLabelAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, LabelChange change, CancellationToken cancellationToken)
    {
        var parameters = new
        {
            change.PromptId, Name = change.Label, From = change.FromVersionId, To = change.ToVersionId, At = ToText(change.At), change.By,
        };
        int changed;
        if (change.FromVersionId is null)
        {
            // Expects no label and leaves none: only check the expectation. Otherwise insert, unless a label is there
            // (ON CONFLICT: a failed statement would abort the whole transaction).
            changed = change.ToVersionId is null
                ? await connection.ExecuteScalarAsync<bool>(Command("SELECT EXISTS (SELECT 1 FROM labels WHERE prompt_id = @PromptId AND name = @Name)",
                    parameters, cancellationToken, transaction)) ? 0 : 1
                : await connection.ExecuteAsync(Command("""
                    INSERT INTO labels (prompt_id, name, version_id, updated_at, updated_by) VALUES (@PromptId, @Name, @To, @At, @By)
                    ON CONFLICT (prompt_id, name) DO NOTHING
                    """, parameters, cancellationToken, transaction));
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

    private static Task InsertAuditAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, AuditEntry entry, CancellationToken cancellationToken) =>
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
        ReadSnapshotAsync(async (connection, transaction) =>
        {
            var all = new DynamicParameters(parameters);
            all.AddDynamicParams(new { page.Limit, page.Offset });
            var total = await connection.ExecuteScalarAsync<int>(Command($"SELECT COUNT(*) FROM {from}", all, cancellationToken, transaction));
            var rows = await connection.QueryAsync<TRow>(Command(
                $"SELECT {columns} FROM {from} ORDER BY {orderBy} LIMIT @Limit OFFSET @Offset", all, cancellationToken, transaction));
            return new Page<T>(rows.Select(map).ToList(), total);
        }, cancellationToken);

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
