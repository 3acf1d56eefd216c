using Npgsql;

namespace PromptVault.Storage.Postgres;

/// <summary>
/// The server's pool of connections. A write transaction holds version and experiment locks (and row locks) until it ends, so
/// an instance that stops answering mid-transaction (its host crashed, or a partition cut it off without closing its
/// connections) must not hold them at TCP's pace (about two hours of keepalive by default): every pooled connection asks
/// the server to end a transaction left idle past <see cref="IdleInTransactionTimeout"/>, and to drop a connection whose
/// client no longer answers its keepalives or acknowledges what it sent within <see cref="TcpUserTimeout"/>
/// (docs/deployment.md#several-servers-on-one-database). A value the connection string's own <c>Options</c> sets wins.
/// </summary>
public static class PostgresDataSource
{
    /// <summary>How long a transaction may wait for its client's next statement before the server ends it (and its session).</summary>
    public static readonly TimeSpan IdleInTransactionTimeout = TimeSpan.FromSeconds(60);

    /// <summary>Seconds of quiet before the server's first keepalive probe, seconds between probes, and probes unanswered before it drops the connection.</summary>
    public const int KeepaliveIdleSeconds = 10, KeepaliveIntervalSeconds = 5, KeepaliveCount = 4;

    /// <summary>How long data the server sent may stay unacknowledged before it drops the connection (a client gone while it was answering).</summary>
    public static readonly TimeSpan TcpUserTimeout = TimeSpan.FromSeconds(60);

    /// <summary>The data source of <paramref name="connectionString"/>, with the settings above.</summary>
    public static NpgsqlDataSource Create(string connectionString)
    {
        var settings = new NpgsqlConnectionStringBuilder(connectionString);
        // Later -c options win in PostgreSQL, so the connection string's own come last.
        settings.Options = string.Join(' ', new[]
        {
            $"-c idle_in_transaction_session_timeout={IdleInTransactionTimeout.TotalMilliseconds}",
            $"-c tcp_keepalives_idle={KeepaliveIdleSeconds}",
            $"-c tcp_keepalives_interval={KeepaliveIntervalSeconds}",
            $"-c tcp_keepalives_count={KeepaliveCount}",
            $"-c tcp_user_timeout={TcpUserTimeout.TotalMilliseconds}",
            settings.Options,
        }.Where(o => !string.IsNullOrWhiteSpace(o)));
        return NpgsqlDataSource.Create(settings.ConnectionString);
    }
}
