using System.Data.Common;
using Dapper;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using PromptVault.Core;
using PromptVault.Core.Analysis;
using PromptVault.Core.Audit;
using PromptVault.Core.Auth;
using PromptVault.Core.Evaluations;
using PromptVault.Core.Experiments;
using PromptVault.Core.Metrics;
using PromptVault.Core.Prompts;
using PromptVault.Core.Storage;
using PromptVault.Core.Versioning;
using PromptVault.Core.Webhooks;
using static PromptVault.Storage.StoredValues;

namespace PromptVault.Storage;

/// <summary>
/// The store contracts implemented once for the SQLite and the PostgreSQL store, in the SQL both run
/// (<see cref="RegistryStatements"/>, <see cref="ExperimentStatements"/>, <see cref="ArchiveStatements"/>). A store supplies how
/// it opens connections and transactions, and the few places its engine differs; the batched writes of events and exposures
/// are its own.
/// </summary>
/// <remarks>Thread-safe; register the store as a singleton.</remarks>
public abstract class RelationalPromptStore<TConnection, TTransaction>
    : IPromptStore, IApiKeyStore, IExperimentStore, IIdempotencyStore, IMetricStore, IRegistryArchiveStore, IWebhookStore, IEvaluationStore, IKeyRingStore
    where TConnection : DbConnection
    where TTransaction : DbTransaction
{
    internal RelationalPromptStore(StoreErrors errors, ILogger? logger)
    {
        Errors = errors;
        Logger = logger ?? NullLogger.Instance;
        droppedExposures = new DroppedExposuresLog(Logger, TimeProvider.System);
        lostExposures = new LostExposuresLog(Logger);
    }

    private readonly DroppedExposuresLog droppedExposures;
    private readonly LostExposuresLog lostExposures;

    /// <summary>Where the store's writers say what they gave up on (<see cref="StoreLog"/>).</summary>
    internal ILogger Logger { get; }

    /// <summary>How the engine reports the violations the store translates.</summary>
    internal StoreErrors Errors { get; }

    /// <summary>The units recently queued for a first exposure, so repeats are not queued again.</summary>
    internal RecentExposures RecentExposures { get; } = new(RecentExposures.DefaultSlots);

    // The hooks: how the engine runs work, and where its dialect differs.

    /// <summary>Runs <paramref name="work"/> on an open connection, translating the engine's transient failures.</summary>
    internal abstract Task<T> WithConnectionAsync<T>(Func<TConnection, Task<T>> work, CancellationToken cancellationToken);

    /// <summary>Runs the reads of <paramref name="read"/> in one transaction: they all see one snapshot, while writes go on.</summary>
    internal abstract Task<T> ReadSnapshotAsync<T>(Func<TConnection, TTransaction, Task<T>> read, CancellationToken cancellationToken);

    /// <summary>Runs <paramref name="write"/> in one transaction, committed when it returns and rolled back when it throws.</summary>
    internal abstract Task<T> WriteAsync<T>(Func<TConnection, TTransaction, Task<T>> write, CancellationToken cancellationToken);

    /// <summary>The condition that prompt <c>p</c>'s JSON array <c>tags</c> holds <c>@Tag</c>.</summary>
    internal abstract string HasTagCondition { get; }

    /// <summary>The condition that experiment <c>e</c>'s JSON array <c>variants</c> holds a variant of version <c>@VersionId</c>.</summary>
    internal abstract string HasVariantOfVersionCondition { get; }

    /// <summary>The condition that <paramref name="column"/> is one of the array parameter <paramref name="parameter"/>.</summary>
    internal abstract string IsAnyOf(string column, string parameter);

    /// <summary>The column that orders a table's rows as they were inserted (archives keep that order).</summary>
    internal abstract string InsertionOrderColumn { get; }

    /// <summary>
    /// The FROM clause pairing each webhook <c>w</c> with the deliveries <c>due</c> whose ids <paramref name="firstIds"/> selects (a
    /// subquery on <c>w.id</c> ending in a LIMIT), run once per webhook so that it reads only those rows: a LATERAL join on
    /// PostgreSQL, a correlated IN on SQLite (which has no LATERAL).
    /// </summary>
    internal abstract string EachWebhookWith(string firstIds);

    /// <summary>The statement that leases due deliveries (<see cref="WebhookStatements.ClaimSql"/>) in this engine's SQL, built once.</summary>
    internal string ClaimDeliveriesSql => _claimDeliveriesSql ??= WebhookStatements.ClaimSql(EachWebhookWith);

    private string? _claimDeliveriesSql;

    /// <summary>
    /// Called in the transaction of <see cref="CreateFirstAdminKeyAsync"/> before the check, so that servers starting at once
    /// on a new database take turns. Nothing by default: the write transaction already keeps other writers out.
    /// </summary>
    /// <summary>Readies a snapshot that is held at its reader's pace (an export streaming to its client); nothing by default.</summary>
    internal virtual Task HoldSnapshotAsync(TConnection connection, TTransaction transaction, CancellationToken cancellationToken) => Task.CompletedTask;

    internal virtual Task LockBeforeFirstAdminKeyAsync(TConnection connection, TTransaction transaction, CancellationToken cancellationToken) =>
        Task.CompletedTask;

    /// <summary>
    /// Called in the transaction of <see cref="AddFirstKeyRingElementAsync"/> before the check, so that servers starting at once
    /// on a new database take turns. Nothing by default: the write transaction already keeps other writers out.
    /// </summary>
    internal virtual Task LockKeyRingAsync(TConnection connection, TTransaction transaction, CancellationToken cancellationToken) =>
        Task.CompletedTask;

    /// <summary>
    /// Called in the transaction of <see cref="RevokeKeyAsync"/> before the revocation, so that two admins revoking each other
    /// at once take turns. Nothing by default: the write transaction already keeps other writers out.
    /// </summary>
    internal virtual Task LockActiveAdminsAsync(TConnection connection, TTransaction transaction, CancellationToken cancellationToken) =>
        Task.CompletedTask;

    /// <summary>Which of an experiment's unique constraints <paramref name="error"/> reports: true for the experiment's name,
    /// false for one running per prompt.</summary>
    internal abstract Task<bool> ExperimentNameTakenAsync(TConnection connection, TTransaction transaction, Experiment experiment,
        DbException error, CancellationToken cancellationToken);

    /// <summary>Offers a render exposure to the engine's exposure writer without waiting; false when its queue is full.</summary>
    internal abstract bool TryQueueExposure(Exposure exposure);

    /// <summary>Waits until the render exposures queued so far are stored, so a read that follows counts them.</summary>
    internal abstract Task SettleExposuresAsync(CancellationToken cancellationToken);

    // The engines' own writes: batched events and exposures, sequential history, imports.

    public abstract Task<MetricRecordResult> RecordEventsAsync(IReadOnlyList<MetricEvent> events, Func<MetricRecordResult, IdempotencyRecord>? idempotency,
        CancellationToken cancellationToken = default);

    public abstract Task<IReadOnlyList<bool>> RecordExposuresAsync(IReadOnlyList<Exposure> exposures, CancellationToken cancellationToken = default);

    public abstract Task SaveSequentialStateAsync(string experimentId, SequentialState state, IReadOnlyList<SequentialHistoryPoint> history,
        CancellationToken cancellationToken = default);

    public abstract Task<RegistryImportReport> ImportAsync(RegistryArchive archive, bool merge, ImportChecks? checks, AuditEntry audit, CancellationToken cancellationToken = default);

    // Prompts, versions, labels, audit.

    public Task<Prompt?> FindPromptAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        return WithConnectionAsync(connection => RegistryStatements.FindPromptAsync(connection, name, cancellationToken), cancellationToken);
    }

    public Task<IReadOnlySet<string>> FindPromptNamesAsync(IReadOnlyCollection<string> names, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(names);
        return WithConnectionAsync(connection => RegistryStatements.FindPromptNamesAsync(connection, null, names, IsAnyOf, cancellationToken), cancellationToken);
    }

    public Task<IReadOnlyList<Prompt>> FindPromptsAsync(IReadOnlyCollection<string> names, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(names);
        return WithConnectionAsync(connection => RegistryStatements.FindPromptsAsync(connection, names, IsAnyOf, cancellationToken), cancellationToken);
    }

    public Task<Page<PromptListing>> ListPromptsAsync(PromptFilter filter, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        return ReadSnapshotAsync((connection, transaction) => RegistryStatements.ListPromptsAsync(connection, transaction, filter,
            HasTagCondition, cancellationToken), cancellationToken);
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

    public Task<IReadOnlyList<PromptVersion>> FindVersionsAsync(IReadOnlyCollection<(string PromptId, SemanticVersion Version)> pins,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pins);
        return pins.Count == 0
            ? Task.FromResult<IReadOnlyList<PromptVersion>>([])
            : WithConnectionAsync(connection => RegistryStatements.FindVersionsAsync(connection, pins, cancellationToken), cancellationToken);
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

    public Task<IReadOnlyList<ArchivedVersion>> ListArchivedVersionsAsync(CancellationToken cancellationToken = default) =>
        WithConnectionAsync<IReadOnlyList<ArchivedVersion>>(async connection =>
        {
            var rows = await connection.QueryAsync<(string PromptId, string Id, int Major, int Minor, int Patch)>(Command(
                $"SELECT prompt_id, id, major, minor, patch FROM versions WHERE status = '{ToName(VersionStatus.Archived)}' ORDER BY prompt_id, major, minor, patch",
                null, cancellationToken));
            return rows.Select(r => new ArchivedVersion(r.PromptId, r.Id, new SemanticVersion(r.Major, r.Minor, r.Patch))).ToList();
        }, cancellationToken);

    public Task<IReadOnlyDictionary<string, SemanticVersion>> FindVersionNumbersAsync(IReadOnlyCollection<string> versionIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(versionIds);
        return WithConnectionAsync<IReadOnlyDictionary<string, SemanticVersion>>(async connection =>
        {
            var rows = await connection.QueryAsync<(string Id, int Major, int Minor, int Patch)>(Command(
                $"SELECT id, major, minor, patch FROM versions WHERE {IsAnyOf("id", "Ids")}", new { Ids = versionIds.ToArray() }, cancellationToken));
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

    public Task<long> ReadIncludeGenerationAsync(CancellationToken cancellationToken = default) =>
        WithConnectionAsync(connection => connection.ExecuteScalarAsync<long>(Command(RegistryStatements.ReadIncludeGenerationSql, null, cancellationToken)),
            cancellationToken);

    public Task<IReadOnlyList<Label>> ListLabelsAsync(string promptId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(promptId);
        return WithConnectionAsync(connection => RegistryStatements.ListLabelsAsync(connection, promptId, cancellationToken), cancellationToken);
    }

    public Task<IReadOnlyList<LabelledPrompt>> ListLabelledPromptsAsync(string label, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(label);
        return WithConnectionAsync(connection => RegistryStatements.ListLabelledPromptsAsync(connection, label, cancellationToken), cancellationToken);
    }

    public async Task SaveAsync(PromptChanges changes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(changes);
        try
        {
            await WriteAsync(async (connection, transaction) =>
            {
                await RegistryStatements.SaveAsync(connection, transaction, changes, Errors, HasVariantOfVersionCondition, cancellationToken);
                return true;
            }, cancellationToken);
        }
        catch (DbException e) when (Errors.IsLostRace(e))
        {
            // Two changes locking the same versions or labels in opposite orders: one is rolled back whole, and is retried like any lost race.
            throw new ConcurrentWriteException($"another writer crossed this change ({e.Message}).");
        }
    }

    public Task<Page<AuditEntry>> ListAuditAsync(AuditQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var (from, parameters) = RegistryStatements.AuditSelection(query);
        return PageAsync<AuditRow, AuditEntry>(AuditRow.Columns, from, "id DESC", parameters, query.Page ?? PageRequest.All, r => r.ToEntry(), cancellationToken);
    }

    // API keys.

    public Task<ApiKey?> FindActiveByHashAsync(string keyHash, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keyHash);
        return WithConnectionAsync(connection => RegistryStatements.FindActiveKeyAsync(connection, keyHash, cancellationToken), cancellationToken);
    }

    public Task<ApiKey?> FindActiveByIdAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        return WithConnectionAsync(connection => RegistryStatements.FindActiveKeyByIdAsync(connection, id, cancellationToken), cancellationToken);
    }

    public Task<Page<ApiKey>> ListKeysAsync(PageRequest page, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(page);
        return PageAsync<ApiKeyRow, ApiKey>(ApiKeyRow.Columns, "api_keys", "created_at, id", new { }, page, r => r.ToKey(), cancellationToken);
    }

    public Task<bool> AnyActiveAdminKeyAsync(CancellationToken cancellationToken = default) =>
        WithConnectionAsync(connection => RegistryStatements.AnyActiveAdminKeyAsync(connection, null, cancellationToken), cancellationToken);

    public Task CreateKeyAsync(ApiKey key, string keyHash, AuditEntry audit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentException.ThrowIfNullOrEmpty(keyHash);
        ArgumentNullException.ThrowIfNull(audit);
        return WriteAsync(async (connection, transaction) =>
        {
            await RegistryStatements.CreateKeyAsync(connection, transaction, key, keyHash, audit, cancellationToken);
            return true;
        }, cancellationToken);
    }

    public Task<bool> CreateFirstAdminKeyAsync(ApiKey key, string keyHash, AuditEntry audit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentException.ThrowIfNullOrEmpty(keyHash);
        ArgumentNullException.ThrowIfNull(audit);
        return WriteAsync(async (connection, transaction) =>
        {
            await LockBeforeFirstAdminKeyAsync(connection, transaction, cancellationToken);
            return await RegistryStatements.CreateFirstAdminKeyAsync(connection, transaction, key, keyHash, audit, cancellationToken);
        }, cancellationToken);
    }

    public Task<bool> RevokeKeyAsync(string id, DateTimeOffset at, AuditEntry audit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(audit);
        return WriteAsync(async (connection, transaction) =>
        {
            await LockActiveAdminsAsync(connection, transaction, cancellationToken);
            return await RegistryStatements.RevokeKeyAsync(connection, transaction, id, at, audit, cancellationToken);
        }, cancellationToken);
    }

    // Idempotency records.

    public Task<IdempotencyRecord?> FindIdempotencyRecordAsync(string owner, string key, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(owner);
        ArgumentNullException.ThrowIfNull(key);
        return WithConnectionAsync(connection => RegistryStatements.FindIdempotencyRecordAsync(connection, owner, key, now, cancellationToken), cancellationToken);
    }

    // The Data Protection key ring.

    public Task<IReadOnlyList<string>> GetKeyRingElementsAsync(CancellationToken cancellationToken = default) =>
        WithConnectionAsync<IReadOnlyList<string>>(async connection => (await connection.QueryAsync<string>(
            RegistryStatements.Command("SELECT xml FROM data_protection_keys ORDER BY id", null, cancellationToken))).AsList(), cancellationToken);

    public Task AddKeyRingElementAsync(string name, string xml, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(xml);
        return WriteAsync((connection, transaction) => connection.ExecuteAsync(RegistryStatements.Command(
            "INSERT INTO data_protection_keys (name, xml) VALUES (@name, @xml)", new { name, xml }, cancellationToken, transaction)), cancellationToken);
    }

    public Task<bool> AddFirstKeyRingElementAsync(string name, string xml, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(xml);
        return WriteAsync(async (connection, transaction) =>
        {
            await LockKeyRingAsync(connection, transaction, cancellationToken);
            return await connection.ExecuteAsync(RegistryStatements.Command(
                "INSERT INTO data_protection_keys (name, xml) SELECT @name, @xml WHERE NOT EXISTS (SELECT 1 FROM data_protection_keys)",
                new { name, xml }, cancellationToken, transaction)) == 1;
        }, cancellationToken);
    }

    // Experiments.

    public Task CreateExperimentAsync(Experiment experiment, IReadOnlyList<AuditEntry> audit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(experiment);
        ArgumentNullException.ThrowIfNull(audit);
        return WriteAsync(async (connection, transaction) =>
        {
            await WriteExperimentAsync(connection, transaction, experiment, ExperimentStatements.InsertExperimentSql,
                ExperimentStatements.Parameters(experiment), cancellationToken);
            foreach (var entry in audit)
                await RegistryStatements.InsertAuditAsync(connection, transaction, entry, cancellationToken);
            return true;
        }, cancellationToken);
    }

    public Task<Experiment?> FindExperimentAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        return WithConnectionAsync(connection => ExperimentStatements.FindExperimentAsync(connection, "e.id = @id", new { id }, cancellationToken),
            cancellationToken);
    }

    public Task<Page<Experiment>> ListExperimentsAsync(string? promptName, PageRequest page, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(page);
        var where = promptName is null ? "" : " WHERE p.name = @promptName";
        return PageAsync<ExperimentRow, Experiment>(ExperimentRow.Columns, ExperimentRow.From + where, ExperimentStatements.ExperimentsOrder,
            new { promptName }, page, r => r.ToExperiment(), cancellationToken);
    }

    public Task<IReadOnlyList<Experiment>> ListLiveExperimentsAsync(CancellationToken cancellationToken = default) =>
        WithConnectionAsync<IReadOnlyList<Experiment>>(async connection =>
        {
            var rows = await connection.QueryAsync<ExperimentRow>(Command(
                $"SELECT {ExperimentRow.Columns} FROM {ExperimentRow.From} WHERE e.status IN ({LiveStatuses}) ORDER BY {ExperimentStatements.ExperimentsOrder}",
                null, cancellationToken));
            return rows.Select(r => r.ToExperiment()).ToList();
        }, cancellationToken);

    private static readonly string LiveStatuses = string.Join(", ", Enum.GetValues<ExperimentStatus>().Where(ExperimentLifecycle.IsLive).Select(s => $"'{ToName(s)}'"));

    public Task<Experiment?> FindRunningExperimentAsync(string promptId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(promptId);
        return WithConnectionAsync(connection => ExperimentStatements.FindExperimentAsync(connection, ExperimentStatements.RunningCondition,
            new { promptId }, cancellationToken), cancellationToken);
    }

    public async Task UpdateExperimentAsync(Experiment experiment, ExperimentStatus expectedStatus, IReadOnlyList<AuditEntry> audit, long? includeGeneration,
        PromptChanges? promotion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(experiment);
        ArgumentNullException.ThrowIfNull(audit);
        try
        {
            await WriteAsync(async (connection, transaction) =>
            {
                var changed = await WriteExperimentAsync(connection, transaction, experiment, ExperimentStatements.UpdateExperimentSql,
                    ExperimentStatements.Parameters(experiment, expectedStatus), cancellationToken);
                if (changed == 0)
                    throw new ConcurrentWriteException($"experiment {experiment.Id} is no longer {ToName(expectedStatus)}.");
                if (includeGeneration is { } generation)
                    await RegistryStatements.AdvanceIncludeGenerationAsync(connection, transaction, generation, cancellationToken);
                foreach (var entry in audit)
                    await RegistryStatements.InsertAuditAsync(connection, transaction, entry, cancellationToken);
                if (promotion is not null)
                    await RegistryStatements.SaveAsync(connection, transaction, promotion, Errors, HasVariantOfVersionCondition, cancellationToken);
                return true;
            }, cancellationToken);
        }
        catch (DbException e) when (Errors.IsLostRace(e))
        {
            // As in SaveAsync: a change crossing another (a promote locking versions and labels, say) is rolled back whole, and retried.
            throw new ConcurrentWriteException($"another writer crossed this change ({e.Message}).");
        }
    }

    /// <summary>
    /// Render exposures a writer gave up on because their write failed: counted, logged (<see cref="LostExposuresLog"/>), and
    /// forgotten, so their units' next renders queue them again.
    /// </summary>
    internal void ExposuresLost(IReadOnlyList<Exposure> exposures, Exception error)
    {
        Telemetry.ExposuresLost(exposures.Count);
        lostExposures.Lost(exposures.Count, error);
        RecentExposures.Forget(exposures);
    }

    /// <summary>A writer committed render exposures: if earlier ones were lost to the database's trouble, says it is over.</summary>
    internal void ExposuresRecorded() => lostExposures.Recorded();

    public async Task<bool> RecordExposureAsync(Exposure exposure, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(exposure);
        return (await RecordExposuresAsync([exposure], cancellationToken))[0];
    }

    public ExposureQueueOutcome QueueExposure(Exposure exposure)
    {
        ArgumentNullException.ThrowIfNull(exposure);
        var outcome = RecentExposures.Queue(exposure, TryQueueExposure);
        if (outcome == ExposureQueueOutcome.Dropped) droppedExposures.Dropped();
        return outcome;
    }

    public async Task<IReadOnlyDictionary<string, long>> CountExposuresAsync(string experimentId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(experimentId);
        // Render exposures queued before the read count in it.
        await SettleExposuresAsync(cancellationToken);
        return await WithConnectionAsync(connection => ExperimentStatements.CountExposuresAsync(connection, experimentId, cancellationToken), cancellationToken);
    }

    public Task<SequentialState?> ReadSequentialStateAsync(string experimentId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(experimentId);
        return WithConnectionAsync(connection => ExperimentStatements.FindSequentialStateAsync(connection, null, experimentId, cancellationToken), cancellationToken);
    }

    public Task<IReadOnlyList<SequentialHistoryPoint>> ReadSequentialHistoryAsync(string experimentId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(experimentId);
        return WithConnectionAsync(connection => ExperimentStatements.ReadSequentialHistoryAsync(connection, experimentId, cancellationToken), cancellationToken);
    }

    // Metrics.

    public Task<IReadOnlyList<HourlyAggregate>> ReadVersionHoursAsync(string versionId, DateTimeOffset fromHour, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(versionId);
        return WithConnectionAsync(connection => ExperimentStatements.ReadVersionHoursAsync(connection, versionId, fromHour, cancellationToken), cancellationToken);
    }

    public Task<MetricAggregate> ReadVersionTotalAsync(string versionId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(versionId);
        return WithConnectionAsync(connection => ExperimentStatements.ReadVersionTotalAsync(connection, versionId, cancellationToken), cancellationToken);
    }

    public async Task<IReadOnlyDictionary<string, VariantUnitStats>> ReadVariantUnitStatsAsync(string experimentId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(experimentId);
        // Render exposures queued before the read count in it.
        await SettleExposuresAsync(cancellationToken);
        return await WithConnectionAsync(connection => ExperimentStatements.ReadVariantUnitStatsAsync(connection, experimentId, cancellationToken), cancellationToken);
    }

    // Test cases and evaluation runs.

    public Task<IReadOnlyList<TestCase>> FindTestsAsync(string versionId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(versionId);
        return WithConnectionAsync(connection => EvaluationStatements.FindTestsAsync(connection, versionId, cancellationToken), cancellationToken);
    }

    public Task ChangeTestsAsync(string versionId, Func<IReadOnlyList<TestCase>, (IReadOnlyList<TestCase> Tests, AuditEntry? Audit)> change,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(versionId);
        ArgumentNullException.ThrowIfNull(change);
        return WriteAsync(async (connection, transaction) =>
        {
            var stored = await EvaluationStatements.FindStoredTestsAsync(connection, transaction, versionId, cancellationToken);
            var (tests, audit) = change(stored is null ? [] : FromJson<List<TestCase>>(stored));
            if (audit is null) return true;
            if (!await EvaluationStatements.ReplaceTestsAsync(connection, transaction, versionId, stored, tests, cancellationToken))
                throw new ConcurrentWriteException($"the test cases of version {versionId} changed while this change was made.");
            await RegistryStatements.InsertAuditAsync(connection, transaction, audit, cancellationToken);
            return true;
        }, cancellationToken);
    }


    public Task SaveRunAsync(EvaluationRun run, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(run);
        return WriteAsync(async (connection, transaction) =>
        {
            await EvaluationStatements.InsertRunAsync(connection, transaction, run, cancellationToken);
            return true;
        }, cancellationToken);
    }

    public Task<EvaluationRun?> FindRunAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        return WithConnectionAsync(connection => EvaluationStatements.FindRunAsync(connection, id, cancellationToken), cancellationToken);
    }

    public Task<Page<EvaluationRun>> ListRunsAsync(string versionId, PageRequest page, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(versionId);
        ArgumentNullException.ThrowIfNull(page);
        return ReadSnapshotAsync((connection, transaction) => EvaluationStatements.ListRunsAsync(connection, transaction, versionId, page, cancellationToken),
            cancellationToken);
    }

    public Task<(Page<EvaluationRun> Runs, IReadOnlyList<TestCase> Tests)> ListRunsWithTestsAsync(string versionId, PageRequest page,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(versionId);
        ArgumentNullException.ThrowIfNull(page);
        return ReadSnapshotAsync<(Page<EvaluationRun>, IReadOnlyList<TestCase>)>(async (connection, transaction) =>
        {
            var runs = await EvaluationStatements.ListRunsAsync(connection, transaction, versionId, page, cancellationToken);
            var tests = await EvaluationStatements.FindStoredTestsAsync(connection, transaction, versionId, cancellationToken);
            return (runs, tests is null ? [] : FromJson<List<TestCase>>(tests));
        }, cancellationToken);
    }

    // Archives.

    public Task ExportAsync(IRegistryArchiveWriter writer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(writer);
        // Every section comes from the same snapshot while writes go on.
        return ReadSnapshotAsync(async (connection, transaction) =>
        {
            await HoldSnapshotAsync(connection, transaction, cancellationToken);
            await ArchiveStatements.ExportAsync(connection, transaction, writer, InsertionOrderColumn, cancellationToken);
            return true;
        }, cancellationToken);
    }

    // Webhooks and their outbox.

    public Task CreateWebhookAsync(Webhook webhook, AuditEntry audit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(webhook);
        ArgumentNullException.ThrowIfNull(audit);
        return WriteAsync(async (connection, transaction) =>
        {
            await WebhookStatements.InsertWebhookAsync(connection, transaction, webhook, cancellationToken);
            await RegistryStatements.InsertAuditAsync(connection, transaction, audit, cancellationToken);
            return true;
        }, cancellationToken);
    }

    public Task<IReadOnlyList<Webhook>> ListWebhooksAsync(CancellationToken cancellationToken = default) =>
        WithConnectionAsync(connection => WebhookStatements.FindWebhooksAsync(connection, null, cancellationToken), cancellationToken);

    public async Task<Webhook?> FindWebhookAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        var found = await WithConnectionAsync(connection => WebhookStatements.FindWebhooksAsync(connection, id, cancellationToken), cancellationToken);
        return found.SingleOrDefault();
    }

    public Task<bool> DeleteWebhookAsync(string id, AuditEntry audit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(audit);
        return WriteAsync(async (connection, transaction) =>
        {
            if (!await WebhookStatements.DeleteWebhookAsync(connection, transaction, id, cancellationToken)) return false;
            await RegistryStatements.InsertAuditAsync(connection, transaction, audit, cancellationToken);
            return true;
        }, cancellationToken);
    }

    public Task<bool> SetWebhookKeyAsync(string id, string keyId, AuditEntry audit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(keyId);
        ArgumentNullException.ThrowIfNull(audit);
        return WriteAsync(async (connection, transaction) =>
        {
            if (!await WebhookStatements.SetWebhookKeyAsync(connection, transaction, id, keyId, cancellationToken)) return false;
            await RegistryStatements.InsertAuditAsync(connection, transaction, audit, cancellationToken);
            return true;
        }, cancellationToken);
    }

    public Task<WebhookDelivery?> RedeliverAsync(string webhookId, long deliveryId, DateTimeOffset now, Func<WebhookDelivery, AuditEntry> audit,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(webhookId);
        ArgumentNullException.ThrowIfNull(audit);
        return WriteAsync(async (connection, transaction) =>
        {
            if (await WebhookStatements.RedeliverAsync(connection, transaction, webhookId, deliveryId, now, cancellationToken) is not { } delivery)
                return null;
            await RegistryStatements.InsertAuditAsync(connection, transaction, audit(delivery), cancellationToken);
            return delivery;
        }, cancellationToken);
    }

    public Task<Page<WebhookDelivery>> ListDeliveriesAsync(string webhookId, PageRequest page, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(webhookId);
        ArgumentNullException.ThrowIfNull(page);
        return ReadSnapshotAsync(async (connection, transaction) =>
        {
            var rows = await RegistryStatements.PageAsync<DeliveryRow, DeliveryRow>(connection, transaction, WebhookStatements.DeliveryColumns,
                "webhook_deliveries WHERE webhook_id = @webhookId", "id DESC", new { webhookId }, page, r => r, cancellationToken);
            var attempts = await WebhookStatements.ReadAttemptsAsync(connection, transaction, rows.Select(r => r.Id).ToList(),
                IsAnyOf("delivery_id", "Ids"), cancellationToken);
            return new Page<WebhookDelivery>(rows.Select(r => r.ToDelivery(attempts[r.Id])).ToList(), rows.Total);
        }, cancellationToken);
    }

    public async Task<IReadOnlyList<ClaimedDelivery>> ClaimDeliveriesAsync(string owner, DateTimeOffset now, DateTimeOffset leaseUntil, int limit, int perWebhook,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(owner);
        try
        {
            return await WriteAsync((connection, transaction) =>
                WebhookStatements.ClaimAsync(connection, transaction, ClaimDeliveriesSql, owner, now, leaseUntil, limit, perWebhook,
                    cancellationToken), cancellationToken);
        }
        catch (DbException e) when (Errors.IsLostRace(e))
        {
            // Two dispatchers locked due rows in opposite orders; the one rolled back claims nothing this time and polls again.
            return [];
        }
    }

    public Task<bool> RecordAttemptAsync(long deliveryId, string owner, AttemptOutcome outcome, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(owner);
        ArgumentNullException.ThrowIfNull(outcome);
        return WriteAsync((connection, transaction) =>
            WebhookStatements.RecordAttemptAsync(connection, transaction, deliveryId, owner, outcome, cancellationToken), cancellationToken);
    }

    public Task ReleaseLeaseAsync(long deliveryId, string owner, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(owner);
        return WriteAsync((connection, transaction) =>
            WebhookStatements.ReleaseLeaseAsync(connection, transaction, deliveryId, owner, cancellationToken), cancellationToken);
    }

    // Helpers for the stores' own writes.

    internal Task InsertIdempotencyRecordAsync(TConnection connection, TTransaction transaction, IdempotencyRecord record, CancellationToken cancellationToken) =>
        RegistryStatements.InsertIdempotencyRecordAsync(connection, transaction, record, cancellationToken);

    internal static CommandDefinition Command(string sql, object? parameters, CancellationToken cancellationToken, DbTransaction? transaction = null) =>
        RegistryStatements.Command(sql, parameters, cancellationToken, transaction);

    /// <summary>Runs the insert or update of <paramref name="experiment"/>, translating its unique constraints.</summary>
    /// <returns>The number of rows written.</returns>
    private async Task<int> WriteExperimentAsync(TConnection connection, TTransaction transaction, Experiment experiment, string sql, object parameters,
        CancellationToken cancellationToken)
    {
        try
        {
            return await connection.ExecuteAsync(Command(sql, parameters, cancellationToken, transaction));
        }
        catch (DbException e) when (Errors.IsUniqueViolation(e))
        {
            if (await ExperimentNameTakenAsync(connection, transaction, experiment, e, cancellationToken))
                throw ConflictException.ExperimentExists(experiment.PromptName, experiment.Name);
            // Which experiment runs, so the error names what to pause: read only on this failure path, and on a connection of
            // its own, as PostgreSQL's transaction is aborted by the error (the running one is committed, or it would not conflict).
            var (runningId, runningName) = await WithConnectionAsync(other => other.QueryFirstOrDefaultAsync<(string?, string?)>(Command(
                $"SELECT e.id, e.name FROM experiments e WHERE {ExperimentStatements.RunningCondition} AND e.id <> @id",
                new { promptId = experiment.PromptId, id = experiment.Id }, cancellationToken)), cancellationToken);
            throw ConflictException.ExperimentRunning(experiment.PromptName, runningName, runningId);
        }
    }

    /// <param name="clause">The statement after <c>WHERE</c>: the condition, and an order when several rows match.</param>
    private Task<PromptVersion?> FindVersionAsync(string clause, object parameters, CancellationToken cancellationToken) =>
        WithConnectionAsync(connection => RegistryStatements.FindVersionAsync(connection, clause, parameters, cancellationToken), cancellationToken);

    /// <summary>A page of <c>SELECT columns FROM from ORDER BY orderBy</c> and the count of all its rows, read from one snapshot.</summary>
    private Task<Page<T>> PageAsync<TRow, T>(string columns, string from, string orderBy, object parameters, PageRequest page, Func<TRow, T> map,
        CancellationToken cancellationToken) =>
        ReadSnapshotAsync((connection, transaction) =>
            RegistryStatements.PageAsync(connection, transaction, columns, from, orderBy, parameters, page, map, cancellationToken), cancellationToken);
}
