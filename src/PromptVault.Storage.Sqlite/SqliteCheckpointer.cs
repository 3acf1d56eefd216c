using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using PromptVault.Core;

namespace PromptVault.Storage.Sqlite;

/// <summary>
/// Copies the write-ahead log into the database every <c>interval</c> after the writer has committed, on a connection and a
/// thread of its own, so the writer's commits do not wait for it. The checkpoints are PASSIVE: they copy what no reader
/// still needs, and neither wait for nor block the writer. The writer's own checkpoint (every 10,000 log pages) then finds
/// the log nearly all copied: it only finishes the copy, so the log can start over, instead of copying tens of megabytes
/// while batches wait.
/// </summary>
internal sealed class SqliteCheckpointer : IDisposable
{
    private readonly SqliteConnectionFactory connections;
    private readonly TimeSpan interval;
    private readonly Func<long> commits;
    private readonly CancellationTokenSource stopping = new();
    private readonly ILogger logger;
    private readonly Thread thread;
    private long copiedCommits;

    /// <param name="commits">How many transactions the writer has committed so far; an idle writer's log is not looked at.</param>
    /// <param name="logger">Told when checkpoints start failing (once, not at every attempt) and when they succeed again.</param>
    public SqliteCheckpointer(SqliteConnectionFactory connections, TimeSpan interval, Func<long> commits, ILogger logger)
    {
        this.connections = connections;
        this.interval = interval;
        this.commits = commits;
        this.logger = logger;
        // Its own thread, as the writer's: a checkpoint blocks in writes and syncs.
        thread = new Thread(Run) { IsBackground = true, Name = "PromptVault SQLite checkpointer" };
        thread.Start();
    }

    /// <summary>How many of the writer's commits the database file holds: all those before the last checkpoint that copied the whole log.</summary>
    public long CopiedCommits => Interlocked.Read(ref copiedCommits);

    /// <summary>Stops after the checkpoint under way, if any. A second call does nothing.</summary>
    public void Dispose()
    {
        if (stopping.IsCancellationRequested) return;
        stopping.Cancel();
        thread.Join();
        stopping.Dispose();
    }

    private void Run()
    {
        SqliteConnection? connection = null;
        var failures = 0L; // in a row
        while (!stopping.Token.WaitHandle.WaitOne(interval))
        {
            var committed = commits();
            if (committed == CopiedCommits) continue;
            try
            {
                // Opening a SQLite connection does not wait on I/O that would free the thread, so waiting for it here blocks nothing else.
                connection ??= connections.OpenUnpooledAsync("").GetAwaiter().GetResult();
                using var command = connection.CreateCommand();
                command.CommandText = "PRAGMA wal_checkpoint(PASSIVE)";
                using var result = command.ExecuteReader();
                result.Read();
                // Pages in the log, and pages copied: fewer while a reader still needs older pages, which the next checkpoint copies.
                var complete = result.GetInt64(1) == result.GetInt64(2);
                Telemetry.Checkpointed(complete);
                if (failures > 0) StoreLog.CheckpointRecovered(logger, failures);
                failures = 0;
                if (complete) Interlocked.Exchange(ref copiedCommits, committed);
            }
            catch (Exception error)
            {
                Telemetry.Checkpointed(complete: false, error);
                if (failures++ == 0) StoreLog.CheckpointFailed(logger, interval.TotalMilliseconds, error);
                // Best effort, and on a thread of its own, where an exception would end the process: tried again at the next
                // interval on a new connection; meanwhile the writer's own checkpoints bound the log.
                connection?.Dispose();
                connection = null;
            }
        }
        connection?.Dispose();
    }
}
