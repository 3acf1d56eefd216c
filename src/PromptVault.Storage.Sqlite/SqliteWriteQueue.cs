using System.Threading.Channels;
using Microsoft.Data.Sqlite;

namespace PromptVault.Storage.Sqlite;

/// <summary>The kinds of queued writes, in the order a group applies them.</summary>
internal enum WriteKind
{
    Exposure,
    Events,
}

/// <summary>
/// Group commit for the hot writes (exposures and metric batches). Requests queue their write; one writer takes whatever is
/// queued (up to a cap), applies it in ONE transaction with each write in its own savepoint, commits, and only then completes
/// each request. A write that fails is rolled back to its savepoint and refused alone; its neighbours still commit.
/// </summary>
/// <remarks>
/// An acknowledged write is in a committed transaction, so it survives a kill of the process (docs/reliability.md).
/// The queue is bounded: when it is full, a request waits for room (or for its cancellation) instead of growing memory.
/// </remarks>
internal sealed class SqliteWriteQueue : IAsyncDisposable
{
    private const string Savepoint = "queued_write";

    private readonly SqliteConnectionFactory connections;
    private readonly Channel<QueuedWrite> channel;
    private readonly int maxGroup;
    private readonly Task writer;

    public SqliteWriteQueue(SqliteConnectionFactory connections, int capacity, int maxGroup)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxGroup, 1);
        this.connections = connections;
        this.maxGroup = maxGroup;
        channel = Channel.CreateBounded<QueuedWrite>(new BoundedChannelOptions(capacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
        });
        writer = Task.Run(WriteGroupsAsync);
    }

    /// <summary>How many writes wait for the writer (not counting the group it is applying).</summary>
    public int Count => channel.Reader.Count;

    /// <summary>Queues <paramref name="write"/> and returns its result once the transaction that holds it has committed.</summary>
    public async Task<T> EnqueueAsync<T>(WriteKind kind, Func<SqliteConnection, SqliteTransaction, Task<T>> write, CancellationToken cancellationToken)
    {
        var queued = new QueuedWrite<T>(kind, write, cancellationToken);
        await channel.Writer.WriteAsync(queued, cancellationToken);
        return await queued.Task;
    }

    /// <summary>Stops taking writes and waits until the queued ones are committed.</summary>
    public async ValueTask DisposeAsync()
    {
        channel.Writer.TryComplete();
        await writer;
    }

    private async Task WriteGroupsAsync()
    {
        var group = new List<QueuedWrite>(maxGroup);
        while (await channel.Reader.WaitToReadAsync())
        {
            // Exposures first, each kind in its arrival order: an event whose unit's exposure is queued with it is
            // attributed to the unit's variant, as if the two had been written one after the other.
            var exposures = 0;
            while (group.Count < maxGroup && channel.Reader.TryRead(out var write))
            {
                if (write.CancellationToken.IsCancellationRequested)
                    write.Cancel();
                else if (write.Kind == WriteKind.Exposure)
                    group.Insert(exposures++, write);
                else
                    group.Add(write);
            }
            if (group.Count == 0) continue;
            await CommitAsync(group);
            group.Clear();
        }
    }

    private async Task CommitAsync(List<QueuedWrite> group)
    {
        try
        {
            await using var connection = await connections.OpenAsync();
            using var transaction = connection.BeginTransaction();
            foreach (var write in group)
            {
                transaction.Save(Savepoint);
                try
                {
                    await write.ApplyAsync(connection, transaction);
                }
                catch (Exception e)
                {
                    // A failed statement leaves the transaction usable; if it does not, this throws and fails the group.
                    transaction.Rollback(Savepoint);
                    write.Refuse(e);
                }
                transaction.Release(Savepoint);
            }
            transaction.Commit();
        }
        catch (Exception e)
        {
            var error = e is SqliteException sqlite && SqliteErrors.IsBusy(sqlite) ? SqliteErrors.Transient(sqlite, connections.BusyTimeout) : e;
            foreach (var write in group)
                write.Fail(error);
            return;
        }
        foreach (var write in group)
            write.Complete();
    }

    private abstract class QueuedWrite(WriteKind kind, CancellationToken cancellationToken)
    {
        public WriteKind Kind { get; } = kind;

        public CancellationToken CancellationToken { get; } = cancellationToken;

        public abstract Task ApplyAsync(SqliteConnection connection, SqliteTransaction transaction);

        /// <summary>Records that this write failed alone and was rolled back; reported once the group is settled.</summary>
        public abstract void Refuse(Exception error);

        /// <summary>Reports the result (or the refusal) after the group's commit.</summary>
        public abstract void Complete();

        /// <summary>Reports that the group's transaction failed, so this write is not stored.</summary>
        public abstract void Fail(Exception error);

        public abstract void Cancel();
    }

    private sealed class QueuedWrite<T>(WriteKind kind, Func<SqliteConnection, SqliteTransaction, Task<T>> write, CancellationToken cancellationToken)
        : QueuedWrite(kind, cancellationToken)
    {
        // Continuations run off the writer, which goes on to the next group.
        private readonly TaskCompletionSource<T> completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T? result;
        private Exception? refusal;

        public Task<T> Task => completion.Task;

        public override async Task ApplyAsync(SqliteConnection connection, SqliteTransaction transaction) =>
            result = await write(connection, transaction);

        public override void Refuse(Exception error) => refusal = error;

        public override void Complete()
        {
            if (refusal is OperationCanceledException)
                completion.TrySetCanceled(CancellationToken);
            else if (refusal is not null)
                completion.TrySetException(refusal);
            else
                completion.TrySetResult(result!);
        }

        public override void Fail(Exception error) => completion.TrySetException(refusal ?? error);

        public override void Cancel() => completion.TrySetCanceled(CancellationToken);
    }
}
