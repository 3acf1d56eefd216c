using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using PromptVault.Core.Registry;
using PromptVault.Storage;

namespace PromptVault.Storage.Postgres;

/// <summary>
/// Carries registry changes between the servers that share one PostgreSQL database, and numbers them. Every registry write
/// moves the counter in <c>registry_changes</c> and sends its number on the channel <c>promptvault_registry</c> (the triggers
/// of migration 002). This service LISTENs on a connection of its own and publishes each change on this server's
/// <see cref="RegistryChangeFeed"/>, so the caches drop what it made stale; as the <see cref="IRegistryClock"/> it reads the
/// counter and answers once every change up to it has been applied here, so SDK snapshots of every server compare.
/// </summary>
/// <remarks>
/// Notifications arrive in commit order, which is the counter's order. One can only be missed while the connection is down:
/// then, and again on reconnecting, everything cached is dropped, and until it listens again a clock reading that finds the
/// counter moved drops it too.
/// </remarks>
public sealed partial class PostgresRegistryChanges(NpgsqlDataSource dataSource, RegistryChangeFeed feed, ILogger<PostgresRegistryChanges> logger)
    : BackgroundService, IRegistryClock
{
    public const string Channel = "promptvault_registry";

    /// <summary>The listening connection's application_name, so it can be told apart in pg_stat_activity.</summary>
    public const string ApplicationName = "promptvault registry listener";

    internal static readonly TimeSpan ReconnectDelay = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Seconds of quiet after which Npgsql pings the listening connection (its <c>Keepalive</c> setting), and waits as long for the
    /// answer before it breaks the connection: one cut off without being closed (a dropped route, a failed-over host) is noticed
    /// and replaced within twice this, instead of at TCP's pace, so the changes missed meanwhile are not served stale for long.
    /// </summary>
    public const int KeepAliveSeconds = 5;

    /// <summary>
    /// Seconds the listening connection waits to connect, and for its LISTEN and its read of the counter (Npgsql's <c>Timeout</c>
    /// and <c>CommandTimeout</c>, 15 s and 30 s by default): while it waits it is not listening, so every clock reading drops the
    /// caches; a database that does not answer is given up on this soon and tried again after <see cref="ReconnectDelay"/>.
    /// </summary>
    public const int TimeoutSeconds = 5;

    /// <summary>How long a clock reading waits for the notification of a change already committed before dropping the caches instead.</summary>
    private static readonly TimeSpan ApplyTimeout = TimeSpan.FromSeconds(2);

    /// <summary>The counter up to which this server's caches are clean; -1 while not listening.</summary>
    private long _applied = -1;
    private TaskCompletionSource _advanced = NewSignal();

    /// <summary>The counter value at which a clock reading last dropped the caches for want of its notification; -1 for none.</summary>
    private long _droppedAt = -1;

    /// <summary>The highest change heard before <see cref="Applied"/> was set from the counter (only the listener touches it); -1 for none.</summary>
    private long _heardBeforeApplied = -1;

    /// <summary>The counter of the last change this server applied; -1 while it is not listening.</summary>
    public long Applied => Volatile.Read(ref _applied);

    /// <inheritdoc />
    public async ValueTask<long> ReadAsync(CancellationToken cancellationToken = default)
    {
        long committed;
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            committed = await ReadCounterAsync(connection, cancellationToken);
        }
        catch (NpgsqlException e) when (PostgresPromptStore.ConnectionTrouble(e) is { } trouble)
        {
            throw trouble;
        }
        // Not listening, or its notification is late: the caches may hold what a change up to there made stale. Dropped once
        // per counter value, so a snapshot stream woken by the drop does not rebuild in a loop until the listener is back.
        if (!await WaitForAppliedAsync(committed, cancellationToken) && Interlocked.Exchange(ref _droppedAt, committed) != committed)
            InvalidateAll();
        return committed;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var outage = new StoreOutage(logger, "Registry change listener (caches are dropped until it listens again)", ReconnectDelay,
            maxBackoff: ReconnectDelay);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ListenAsync(outage, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                // Stopping, or the host disposed without being stopped: a wait cut short, not a failure for the host to log.
                break;
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                Stopped();
                // Tried again every ReconnectDelay however long the database is away, not backed off: until it listens, every
                // clock reading drops the caches, so it listens again as soon as the database is back.
                outage.Failed(e is NpgsqlException npgsql && PostgresPromptStore.ConnectionTrouble(npgsql) is { } trouble ? trouble : e);
            }
            await Task.Delay(ReconnectDelay, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        Stopped();
    }

    private async Task ListenAsync(StoreOutage outage, CancellationToken stoppingToken)
    {
        await using var connection = await OpenListeningConnectionAsync(stoppingToken);
        connection.Notification += OnNotification;
        await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
            await listen.ExecuteNonQueryAsync(stoppingToken);
        // Listening from here on; what changed before was not heard, so drop everything, then count from the committed counter.
        // (Notifications are raised only while this connection reads, so none runs between these lines.)
        InvalidateAll();
        // A change committed after the read's snapshot may be heard during the read: the counter is then behind it, and
        // applying only the counter left every clock reading waiting ApplyTimeout for a change already applied here.
        var counter = await ReadCounterAsync(connection, stoppingToken);
        Advance(Math.Max(counter, _heardBeforeApplied));
        Log.Listening(logger, Applied);
        outage.Succeeded();
        while (true)
            await connection.WaitAsync(stoppingToken);
    }

    /// <summary>A connection of its own, outside the pool (it is held for good), with <see cref="KeepAliveSeconds"/> and <see cref="TimeoutSeconds"/>.</summary>
    private async Task<NpgsqlConnection> OpenListeningConnectionAsync(CancellationToken cancellationToken)
    {
        var settings = new NpgsqlConnectionStringBuilder(dataSource.ConnectionString)
        {
            ApplicationName = ApplicationName, KeepAlive = KeepAliveSeconds, Pooling = false,
            Timeout = TimeoutSeconds, CommandTimeout = TimeoutSeconds,
        };
        await using var template = dataSource.CreateConnection();
        // The clone takes the data source's password, which its connection string leaves out.
        var connection = await template.CloneWithAsync(settings.ConnectionString, cancellationToken);
        try
        {
            await connection.OpenAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>"sequence kind [prompt id]", as migration 002's trigger sends it.</summary>
    private void OnNotification(object sender, NpgsqlNotificationEventArgs e)
    {
        var parts = e.Payload.Split(' ');
        if (parts.Length is < 2 or > 3 || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var sequence)
            || !Enum.TryParse<RegistryChangeKind>(parts[1], out var kind))
        {
            Log.UnknownNotification(logger, e.Payload);
            InvalidateAll();
            return;
        }
        feed.Publish(kind, parts.Length == 3 ? parts[2] : null);
        if (Applied >= 0)
            Advance(sequence);
        else
            _heardBeforeApplied = Math.Max(_heardBeforeApplied, sequence);
    }

    private async Task<bool> WaitForAppliedAsync(long committed, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ApplyTimeout);
        while (true)
        {
            // Take the signal before checking, so an advance in between completes the one awaited.
            var advanced = Volatile.Read(ref _advanced).Task;
            var applied = Applied;
            if (applied >= committed) return true;
            if (applied < 0) return false;
            await advanced.WaitAsync(timeout.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            cancellationToken.ThrowIfCancellationRequested();
            if (timeout.IsCancellationRequested) return Applied >= committed;
        }
    }

    private void Advance(long sequence)
    {
        long seen;
        do seen = Volatile.Read(ref _applied);
        while (seen < sequence && Interlocked.CompareExchange(ref _applied, sequence, seen) != seen);
        Interlocked.Exchange(ref _advanced, NewSignal()).TrySetResult();
    }

    private void Stopped()
    {
        Volatile.Write(ref _applied, -1);
        Volatile.Write(ref _droppedAt, -1);
        _heardBeforeApplied = -1;
        Interlocked.Exchange(ref _advanced, NewSignal()).TrySetResult();
        InvalidateAll();
    }

    /// <summary>Drops every cached prompt, version, label, experiment and key ("any prompt" is a null id).</summary>
    private void InvalidateAll()
    {
        feed.Publish(RegistryChangeKind.Prompt);
        feed.Publish(RegistryChangeKind.ApiKeys);
    }

    private static async Task<long> ReadCounterAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT sequence FROM registry_changes WHERE id = 1", connection);
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static partial class Log
    {
        [LoggerMessage(EventId = 3101, Level = LogLevel.Information, Message = "Listening for registry changes on PostgreSQL (counter at {Sequence})")]
        public static partial void Listening(ILogger logger, long sequence);

        [LoggerMessage(EventId = 3103, Level = LogLevel.Warning, Message = "Unknown registry change notification '{Payload}'; caches dropped")]
        public static partial void UnknownNotification(ILogger logger, string payload);
    }
}
