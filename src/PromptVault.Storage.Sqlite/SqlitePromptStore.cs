using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using PromptVault.Core.Storage;

namespace PromptVault.Storage.Sqlite;

/// <summary>
/// Prompts, versions, labels, the audit log, API keys, experiments and metrics in one SQLite file. Every write is one
/// <c>BEGIN IMMEDIATE</c> transaction, so concurrent writers queue behind the busy timeout instead of failing. Exposures and
/// metric batches go through a <see cref="SqliteWriteQueue"/>: one writer commits many of them per transaction (group commit).
/// </summary>
/// <remarks>
/// Thread-safe; register it as a singleton. Run <see cref="SqliteDatabase.MigrateAsync"/> before first use.
/// A database still locked after the busy timeout surfaces as a <see cref="TimeoutException"/> that says it is transient,
/// a full disk as a <see cref="Core.StoreFullException"/>.
/// </remarks>
public sealed partial class SqlitePromptStore : RelationalPromptStore<SqliteConnection, SqliteTransaction>, IAsyncDisposable
{
    private const int WriteQueueCapacity = 1024;
    private const int ExposureQueueCapacity = 65_536;
    private const int MaxEventsPerTransaction = 4_096;

    private readonly SqliteConnectionFactory connections;
    private readonly SqliteWriteQueue writes;

    /// <param name="logger">Where the writer says what it gave up on: render exposures not recorded, failed checkpoints.</param>
    public SqlitePromptStore(SqliteConnectionFactory connections, ILogger<SqlitePromptStore>? logger = null)
        : this(connections, WriteQueueCapacity, MaxEventsPerTransaction, logger: logger)
    {
    }

    internal SqlitePromptStore(SqliteConnectionFactory connections, int writeQueueCapacity, int maxEventsPerTransaction,
        int exposureQueueCapacity = ExposureQueueCapacity, TimeProvider? time = null, ILogger? logger = null,
        long exposedUnitBudget = ExposedUnits.DefaultUnitBudget)
        : base(EngineErrors, logger)
    {
        this.connections = connections ?? throw new ArgumentNullException(nameof(connections));
        writes = new SqliteWriteQueue(connections, writeQueueCapacity, exposureQueueCapacity, maxEventsPerTransaction,
            (context, exposures) => Task.FromResult(WriteExposures(context, exposures)), ExposuresLost, time, Logger, exposedUnitBudget,
            ExposuresRecorded);
    }

    /// <summary>How many acknowledged writes (metric batches, awaited exposures) wait for the writer.</summary>
    internal int QueuedWrites => writes.Count;

    /// <summary>How many render exposures wait for the writer.</summary>
    internal int QueuedExposures => writes.ExposureCount;

    internal long CommittedWriteGroups => writes.CommittedGroups;

    /// <summary>How many groups the writer has taken from its queues (<see cref="SqliteWriteQueue.TakenGroups"/>).</summary>
    internal long TakenWriteGroups => writes.TakenGroups;

    /// <summary>The experiments and units the writer's index of exposed units holds; read it only while the writer is idle.</summary>
    internal (int Experiments, long Units) HeldExposedUnits => writes.HeldExposedUnits;

    /// <summary>Commits the queued writes and render exposures, then stops taking new ones.</summary>
    public ValueTask DisposeAsync() => writes.DisposeAsync();

    private static readonly StoreErrors EngineErrors = new(
        e => e is SqliteException s && (SqliteErrors.IsUniqueViolation(s) || SqliteErrors.IsPrimaryKeyViolation(s)),
        e => e is SqliteException s && SqliteErrors.IsForeignKeyViolation(s),
        // A transaction holds the write lock from its start (BEGIN IMMEDIATE): writers wait for it, never cross.
        _ => false);

    internal override string HasTagCondition => "EXISTS (SELECT 1 FROM json_each(p.tags) t WHERE t.value = @Tag)";

    internal override string HasVariantOfVersionCondition =>
        "EXISTS (SELECT 1 FROM json_each(e.variants) x WHERE json_extract(x.value, '$.versionId') = @VersionId)";

    // Dapper expands the array into one parameter per value.
    internal override string IsAnyOf(string column, string parameter) => $"{column} IN @{parameter}";

    internal override string InsertionOrderColumn => "rowid";

    // SQLite runs a correlated IN subquery once per outer row, and looks the ids it returns up by rowid.
    internal override string EachWebhookWith(string firstIds) => $"webhooks w JOIN webhook_deliveries due ON due.id IN ({firstIds})";

    // CreateFirstAdminKeyAsync, AddFirstKeyRingElementAsync and RevokeKeyAsync lock nothing more: the write transaction holds
    // SQLite's write lock from its start, so a second server's check waits for this one's key (or first key ring element), and
    // two admins revoking each other take turns.

    internal override bool TryQueueExposure(Exposure exposure) => writes.TryQueue(exposure);

    internal override Task SettleExposuresAsync(CancellationToken cancellationToken) => writes.SettleExposuresAsync(cancellationToken);

    /// <summary>Runs the reads of <paramref name="read"/> in one deferred transaction: they all see the snapshot its first read takes (WAL).</summary>
    internal override Task<T> ReadSnapshotAsync<T>(Func<SqliteConnection, SqliteTransaction, Task<T>> read, CancellationToken cancellationToken) =>
        WithConnectionAsync(async connection =>
        {
            using var transaction = connection.BeginTransaction(deferred: true);
            return await read(connection, transaction);
        }, cancellationToken);

    /// <summary>Runs <paramref name="work"/> on a new connection, translating a lock that outlasted the busy timeout, a full disk and a read-only file.</summary>
    internal override async Task<T> WithConnectionAsync<T>(Func<SqliteConnection, Task<T>> work, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await connections.OpenAsync(cancellationToken);
            return await work(connection);
        }
        catch (SqliteException e) when (SqliteErrors.Transient(e, connections) is { } transient)
        {
            throw transient;
        }
    }

    /// <summary>Runs <paramref name="write"/> in one transaction, committed when it returns and rolled back when it throws.</summary>
    internal override Task<T> WriteAsync<T>(Func<SqliteConnection, SqliteTransaction, Task<T>> write, CancellationToken cancellationToken) =>
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
