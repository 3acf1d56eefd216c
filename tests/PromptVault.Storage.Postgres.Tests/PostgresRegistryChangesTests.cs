using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using PromptVault.Core.Registry;
using PromptVault.Storage.Testing;

namespace PromptVault.Storage.Postgres.Tests;

/// <summary>
/// Migrations 002 and 009's change counter and notifications, and <see cref="PostgresRegistryChanges"/> hearing them: one number per
/// committed transaction in commit order, none for a rollback, and a clock that answers once the change is applied here.
/// </summary>
public sealed class PostgresRegistryChangesTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AWriteByAnotherConnection_IsPublishedOnTheFeed_AndTheClockAnswersItsNumber()
    {
        await using var database = await PostgresServer.CreateDatabaseAsync(cancellationToken: Cancel);
        var heard = new List<RegistryChange>();
        using var listener = await StartListenerAsync(database, heard);
        await Eventually(() => listener.Applied == 0);
        lock (heard) heard.Clear();

        await ExecuteAsync(database, InsertPrompt("p-1", "first"));
        var clock = await listener.ReadAsync(Cancel);

        Assert.Equal(1, clock);
        Assert.Equal(1, listener.Applied);
        lock (heard) Assert.Contains(heard, c => c.Kind == RegistryChangeKind.Prompt && c.PromptId == "p-1");
        await listener.StopAsync(Cancel);
    }

    [Fact]
    public async Task AChangeHeardWhileTheListenerReadsTheCounter_IsApplied_SoTheClockDoesNotWaitForIt()
    {
        await using var database = await PostgresServer.CreateDatabaseAsync(cancellationToken: Cancel);
        await using var gate = await HoldTheListenersCounterReadAsync(database);
        using var listener = new PostgresRegistryChanges(database.DataSource, new RegistryChangeFeed(), NullLogger<PostgresRegistryChanges>.Instance);
        await listener.StartAsync(Cancel);
        await HeldListenerAsync(gate, TimeSpan.FromSeconds(30));

        // Committed after the read's snapshot, so the read returns 0, and notified before the read's answer.
        await ExecuteAsync(database, InsertPrompt("p-1", "first"));
        await using (var release = new NpgsqlCommand("SELECT pg_advisory_unlock(7)", gate))
            await release.ExecuteNonQueryAsync(Cancel);
        await Eventually(() => listener.Applied >= 0);

        Assert.Equal(1, listener.Applied);
        await listener.StopAsync(Cancel);
    }

    /// <summary>
    /// The listener's read of the counter does not come back (a database that stopped answering): it is given up after the
    /// listener's own <see cref="PostgresRegistryChanges.TimeoutSeconds"/>, not Npgsql's default 30 s command timeout, and the
    /// listener connects again. The bound is generous: 20 s, with the timeout and the reconnect delay taking about 6.
    /// </summary>
    [Fact]
    public async Task ACounterReadThatDoesNotComeBack_IsGivenUpAfterTheListenersTimeout_AndTheListenerConnectsAgain()
    {
        await using var database = await PostgresServer.CreateDatabaseAsync(cancellationToken: Cancel);
        await using var gate = await HoldTheListenersCounterReadAsync(database);
        using var listener = new PostgresRegistryChanges(database.DataSource, new RegistryChangeFeed(), NullLogger<PostgresRegistryChanges>.Instance);
        await listener.StartAsync(Cancel);
        var first = await HeldListenerAsync(gate, TimeSpan.FromSeconds(30));

        var next = await HeldListenerAsync(gate, TimeSpan.FromSeconds(20), notPid: first);

        Assert.NotEqual(first, next);
        Assert.Equal(-1, listener.Applied);
        await listener.StopAsync(Cancel);
    }

    /// <summary>
    /// The database accepts the listener's connection and never answers (a host hanging mid-failover): the connect is given up
    /// after the listener's own <see cref="PostgresRegistryChanges.TimeoutSeconds"/>, not Npgsql's default 15 s, and tried again
    /// after the reconnect delay (1 s). So the second connection comes at least the timeout after the first (it was waited
    /// out, not refused at once) and well before the 16 s the default would take: the bound is 12 s.
    /// </summary>
    [Fact]
    public async Task AConnectThatIsNeverAnswered_IsGivenUpAfterTheListenersTimeout_AndTriedAgain()
    {
        await using var silent = new SilentServer();
        await using var source = NpgsqlDataSource.Create(
            new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = silent.Port, Username = "nobody", Password = "x", Database = "none" }.ConnectionString);
        using var listener = new PostgresRegistryChanges(source, new RegistryChangeFeed(), NullLogger<PostgresRegistryChanges>.Instance);
        await listener.StartAsync(Cancel);

        var first = await silent.Accepted.ReadAsync(Cancel).AsTask().WaitAsync(TimeSpan.FromSeconds(30), Cancel);
        var second = await silent.Accepted.ReadAsync(Cancel).AsTask().WaitAsync(TimeSpan.FromSeconds(30), Cancel);

        var gap = second - first;
        Assert.InRange(gap, TimeSpan.FromSeconds(PostgresRegistryChanges.TimeoutSeconds - 0.5), TimeSpan.FromSeconds(12));
        Assert.Equal(-1, listener.Applied);
        await listener.StopAsync(Cancel);
    }

    /// <summary>
    /// Holds the listener's read of the counter, after it took its snapshot, until the returned connection releases advisory
    /// lock 7: the counter becomes a view whose rows the listener's session reads only past that lock.
    /// </summary>
    private static async Task<NpgsqlConnection> HoldTheListenersCounterReadAsync(PostgresTestDatabase database)
    {
        await ExecuteAsync(database, $"""
            ALTER TABLE registry_changes RENAME TO registry_changes_stored;
            CREATE FUNCTION held_for_listener() RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
            BEGIN
                IF current_setting('application_name') = '{PostgresRegistryChanges.ApplicationName}' THEN
                    PERFORM pg_advisory_xact_lock_shared(7);
                END IF;
                RETURN true;
            END $$;
            CREATE VIEW registry_changes AS SELECT * FROM registry_changes_stored WHERE held_for_listener();
            """);
        var gate = await database.DataSource.OpenConnectionAsync(Cancel);
        await using var hold = new NpgsqlCommand("SELECT pg_advisory_lock(7)", gate);
        await hold.ExecuteNonQueryAsync(Cancel);
        return gate;
    }

    /// <summary>The backend of the listener waiting for the held counter read (other than <paramref name="notPid"/>), once there is one.</summary>
    private static async Task<int> HeldListenerAsync(NpgsqlConnection gate, TimeSpan bound, int notPid = 0)
    {
        await using var waiting = new NpgsqlCommand(
            $"SELECT pid FROM pg_stat_activity WHERE application_name = '{PostgresRegistryChanges.ApplicationName}' AND wait_event_type = 'Lock' AND pid <> {notPid}", gate);
        return (int)(await Eventually(() => waiting.ExecuteScalarAsync(Cancel), pid => pid is int, bound))!;
    }

    /// <summary>
    /// The listening connection is cut off without being closed (a relay between it and PostgreSQL stops forwarding, as a dropped
    /// route or a failed-over host does): Npgsql's keepalive notices within 2 × <see cref="PostgresRegistryChanges.KeepAliveSeconds"/>,
    /// the listener reconnects, drops everything cached and applies the change made meanwhile. The idle ping it had before took
    /// 15 s plus the 30 s command timeout.
    /// </summary>
    /// <remarks>
    /// The bound is the mechanism's own, not a margin: the ping goes out after KeepAliveSeconds of quiet and its answer is awaited
    /// as long; then, after ReconnectDelay, the open, the LISTEN and the read of the counter may each take up to TimeoutSeconds
    /// and still succeed. (The bound it replaces, keep-alive plus 5 s, left a slow reconnect on a loaded machine 5 s in all.)
    /// </remarks>
    [Fact]
    public async Task AListeningConnectionCutOffWithoutClosing_IsReplaced_AndAChangeMadeMeanwhileIsApplied()
    {
        await using var database = await PostgresServer.CreateDatabaseAsync(cancellationToken: Cancel);
        var direct = new NpgsqlConnectionStringBuilder(database.ConnectionString);
        await using var relay = new StallingRelay(direct.Host!, direct.Port);
        await using var relayed = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(database.ConnectionString) { Port = relay.Port }.ConnectionString);
        var feed = new RegistryChangeFeed();
        var droppedAll = 0;
        feed.Subscribe(change => { if (change is { Kind: RegistryChangeKind.Prompt, PromptId: null }) Interlocked.Increment(ref droppedAll); });
        using var listener = new PostgresRegistryChanges(relayed, feed, NullLogger<PostgresRegistryChanges>.Instance);
        await listener.StartAsync(Cancel);
        await Eventually(() => listener.Applied == 0);

        relay.Stall();
        var stalledAt = System.Diagnostics.Stopwatch.StartNew();
        Volatile.Write(ref droppedAll, 0);
        await ExecuteAsync(database, InsertPrompt("p-1", "first"));

        var bound = TimeSpan.FromSeconds(2 * PostgresRegistryChanges.KeepAliveSeconds + 3 * PostgresRegistryChanges.TimeoutSeconds)
            + PostgresRegistryChanges.ReconnectDelay;
        await Eventually(() => listener.Applied == 1, bound - stalledAt.Elapsed);
        Assert.True(relay.Connections >= 2, "the listener did not reconnect");
        Assert.True(Volatile.Read(ref droppedAll) > 0, "the caches were not dropped");
        await listener.StopAsync(Cancel);
    }

    [Fact]
    public async Task TheCounter_MovesOncePerCommittedTransaction_AndNotForARollback()
    {
        await using var database = await PostgresServer.CreateDatabaseAsync(cancellationToken: Cancel);

        await ExecuteAsync(database, $"BEGIN; {InsertPrompt("p-1", "first")}; {InsertPrompt("p-2", "second")}; UPDATE prompts SET description = 'x'; COMMIT");
        await ExecuteAsync(database, $"BEGIN; {InsertPrompt("p-3", "third")}; ROLLBACK");
        await ExecuteAsync(database, InsertPrompt("p-4", "fourth"));

        await using var connection = await database.DataSource.OpenConnectionAsync(Cancel);
        await using var read = new NpgsqlCommand("SELECT sequence FROM registry_changes", connection);
        Assert.Equal(2L, await read.ExecuteScalarAsync(Cancel));
    }

    /// <summary>Keys are not in the SDK snapshot the counter numbers (migration 009): a key change is heard, so every server
    /// drops its cached keys, but leaves the counter, so one registry state keeps one number on every server.</summary>
    [Fact]
    public async Task AKeyChange_IsPublishedOnTheFeed_WithoutMovingTheCounter()
    {
        await using var database = await PostgresServer.CreateDatabaseAsync(cancellationToken: Cancel);
        var heard = new List<RegistryChange>();
        using var listener = await StartListenerAsync(database, heard);
        await ExecuteAsync(database, InsertPrompt("p-1", "first"));
        await Eventually(() => listener.Applied == 1);
        lock (heard) heard.Clear(); // the listener's own "drop everything" on connecting included

        await ExecuteAsync(database, "INSERT INTO api_keys VALUES ('k-1', 'bot', 'reader', 'pv_x', 'hash', '2026-01-01T00:00:00.0000000+00:00', 'test', NULL)");
        await Eventually(() => { lock (heard) return heard.Any(c => c.Kind == RegistryChangeKind.ApiKeys); });

        Assert.Equal(1, await listener.ReadAsync(Cancel));
        Assert.Equal(1, listener.Applied);
        await listener.StopAsync(Cancel);
    }

    [Fact]
    public async Task Notifications_ArriveInCounterOrder_UnderConcurrentWriters()
    {
        await using var database = await PostgresServer.CreateDatabaseAsync(cancellationToken: Cancel);
        await using var listening = await database.DataSource.OpenConnectionAsync(Cancel);
        var sequences = new List<long>();
        listening.Notification += (_, e) => sequences.Add(long.Parse(e.Payload.Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture));
        await using (var listen = new NpgsqlCommand($"LISTEN {PostgresRegistryChanges.Channel}", listening))
            await listen.ExecuteNonQueryAsync(Cancel);

        await Task.WhenAll(Enumerable.Range(0, 40).Select(i => ExecuteAsync(database, InsertPrompt($"p-{i}", $"prompt-{i}"))));
        // The notifications were all sent; a wait only ends a test that would hang (5 s was a bound a loaded machine could break).
        while (sequences.Count < 40)
            Assert.True(await listening.WaitAsync(TimeSpan.FromSeconds(30), Cancel), $"heard {sequences.Count} of 40");

        Assert.Equal(Enumerable.Range(1, 40).Select(i => (long)i), sequences);
    }

    /// <summary>Accepts connections on loopback and never sends a byte; <see cref="Accepted"/> gives when each came, from its start.</summary>
    private sealed class SilentServer : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private readonly System.Threading.Channels.Channel<TimeSpan> _accepted = System.Threading.Channels.Channel.CreateUnbounded<TimeSpan>();
        private readonly List<TcpClient> _clients = [];
        private readonly Task _accepting;

        public SilentServer()
        {
            _listener.Start();
            _accepting = AcceptAsync();
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public System.Threading.Channels.ChannelReader<TimeSpan> Accepted => _accepted.Reader;

        private async Task AcceptAsync()
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            try
            {
                while (true)
                {
                    _clients.Add(await _listener.AcceptTcpClientAsync(_stop.Token));
                    _accepted.Writer.TryWrite(clock.Elapsed);
                }
            }
            catch (OperationCanceledException)
            {
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            await _accepting;
            foreach (var client in _clients)
                client.Dispose();
            _stop.Dispose();
        }
    }

    /// <summary>A started listener on a feed of its own, whose changes are added to <paramref name="heard"/> (lock it to read).</summary>
    private static async Task<PostgresRegistryChanges> StartListenerAsync(PostgresTestDatabase database, List<RegistryChange> heard)
    {
        var feed = new RegistryChangeFeed();
        feed.Subscribe(change => { lock (heard) heard.Add(change); });
        var listener = new PostgresRegistryChanges(database.DataSource, feed, NullLogger<PostgresRegistryChanges>.Instance);
        await listener.StartAsync(Cancel);
        return listener;
    }

    private static string InsertPrompt(string id, string name) =>
        $"INSERT INTO prompts VALUES ('{id}', '{name}', '', 'text', '[]', NULL, '2026-01-01T00:00:00.0000000+00:00', 'test', '2026-01-01T00:00:00.0000000+00:00', 'test')";

    private static async Task ExecuteAsync(PostgresTestDatabase database, string sql)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync(Cancel);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(Cancel);
    }
}
