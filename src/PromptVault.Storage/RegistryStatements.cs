using System.Data.Common;
using Dapper;
using PromptVault.Core;
using PromptVault.Core.Audit;
using PromptVault.Core.Auth;
using PromptVault.Core.Experiments;
using PromptVault.Core.Prompts;
using PromptVault.Core.Storage;
using PromptVault.Core.Versioning;
using static PromptVault.Storage.StoredValues;

namespace PromptVault.Storage;

/// <summary>How an engine reports the constraint violations a store translates into PromptVault's errors.</summary>
/// <param name="IsUniqueViolation">A unique or primary key constraint refused the row.</param>
/// <param name="IsLostRace">The transaction was rolled back whole for crossing another (a deadlock): safe to redo.</param>
internal sealed record StoreErrors(Func<DbException, bool> IsUniqueViolation, Func<DbException, bool> IsForeignKeyViolation,
    Func<DbException, bool> IsLostRace);

/// <summary>
/// The registry's statements (prompts, versions, labels, the audit log, API keys, idempotency records) in the SQL that
/// SQLite and PostgreSQL both run, on the caller's connection and transaction: one place for what both stores do.
/// Called by <see cref="RelationalPromptStore{TConnection, TTransaction}"/>, whose stores open connections and transactions the way their engine needs.
/// </summary>
internal static class RegistryStatements
{
    public static readonly string ActiveAdmins = $"api_keys WHERE role = '{ToName(ApiKeyRole.Admin)}' AND revoked_at IS NULL";

    public static CommandDefinition Command(string sql, object? parameters, CancellationToken cancellationToken, DbTransaction? transaction = null) =>
        new(sql, parameters, transaction, cancellationToken: cancellationToken);

    public static async Task<Prompt?> FindPromptAsync(DbConnection connection, string name, CancellationToken cancellationToken)
    {
        var row = await connection.QuerySingleOrDefaultAsync<PromptRow>(Command(
            $"SELECT {PromptRow.Columns} FROM prompts p WHERE p.name = @name", new { name }, cancellationToken));
        return row?.ToPrompt();
    }

    /// <summary>The prompts of <paramref name="names"/>, read by name in chunks of <see cref="ValuesPerRead"/>, as <see cref="FindValuesAsync"/> reads.</summary>
    public static async Task<IReadOnlyList<Prompt>> FindPromptsAsync(DbConnection connection, IEnumerable<string> names, Func<string, string, string> isAnyOf,
        CancellationToken cancellationToken)
    {
        var prompts = new List<Prompt>();
        foreach (var chunk in names.Distinct(StringComparer.Ordinal).Chunk(ValuesPerRead))
            prompts.AddRange((await connection.QueryAsync<PromptRow>(Command($"SELECT {PromptRow.Columns} FROM prompts p WHERE {isAnyOf("p.name", "Names")}",
                new { Names = chunk }, cancellationToken))).Select(row => row.ToPrompt()));
        return prompts;
    }

    /// <summary>Which of <paramref name="names"/> the store holds (exactly, case-sensitive), read by name in chunks: SQLite binds
    /// each name as a parameter, and caps their number.</summary>
    /// <param name="isAnyOf">The engine's condition that a column is one of an array parameter (column, parameter).</param>
    public static async Task<IReadOnlySet<string>> FindPromptNamesAsync(DbConnection connection, DbTransaction? transaction, IEnumerable<string> names,
        Func<string, string, string> isAnyOf, CancellationToken cancellationToken)
        => await FindValuesAsync(connection, transaction, "prompts", "name", names, isAnyOf, cancellationToken);

    /// <summary>Which of <paramref name="values"/> <paramref name="table"/>.<paramref name="column"/> holds, read in chunks of
    /// <see cref="ValuesPerRead"/> (one parameter each on SQLite), never the whole table.</summary>
    public static async Task<HashSet<string>> FindValuesAsync(DbConnection connection, DbTransaction? transaction, string table, string column,
        IEnumerable<string> values, Func<string, string, string> isAnyOf, CancellationToken cancellationToken)
    {
        var found = new HashSet<string>(StringComparer.Ordinal);
        foreach (var chunk in values.Distinct(StringComparer.Ordinal).Chunk(ValuesPerRead))
            found.UnionWith(await connection.QueryAsync<string>(Command($"SELECT {column} FROM {table} WHERE {isAnyOf(column, "Values")}",
                new { Values = chunk }, cancellationToken, transaction)));
        return found;
    }

    private const int ValuesPerRead = 500;

    /// <summary>
    /// The condition that version <paramref name="v"/>'s template or messages may include a prompt: the one <see cref="IncludePatterns"/>
    /// names in <c>@MayInclude</c> and <c>@MayIncludeInJson</c>. It only narrows (a name's '_' matches any character, SQLite's LIKE
    /// ignores case); the template parser decides. Messages are stored as JSON, which writes '>' as \u003E: that form is matched without
    /// its backslash, which is an escape in PostgreSQL's LIKE and not in SQLite's.
    /// </summary>
    public static string MayIncludeCondition(string v) => $"({v}.content LIKE @MayInclude OR {v}.messages LIKE @MayInclude OR {v}.messages LIKE @MayIncludeInJson)";

    /// <summary>The patterns of <see cref="MayIncludeCondition"/> for an include of <paramref name="name"/>, or of any prompt when it is empty.
    /// Prompt names hold no '%' nor '\' (PromptRules), nothing JSON escapes.</summary>
    public static (string MayInclude, string MayIncludeInJson) IncludePatterns(string name) => ($"%{{{{%>%{name}%", $"%{{{{%u003E%{name}%");

    /// <summary>The prompts that pass the filter, with their latest versions and labels, from the snapshot of <paramref name="transaction"/>.</summary>
    /// <param name="tagCondition">The engine's condition that the JSON array <c>p.tags</c> holds <c>@Tag</c>.</param>
    public static async Task<Page<PromptListing>> ListPromptsAsync(DbConnection connection, DbTransaction transaction, PromptFilter filter, string tagCondition,
        CancellationToken cancellationToken)
    {
        var conditions = new List<string>();
        if (filter.Type is not null) conditions.Add("p.type = @Type");
        if (filter.Category is not null) conditions.Add("p.category = @Category");
        if (filter.Tag is not null) conditions.Add(tagCondition);
        // Names are lower case (PromptRules), so the text lowered matches ignoring case; its '%', '_' and '\' are matched as themselves.
        if (filter.NameContains is not null) conditions.Add(@"p.name LIKE @NameLike ESCAPE '\'");
        if (filter.MayInclude is not null)
            // Two lookups by index (the latest by (prompt_id, sequence), the labelled through labels' key), so only those versions' text is read.
            conditions.Add($"""
                (EXISTS (SELECT 1 FROM versions i WHERE i.prompt_id = p.id AND i.sequence = (SELECT MAX(sequence) FROM versions WHERE prompt_id = p.id)
                    AND {MayIncludeCondition("i")})
                OR EXISTS (SELECT 1 FROM labels il JOIN versions i ON i.id = il.version_id WHERE il.prompt_id = p.id AND {MayIncludeCondition("i")}))
                """);
        var where = conditions.Count == 0 ? "" : "WHERE " + string.Join(" AND ", conditions);
        var page = filter.Page ?? PageRequest.All;
        var nameLike = filter.NameContains is { } part
            ? "%" + part.ToLowerInvariant().Replace(@"\", @"\\").Replace("%", @"\%").Replace("_", @"\_") + "%"
            : null;
        var (mayInclude, mayIncludeInJson) = IncludePatterns(filter.MayInclude ?? "");
        var parameters = new
        {
            Type = filter.Type is { } type ? ToName(type) : null, filter.Category, filter.Tag, NameLike = nameLike, MayInclude = mayInclude,
            MayIncludeInJson = mayIncludeInJson, page.Limit, page.Offset,
        };

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
    }

    /// <summary>Every prompt that has <paramref name="label"/>, by name, with the version it points at: one statement, so one state of the registry.</summary>
    public static async Task<IReadOnlyList<LabelledPrompt>> ListLabelledPromptsAsync(DbConnection connection, string label, CancellationToken cancellationToken)
    {
        var rows = await connection.QueryAsync<PromptRow, VersionRow, LabelledPrompt>(Command($"""
            SELECT {PromptRow.Columns}, {VersionRow.Columns}
            FROM prompts p
            JOIN labels l ON l.prompt_id = p.id AND l.name = @label
            JOIN versions v ON v.id = l.version_id
            ORDER BY p.name
            """, new { label }, cancellationToken), (p, v) => new LabelledPrompt(p.ToPrompt(), v.ToVersion()), splitOn: "Id");
        return rows.ToList();
    }

    /// <param name="clause">The statement after <c>WHERE</c>: the condition, and an order when several rows match.</param>
    public static async Task<PromptVersion?> FindVersionAsync(DbConnection connection, string clause, object parameters, CancellationToken cancellationToken)
    {
        var row = await connection.QueryFirstOrDefaultAsync<VersionRow>(Command(
            $"SELECT {VersionRow.Columns} FROM versions v WHERE {clause}", parameters, cancellationToken));
        return row?.ToVersion();
    }

    /// <summary>The versions of <paramref name="pins"/> (a prompt's id and a version number), read by those pins in chunks of
    /// <see cref="ValuesPerRead"/> parameters.</summary>
    public static async Task<IReadOnlyList<PromptVersion>> FindVersionsAsync(DbConnection connection,
        IEnumerable<(string PromptId, SemanticVersion Version)> pins, CancellationToken cancellationToken)
    {
        var versions = new List<PromptVersion>();
        foreach (var chunk in pins.Distinct().Chunk(ValuesPerRead / 4))
        {
            var parameters = new DynamicParameters();
            var conditions = chunk.Select((pin, i) =>
            {
                parameters.AddDynamicParams(new Dictionary<string, object>
                {
                    [$"p{i}"] = pin.PromptId, [$"a{i}"] = pin.Version.Major, [$"b{i}"] = pin.Version.Minor, [$"c{i}"] = pin.Version.Patch,
                });
                return $"(v.prompt_id = @p{i} AND v.major = @a{i} AND v.minor = @b{i} AND v.patch = @c{i})";
            });
            versions.AddRange((await connection.QueryAsync<VersionRow>(Command(
                $"SELECT {VersionRow.Columns} FROM versions v WHERE {string.Join(" OR ", conditions)}", parameters, cancellationToken)))
                .Select(row => row.ToVersion()));
        }
        return versions;
    }

    public static async Task<IReadOnlyList<Label>> ListLabelsAsync(DbConnection connection, string promptId, CancellationToken cancellationToken)
    {
        var rows = await connection.QueryAsync<LabelRow>(Command($"""
            SELECT {LabelRow.Columns} FROM labels l JOIN versions v ON v.id = l.version_id
            WHERE l.prompt_id = @promptId ORDER BY l.name
            """, new { promptId }, cancellationToken));
        return rows.Select(r => r.ToLabel()).ToList();
    }

    /// <summary>A page of <c>SELECT columns FROM from ORDER BY orderBy</c> and the count of all its rows, from the snapshot of <paramref name="transaction"/>.</summary>
    public static async Task<Page<T>> PageAsync<TRow, T>(DbConnection connection, DbTransaction transaction, string columns, string from, string orderBy,
        object parameters, PageRequest page, Func<TRow, T> map, CancellationToken cancellationToken)
    {
        var all = new DynamicParameters(parameters);
        all.AddDynamicParams(new { page.Limit, page.Offset });
        var total = await connection.ExecuteScalarAsync<int>(Command($"SELECT COUNT(*) FROM {from}", all, cancellationToken, transaction));
        var rows = await connection.QueryAsync<TRow>(Command(
            $"SELECT {columns} FROM {from} ORDER BY {orderBy} LIMIT @Limit OFFSET @Offset", all, cancellationToken, transaction));
        return new Page<T>(rows.Select(map).ToList(), total);
    }

    /// <summary>What <see cref="PageAsync"/> reads for an audit query: only the conditions asked for, so the engine can walk an
    /// (x, id) index backwards (ix_audit_prompt_name, ix_audit_actor, ix_audit_action).</summary>
    public static (string From, object Parameters) AuditSelection(AuditQuery query)
    {
        var conditions = new List<string>();
        if (query.PromptName is not null) conditions.Add("prompt_name = @PromptName");
        if (query.Actor is not null) conditions.Add("actor = @Actor");
        if (query.Action is not null) conditions.Add("action = @Action");
        if (query.Subject is not null) conditions.Add("subject = @Subject");
        // Timestamps are stored as fixed-width UTC round-trip text compared bytewise, so text order is time order.
        if (query.From is not null) conditions.Add("timestamp >= @From");
        if (query.To is not null) conditions.Add("timestamp < @To");
        var where = conditions.Count == 0 ? "" : " WHERE " + string.Join(" AND ", conditions);
        return ("audit" + where, new { query.PromptName, query.Actor, query.Action, query.Subject, From = ToText(query.From), To = ToText(query.To) });
    }

    /// <summary>
    /// Writes every part of <paramref name="changes"/>, the prompt's own row first. So on PostgreSQL (read committed) two changes
    /// to one prompt take turns on that row, and each later statement of the second reads what the first committed: the
    /// guards of the status and label writes (no label on an archived version) rely on that, as SQLite's one writer gives it anyway.
    /// </summary>
    /// <param name="hasVariantOfVersion">The engine's condition that experiment <c>e</c>'s JSON array <c>variants</c> holds a variant of version <c>@VersionId</c>.</param>
    /// <exception cref="ConflictException">The new prompt's name is taken (<c>prompt_exists</c>).</exception>
    /// <exception cref="ConcurrentWriteException">Another writer got there first (see <see cref="IPromptStore.SaveAsync"/>).</exception>
    public static async Task SaveAsync(DbConnection connection, DbTransaction transaction, PromptChanges changes, StoreErrors errors,
        string hasVariantOfVersion, CancellationToken cancellationToken)
    {
        if (changes.NewPrompt is { } prompt)
            await InsertPromptAsync(connection, transaction, prompt, errors, cancellationToken);
        if (changes.TouchedPrompt is { } touched)
        {
            var changed = await connection.ExecuteAsync(Command("""
                UPDATE prompts SET updated_at = @UpdatedAt, updated_by = @UpdatedBy
                WHERE id = @Id AND require_approval = @RequireApproval AND require_tests = @RequireTests
                """, new { touched.Id, UpdatedAt = ToText(touched.UpdatedAt), touched.UpdatedBy, touched.RequireApproval, touched.RequireTests },
                cancellationToken, transaction));
            if (changed == 0)
                throw new ConcurrentWriteException($"prompt {touched.Id}'s promotion gates (requireApproval, requireTests) changed since it was read.");
        }
        if (changes.UpdatedPrompt is { To: var updated } update)
        {
            var changed = await connection.ExecuteAsync(Command("""
                UPDATE prompts SET description = @Description, tags = @Tags, category = @Category, require_approval = @RequireApproval,
                    require_tests = @RequireTests, updated_at = @UpdatedAt, updated_by = @UpdatedBy
                WHERE id = @Id AND updated_at = @ReadUpdatedAt
                """, new
            {
                updated.Id, updated.Description, Tags = ToJson(updated.Tags.ToList()), updated.Category, updated.RequireApproval, updated.RequireTests,
                UpdatedAt = ToText(updated.UpdatedAt), updated.UpdatedBy, ReadUpdatedAt = ToText(update.From.UpdatedAt),
            }, cancellationToken, transaction));
            if (changed == 0)
                throw new ConcurrentWriteException($"prompt {updated.Id} changed since it was read (at {ToText(update.From.UpdatedAt)}).");
        }
        if (changes.NewVersion is { } version)
        {
            await InsertVersionAsync(connection, transaction, version, errors, cancellationToken);
            if (changes.NewVersionTests is { } tests)
                await EvaluationStatements.SaveTestsAsync(connection, transaction, version.Id, tests, cancellationToken);
            else if (changes.TestsFromVersionId is { } from)
                await EvaluationStatements.CopyTestsAsync(connection, transaction, from, version.Id, cancellationToken);
        }
        if (changes.PassedRun is { } passed)
            await EvaluationStatements.EnsureStillPassedAsync(connection, transaction, passed, cancellationToken);
        foreach (var change in changes.StatusChanges)
            await ChangeStatusAsync(connection, transaction, change, hasVariantOfVersion, cancellationToken);
        foreach (var change in changes.LabelChanges)
            await MoveLabelAsync(connection, transaction, change, cancellationToken);
        if (changes.IncludeGeneration is { } generation)
            await AdvanceIncludeGenerationAsync(connection, transaction, generation, cancellationToken);
        foreach (var entry in changes.Audit)
            await InsertAuditAsync(connection, transaction, entry, cancellationToken);
        if (changes.Idempotency is { } record)
            await InsertIdempotencyRecordAsync(connection, transaction, record, cancellationToken);
    }

    public const string ReadIncludeGenerationSql = "SELECT generation FROM include_graph";

    /// <summary>Advances the include graph's generation if it is still <paramref name="expected"/> (see <see cref="PromptChanges.IncludeGeneration"/>).</summary>
    /// <exception cref="ConcurrentWriteException">Another write advanced it since it was read.</exception>
    public static async Task AdvanceIncludeGenerationAsync(DbConnection connection, DbTransaction transaction, long expected, CancellationToken cancellationToken)
    {
        var changed = await connection.ExecuteAsync(Command("UPDATE include_graph SET generation = generation + 1 WHERE generation = @expected",
            new { expected }, cancellationToken, transaction));
        if (changed == 0)
            throw new ConcurrentWriteException($"the include graph changed since it was read (generation {expected}).");
    }

    /// <summary>Appends <paramref name="entry"/> to the audit log and queues the webhook deliveries it fires, in the caller's transaction.</summary>
    public static async Task InsertAuditAsync(DbConnection connection, DbTransaction transaction, AuditEntry entry, CancellationToken cancellationToken)
    {
        await connection.ExecuteAsync(Command("""
            INSERT INTO audit (timestamp, actor, action, prompt_name, subject, before_json, after_json)
            VALUES (@Timestamp, @Actor, @Action, @PromptName, @Subject, @Before, @After)
            """, new
        {
            Timestamp = ToText(entry.Timestamp), entry.Actor, entry.Action, entry.PromptName, entry.Subject,
            Before = State(entry.Before), After = State(entry.After),
        }, cancellationToken, transaction));
        await WebhookStatements.EnqueueAsync(connection, transaction, entry, cancellationToken);
    }

    public static async Task<IdempotencyRecord?> FindIdempotencyRecordAsync(DbConnection connection, string owner, string key, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        var row = await connection.QuerySingleOrDefaultAsync<IdempotencyRow>(Command($"""
            SELECT {IdempotencyRow.Columns} FROM idempotency_keys WHERE owner = @owner AND key = @key AND expires_at > @Now
            """, new { owner, key, Now = ToText(now) }, cancellationToken));
        return row?.ToRecord();
    }

    /// <summary>Deletes the expired records, then stores <paramref name="record"/>, in the caller's transaction.</summary>
    /// <exception cref="ConcurrentWriteException">A live record has the same owner and key.</exception>
    public static async Task InsertIdempotencyRecordAsync(DbConnection connection, DbTransaction transaction, IdempotencyRecord record,
        CancellationToken cancellationToken)
    {
        var now = ToText(record.CreatedAt);
        await connection.ExecuteAsync(Command("DELETE FROM idempotency_keys WHERE expires_at <= @now", new { now }, cancellationToken, transaction));
        // DO NOTHING rather than a unique violation, which would abort the whole transaction on PostgreSQL: a group commit
        // refuses this write alone and stores its neighbours.
        var inserted = await connection.ExecuteAsync(Command("""
            INSERT INTO idempotency_keys (owner, key, request_hash, response, created_at, expires_at)
            VALUES (@Owner, @Key, @RequestHash, @Response, @CreatedAt, @ExpiresAt)
            ON CONFLICT (owner, key) DO NOTHING
            """, new { record.Owner, record.Key, record.RequestHash, record.Response, CreatedAt = now, ExpiresAt = ToText(record.ExpiresAt) },
            cancellationToken, transaction));
        if (inserted == 0)
            throw new ConcurrentWriteException($"idempotency key '{record.Key}' was stored by another request first.");
    }

    public static Task<ApiKey?> FindActiveKeyAsync(DbConnection connection, string keyHash, CancellationToken cancellationToken) =>
        FindActiveKeyWhereAsync(connection, "key_hash", keyHash, cancellationToken);

    public static Task<ApiKey?> FindActiveKeyByIdAsync(DbConnection connection, string id, CancellationToken cancellationToken) =>
        FindActiveKeyWhereAsync(connection, "id", id, cancellationToken);

    /// <param name="column">A column name of this file's, never input.</param>
    private static async Task<ApiKey?> FindActiveKeyWhereAsync(DbConnection connection, string column, string value, CancellationToken cancellationToken)
    {
        var row = await connection.QuerySingleOrDefaultAsync<ApiKeyRow>(Command(
            $"SELECT {ApiKeyRow.Columns} FROM api_keys WHERE {column} = @value AND revoked_at IS NULL", new { value }, cancellationToken));
        return row?.ToKey();
    }

    public static Task<bool> AnyActiveAdminKeyAsync(DbConnection connection, DbTransaction? transaction, CancellationToken cancellationToken) =>
        connection.ExecuteScalarAsync<bool>(Command($"SELECT EXISTS (SELECT 1 FROM {ActiveAdmins})", null, cancellationToken, transaction));

    public static async Task CreateKeyAsync(DbConnection connection, DbTransaction transaction, ApiKey key, string keyHash, AuditEntry audit,
        CancellationToken cancellationToken)
    {
        await connection.ExecuteAsync(Command("""
            INSERT INTO api_keys (id, name, role, prefix, key_hash, created_at, created_by, revoked_at)
            VALUES (@Id, @Name, @Role, @Prefix, @KeyHash, @CreatedAt, @CreatedBy, @RevokedAt)
            """, new
        {
            key.Id, key.Name, Role = ToName(key.Role), key.Prefix, KeyHash = keyHash,
            CreatedAt = ToText(key.CreatedAt), key.CreatedBy, RevokedAt = ToText(key.RevokedAt),
        }, cancellationToken, transaction));
        await InsertAuditAsync(connection, transaction, audit, cancellationToken);
    }

    /// <summary>Creates the key unless an admin key is active. The caller's transaction must keep a concurrent call from passing
    /// the same check (SQLite: its write lock; PostgreSQL: a lock on the table).</summary>
    public static async Task<bool> CreateFirstAdminKeyAsync(DbConnection connection, DbTransaction transaction, ApiKey key, string keyHash,
        AuditEntry audit, CancellationToken cancellationToken)
    {
        if (await AnyActiveAdminKeyAsync(connection, transaction, cancellationToken))
            return false;
        await CreateKeyAsync(connection, transaction, key, keyHash, audit, cancellationToken);
        return true;
    }

    /// <summary>Revokes the key unless it is the last active admin key. The caller's transaction must keep a concurrent revocation
    /// from passing the same check (SQLite: its write lock; PostgreSQL: the admin keys' row locks).</summary>
    /// <returns>False when the key is unknown or already revoked.</returns>
    /// <exception cref="ConflictException">It is the last active admin key (<c>last_admin_key</c>).</exception>
    public static async Task<bool> RevokeKeyAsync(DbConnection connection, DbTransaction transaction, string id, DateTimeOffset at, AuditEntry audit,
        CancellationToken cancellationToken)
    {
        var role = await connection.ExecuteScalarAsync<string?>(Command(
            "UPDATE api_keys SET revoked_at = @At WHERE id = @id AND revoked_at IS NULL RETURNING role",
            new { id, At = ToText(at) }, cancellationToken, transaction));
        if (role is null) return false;
        if (role == ToName(ApiKeyRole.Admin) && !await AnyActiveAdminKeyAsync(connection, transaction, cancellationToken))
            throw ConflictException.LastAdminKey(id);
        await InsertAuditAsync(connection, transaction, audit, cancellationToken);
        return true;
    }

    private static async Task InsertPromptAsync(DbConnection connection, DbTransaction transaction, Prompt prompt, StoreErrors errors,
        CancellationToken cancellationToken)
    {
        try
        {
            await connection.ExecuteAsync(Command("""
                INSERT INTO prompts (id, name, description, type, tags, category, created_at, created_by, updated_at, updated_by, require_approval, require_tests)
                VALUES (@Id, @Name, @Description, @Type, @Tags, @Category, @CreatedAt, @CreatedBy, @UpdatedAt, @UpdatedBy, @RequireApproval, @RequireTests)
                """, new
            {
                prompt.Id, prompt.Name, prompt.Description, Type = ToName(prompt.Type), Tags = ToJson(prompt.Tags.ToList()), prompt.Category,
                CreatedAt = ToText(prompt.CreatedAt), prompt.CreatedBy, UpdatedAt = ToText(prompt.UpdatedAt), prompt.UpdatedBy,
                prompt.RequireApproval, prompt.RequireTests,
            }, cancellationToken, transaction));
        }
        catch (DbException e) when (errors.IsUniqueViolation(e))
        {
            throw ConflictException.PromptExists(prompt.Name);
        }
    }

    private static async Task InsertVersionAsync(DbConnection connection, DbTransaction transaction, PromptVersion version, StoreErrors errors,
        CancellationToken cancellationToken)
    {
        try
        {
            await connection.ExecuteAsync(Command("""
                INSERT INTO versions (id, prompt_id, sequence, major, minor, patch, content, variables, metadata, change_description, created_by, created_at, status, messages,
                    approved_by, approved_at, declared_variables)
                VALUES (@Id, @PromptId, @Sequence, @Major, @Minor, @Patch, @Content, @Variables, @Metadata, @ChangeDescription, @CreatedBy, @CreatedAt, @Status, @Messages,
                    @ApprovedBy, @ApprovedAt, @DeclaredVariables)
                """, new
            {
                version.Id, version.PromptId, version.Sequence, version.Version.Major, version.Version.Minor, version.Version.Patch,
                version.Content, Variables = ToJson(version.Variables.ToList()), Metadata = ToJson(version.Metadata),
                version.ChangeDescription, version.CreatedBy, CreatedAt = ToText(version.CreatedAt), Status = ToName(version.Status),
                Messages = version.Messages is null ? null : ToJson(version.Messages.ToList()),
                ApprovedBy = version.Approval?.By, ApprovedAt = ToText(version.Approval?.At),
                DeclaredVariables = version.DeclaredVariables is null ? null : ToJson(version.DeclaredVariables.ToList()),
            }, cancellationToken, transaction));
        }
        catch (DbException e) when (errors.IsUniqueViolation(e))
        {
            throw new ConcurrentWriteException(
                $"version {version.Version} (sequence {version.Sequence}) of prompt {version.PromptId} was written by another writer first.");
        }
    }

    /// <summary>The statuses of experiments that may serve their variants' versions (<see cref="ExperimentLifecycle.HoldsVersions"/>), as an SQL list.</summary>
    private static readonly string HoldingStatuses =
        string.Join(", ", Enum.GetValues<ExperimentStatus>().Where(ExperimentLifecycle.HoldsVersions).Select(s => $"'{ToName(s)}'"));

    /// <summary>Moves the status if it is still <see cref="StatusChange.From"/>; archives only a version nothing may serve: no label
    /// is on it and no unfinished experiment has a variant on it.</summary>
    private static async Task ChangeStatusAsync(DbConnection connection, DbTransaction transaction, StatusChange change, string hasVariantOfVersion,
        CancellationToken cancellationToken)
    {
        var servable = change.To != VersionStatus.Archived ? "" : $"""
             AND NOT EXISTS (SELECT 1 FROM labels l WHERE l.prompt_id = versions.prompt_id AND l.version_id = versions.id)
             AND NOT EXISTS (SELECT 1 FROM experiments e WHERE e.prompt_id = versions.prompt_id AND e.status IN ({HoldingStatuses}) AND {hasVariantOfVersion})
            """;
        var changed = await connection.ExecuteAsync(Command($"""
            UPDATE versions SET status = @To, approved_by = @ApprovedBy, approved_at = @ApprovedAt WHERE id = @VersionId AND status = @From{servable}
            """, new { change.VersionId, From = ToName(change.From), To = ToName(change.To), ApprovedBy = change.Approval?.By, ApprovedAt = ToText(change.Approval?.At) },
            cancellationToken, transaction));
        if (changed == 0)
            throw new ConcurrentWriteException($"version {change.VersionId} is no longer {ToName(change.From)}, or is to be archived while a label or an experiment may serve it.");
    }

    /// <summary>The condition that the version a label moves to, <c>@To</c>, may serve: it is not archived.</summary>
    private static readonly string TargetServable = $"EXISTS (SELECT 1 FROM versions v WHERE v.id = @To AND v.status <> '{ToName(VersionStatus.Archived)}')";

    /// <summary>Moves the label if it still points at <see cref="LabelChange.FromVersionId"/>, and only to a version that is not archived.</summary>
    private static async Task MoveLabelAsync(DbConnection connection, DbTransaction transaction, LabelChange change, CancellationToken cancellationToken)
    {
        var parameters = new
        {
            change.PromptId, Name = change.Label, From = change.FromVersionId, To = change.ToVersionId, At = ToText(change.At), change.By,
        };
        int changed;
        if (change.FromVersionId is null)
        {
            // Expects no label and leaves none: only check the expectation. Otherwise insert unless a label is there
            // (ON CONFLICT rather than a caught error, which would abort a PostgreSQL transaction).
            changed = change.ToVersionId is null
                ? await connection.ExecuteScalarAsync<bool>(Command("SELECT EXISTS (SELECT 1 FROM labels WHERE prompt_id = @PromptId AND name = @Name)",
                    parameters, cancellationToken, transaction)) ? 0 : 1
                : await connection.ExecuteAsync(Command($"""
                    INSERT INTO labels (prompt_id, name, version_id, updated_at, updated_by) SELECT @PromptId, @Name, @To, @At, @By WHERE {TargetServable}
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
            changed = await connection.ExecuteAsync(Command($"""
                UPDATE labels SET version_id = @To, updated_at = @At, updated_by = @By
                WHERE prompt_id = @PromptId AND name = @Name AND version_id = @From AND {TargetServable}
                """, parameters, cancellationToken, transaction));
        }
        if (changed == 0)
            throw new ConcurrentWriteException(
                $"label '{change.Label}' of prompt {change.PromptId} no longer points at {change.FromVersionId ?? "nothing"}, or version {change.ToVersionId} is archived.");
    }

    private static string? State(IReadOnlyDictionary<string, string?>? state) =>
        state is null ? null : ToJson(new Dictionary<string, string?>(state));
}
