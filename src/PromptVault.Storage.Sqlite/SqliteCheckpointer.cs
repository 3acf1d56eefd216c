using Microsoft.Data.Sqlite;

namespace PromptVault.Storage.Sqlite;

/// <summary>
/// Copies the write-ahead log into the database every <c>interval</c>, on a connection and a thread of its own, so the
/// writer's commits do not wait for it. The checkpoints are PASSIVE: they copy what no reader still needs, and neither wait
/// for nor block the writer. The writer's own checkpoint (every 10,000 log pages) then finds the log nearly all copied:
/// it only finishes the copy, so the log can start over, instead of copying tens of megabytes while batches wait.
/// </summary>
internal sealed class SqliteCheckpointer : IDisposable
{
    private readonly SqliteConnectionFactory connections;
    private readonly TimeSpan interval;
    private readonly CancellationTokenSource stopping = new();
    private readonly Thread thread;
    private long checkpoints;

    public SqliteCheckpointer(SqliteConnectionFactory connections, TimeSpan interval)
    {
        this.connections = connections;
        this.interval = interval;
        // Its own thread, as the writer's: a checkpoint blocks in writes and syncs.
        thread = new Thread(Run) { IsBackground = true, Name = "PromptVault SQLite checkpointer" };
        thread.Start();
    }

    /// <summary>How many checkpoints have run (tests check that it works).</summary>
    public long Checkpoints => Interlocked.Read(ref checkpoints);

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
        while (!stopping.Token.WaitHandle.WaitOne(interval))
        {
            try
            {
                // Opening a SQLite connection does not wait on I/O that would free the thread, so waiting for it here blocks nothing else.
                connection ??= connections.OpenUnpooledAsync("").GetAwaiter().GetResult();
                using var command = connection.CreateCommand();
                command.CommandText = "PRAGMA wal_checkpoint(PASSIVE)";
                command.ExecuteNonQuery();
                Interlocked.Increment(ref checkpoints);
            }
            catch (SqliteException)
            {
                // Tried again at the next interval on a new connection; meanwhile the writer's own checkpoints bound the log.
                connection?.Dispose();
                connection = null;
            }
        }
        connection?.Dispose();
    }
}
