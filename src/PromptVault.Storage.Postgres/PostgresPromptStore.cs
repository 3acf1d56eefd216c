using System.Data;
using Dapper;
using Microsoft.Extensions.Logging;
using Npgsql;
using PromptVault.Core;

namespace PromptVault.Storage.Postgres;

/// <summary>
/// Prompts, versions, labels, the audit log, API keys, experiments and metrics in one PostgreSQL database, shared by any
/// number of PromptVault instances. Every write is one transaction (read committed); a write that lost a race to another
/// writer (a taken version number, a label or status no longer as expected) fails with <see cref="ConcurrentWriteException"/>,
/// as on SQLite. Reads of several statements read one snapshot (repeatable read).
/// </summary>
/// <remarks>Thread-safe; register it as a singleton. Run <see cref="PostgresDatabase.MigrateAsync"/> before first use.</remarks>
public sealed partial class PostgresPromptStore : RelationalPromptStore<NpgsqlConnection, NpgsqlTransaction>
{
    private readonly NpgsqlDataSource dataSource;

    /// <param name="dataSource">The database's connections; the store does not dispose it.</param>
    /// <param name="logger">Where the store says what its exposure writer gave up on.</param>
    public PostgresPromptStore(NpgsqlDataSource dataSource, ILogger<PostgresPromptStore>? logger = null)
        : this(dataSource, ExposureQueueCapacity, logger: logger)
    {
    }

    /// <param name="exposureQueueCapacity">Render exposures that may wait for the writer (tests fill a small queue).</param>
    /// <param name="maxEventsPerGroup">Events above which a group commit of metric batches takes no more (tests use a small cap).</param>
    internal PostgresPromptStore(NpgsqlDataSource dataSource, int exposureQueueCapacity, int maxEventsPerGroup = MaxEventsPerGroup,
        ILogger? logger = null)
        : base(EngineErrors, logger)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEventsPerGroup, 1);
        this.dataSource = dataSource ?? throw new ArgumentNullException(nameof(dataSource));
        this.maxEventsPerGroup = maxEventsPerGroup;
        exposureQueue = CreateExposureQueue(exposureQueueCapacity);
        metricWriter = Task.Run(WriteMetricGroupsAsync);
        metricQueueObserver = Telemetry.ObserveQueue("writes", () => QueuedMetricBatches);
    }

    private static readonly StoreErrors EngineErrors = new(
        e => e is PostgresException p && PostgresErrors.IsUniqueViolation(p),
        e => e is PostgresException p && PostgresErrors.IsForeignKeyViolation(p),
        e => e is PostgresException p && PostgresErrors.IsLostRace(p));

    internal override string HasTagCondition => "EXISTS (SELECT 1 FROM json_array_elements_text(p.tags::json) t WHERE t = @Tag)";

    internal override string HasVariantOfVersionCondition =>
        "EXISTS (SELECT 1 FROM json_array_elements(e.variants::json) x WHERE x ->> 'versionId' = @VersionId)";

    internal override string IsAnyOf(string column, string parameter) => $"{column} = ANY(@{parameter})";

    internal override string InsertionOrderColumn => "seq";

    internal override string EachWebhookWith(string firstIds) =>
        $"webhooks w CROSS JOIN LATERAL ({firstIds}) first_due JOIN webhook_deliveries due ON due.id = first_due.id";

    /// <summary>
    /// An export streams its snapshot to an HTTP client at the client's pace, which may stall between statements longer than the
    /// pool's limits for a client gone (<see cref="PostgresDataSource"/>): its transaction lifts them for itself.
    /// </summary>
    internal override Task HoldSnapshotAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition("SET LOCAL idle_in_transaction_session_timeout = 0; SET LOCAL tcp_user_timeout = 0",
            transaction: transaction, cancellationToken: cancellationToken));

    internal override Task LockBeforeFirstAdminKeyAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken) =>
        // With no admin key there is no row to lock: a mode that conflicts with itself makes servers starting at once on a
        // new database take turns, and the second's check (a new snapshot, read committed) sees the first's key.
        connection.ExecuteAsync(Command("LOCK TABLE api_keys IN SHARE ROW EXCLUSIVE MODE", null, cancellationToken, transaction));

    internal override Task LockKeyRingAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken) =>
        // As for the first admin key: an empty ring has no row to lock, so the table is locked in a mode that conflicts with itself.
        connection.ExecuteAsync(Command("LOCK TABLE data_protection_keys IN SHARE ROW EXCLUSIVE MODE", null, cancellationToken, transaction));

    internal override Task LockActiveAdminsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken) =>
        // Locks the active admin keys first, so two admins revoking each other at once (through any instances) take turns,
        // and the second sees the first's revocation when it checks that an admin key remains.
        connection.ExecuteAsync(Command($"SELECT id FROM {RegistryStatements.ActiveAdmins} FOR UPDATE", null, cancellationToken, transaction));

    /// <summary>Runs <paramref name="work"/> on a connection from the pool, translating a full disk, a read-only database, an exhausted pool and an unreachable server.</summary>
    internal override async Task<T> WithConnectionAsync<T>(Func<NpgsqlConnection, Task<T>> work, CancellationToken cancellationToken)
    {
        try
        {
            try
            {
                return await OnPooledConnectionAsync(work, cancellationToken);
            }
            catch (PostgresException e) when (PostgresErrors.IsReadOnly(e))
            {
                // A session keeps the read-only default it started with, so the pool may hold one from while the database
                // was read-only: the pool is cleared and the work, which wrote nothing, runs once more on a new session.
                ClearPool();
                return await OnPooledConnectionAsync(work, cancellationToken);
            }
        }
        catch (PostgresException e) when (PostgresErrors.IsDiskFull(e))
        {
            throw new StoreFullException("The PostgreSQL server's disk is full: nothing was stored. Free space, then retry the request.", e);
        }
        catch (PostgresException e) when (PostgresErrors.IsReadOnly(e))
        {
            throw new StoreReadOnlyException($"The PostgreSQL database '{new NpgsqlConnectionStringBuilder(dataSource.ConnectionString).Database}' cannot be written (a hot standby, or default_transaction_read_only is on): " +
                "nothing was stored, and reads still work. Point the server at a writable primary, or turn read-only off, then retry the request.", e);
        }
        catch (NpgsqlException e) when (ConnectionTrouble(e) is { } trouble)
        {
            throw trouble;
        }
    }

    /// <summary>
    /// Closes every idle session of the pool before it returns (busy ones close when they come back). Npgsql's Clear returns at
    /// once while another Clear is still closing idle sessions, and a session not yet closed could then serve the retry: when
    /// the database turned writable again, several writes at once met old read-only sessions, and some failed on the retry.
    /// </summary>
    private void ClearPool()
    {
        lock (Clearing) dataSource.Clear();
    }

    private static readonly Lock Clearing = new();

    private async Task<T> OnPooledConnectionAsync<T>(Func<NpgsqlConnection, Task<T>> work, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await work(connection);
    }

    /// <summary>
    /// What a failure to reach the database through the pool is to the store's callers: an exhausted pool, or a server at its
    /// connection limit, is a busy store (<see cref="TimeoutException"/>, as a lock held too long on SQLite), an unreachable server <see cref="StoreUnavailableException"/>;
    /// null for anything else. Its message says what the store knows and what to do; the driver's own words are its inner
    /// exception's, which a log line of the store's trouble says after it (StoreOutage.Causes), so they are not quoted here too.
    /// </summary>
    internal static Exception? ConnectionTrouble(NpgsqlException e) =>
        PostgresErrors.IsPoolExhausted(e) ? new TimeoutException("Every pooled PostgreSQL connection stayed in use; retry the request.", e)
        : PostgresErrors.IsConnectionLimitReached(e) ? new TimeoutException($"The PostgreSQL server refused a new connection: {PostgresErrors.ConnectionLimitAdvice}; retry the request.", e)
        : PostgresErrors.IsUnreachable(e) ? new StoreUnavailableException("The PostgreSQL database could not be reached; retry the request.", e)
        : null;

    /// <summary>Runs the statements of <paramref name="read"/> in one read-only snapshot.</summary>
    internal override Task<T> ReadSnapshotAsync<T>(Func<NpgsqlConnection, NpgsqlTransaction, Task<T>> read, CancellationToken cancellationToken) =>
        InTransactionAsync(IsolationLevel.RepeatableRead, read, cancellationToken);

    /// <summary>Runs <paramref name="write"/> in one transaction, committed when it returns and rolled back when it throws.</summary>
    internal override Task<T> WriteAsync<T>(Func<NpgsqlConnection, NpgsqlTransaction, Task<T>> write, CancellationToken cancellationToken) =>
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
