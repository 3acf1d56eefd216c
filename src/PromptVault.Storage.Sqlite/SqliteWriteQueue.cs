using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using PromptVault.Core;
using PromptVault.Core.Storage;
using SQLitePCL;

namespace PromptVault.Storage.Sqlite;

/// <summary>The kinds of acknowledged writes, in the order a group applies them (the value is the write's rank).</summary>
internal enum WriteKind
{
    Exposure,
    Events,
    SequentialState,
}

/// <summary>
/// Group commit for the hot writes. Two bounded queues feed one writer:
/// <list type="bullet">
/// <item>acknowledged writes (metric batches, exposures the caller waits for, experiments' sequential states): the caller waits for room when the queue is
/// full, and its write is completed only after the transaction that holds it has committed;</item>
/// <item>the exposures of renders, which nobody waits for: when their queue is full the exposure is refused at once
/// (the caller counts it as dropped) rather than slowing the render.</item>
/// </list>
/// The writer takes acknowledged writes up to a number of events per group, then every queued render exposure, and applies
/// them in ONE transaction on its own connection: the render exposures first, with no savepoint (if they fail, the
/// transaction holds nothing else yet: it is rolled back and another begun), then each acknowledged write in its own
/// savepoint. A write that fails is rolled back to its savepoint and refused alone; its neighbours still commit.
/// When only render exposures wait, the writer first lingers (<see cref="ExposureLinger"/>, or until a group's worth or an
/// acknowledged write arrives) so that one transaction holds tens to hundreds of them, not the two or three that arrive
/// while it wakes: each transaction's commit rewrites its B-tree pages into the log, and the exposure counts with it.
/// </summary>
/// <remarks>
/// An acknowledged write is in a committed transaction, so it survives a kill of the process; so does every render exposure
/// queued before it was taken (docs/reliability.md). Disposing commits everything queued, then stops.
/// </remarks>
internal sealed class SqliteWriteQueue : IAsyncDisposable
{
    private const string Savepoint = "queued_write";

    /// <summary>How long render exposures may wait for more to join their group; nobody waits for them (docs/reliability.md).</summary>
    /// <remarks>
    /// While the writer keeps up, a group holds what arrived during the linger, and every commit has fixed costs (SQLite
    /// walks its page cache at commit, see below, and the counts are upserted); 20 ms rather than 5 pays them a quarter
    /// as often: the SQLite threads' CPU per render fell from 7.1-9.5 µs to 5.5-6.0 µs (docs/benchmarks.md, stop 25).
    /// </remarks>
    internal static readonly TimeSpan ExposureLinger = TimeSpan.FromMilliseconds(20);

    // Events of new units land on random pages of large keyed tables (exposures did too, until migration 012), so nearly
    // every row changes a page of its own. A larger cache keeps the tables' inner pages and recent leaves in memory, and checkpointing
    // every 10,000 log pages (about 40 MB), not SQLite's 1,000, copies a page changed by many commits into the database once
    // and syncs less often: the writer's time per exposure of a new random unit fell by a fifth (docs/benchmarks.md, stop 17).
    // Alone, that checkpoint copied up to 40 MB while batches waited (a p99 of 200-280 ms per batch); the checkpointer beside
    // the writer now copies the log as it grows, so the writer's checkpoint only finishes the copy (stop 19).
    // The cache's size is paid again at commit: a B-tree balance that reorders pages parks one at a page number past 1 GB,
    // so in a smaller database SQLite then walks the whole cache at commit. An 8 or 16 MB cache walks less but reads more:
    // 1-2 µs less of the writer's CPU a render when units' ids sort together, 8-14% more a new random unit (stop 23;
    // stop 26 measured the random units again, with the same outcome).
    // Each acknowledged write runs in a savepoint, whose statement journal keeps the original of every page the write
    // changes; past 64 KB SQLite moved it to a temporary file, two more pwrite calls a page (stop 21). In memory it is
    // bounded by one write and emptied when its savepoint is released.
    private const string WriterPragmas = "PRAGMA cache_size = -65536; PRAGMA wal_autocheckpoint = 10000; PRAGMA temp_store = MEMORY;";

    private readonly SqliteConnectionFactory connections;
    private readonly Channel<GroupedWrite<SqliteWriteContext>> writes;
    private readonly Channel<Exposure> exposures;
    private readonly int maxGroupEvents;
    private readonly Func<SqliteWriteContext, IReadOnlyList<Exposure>, Task> writeExposures;
    private readonly Action<IReadOnlyList<Exposure>, Exception> exposuresLost;
    private readonly Action? exposuresRecorded;
    private readonly TimeProvider time;
    private readonly IDisposable[] observers;
    private readonly DedicatedThreadScheduler scheduler;
    private readonly Task writer;
    private readonly SqliteCheckpointer checkpointer;
    private readonly ExposedUnits exposedUnits;
    private SqliteWriteContext? context;
    private long committedGroups;
    private long takenGroups;
    private int pendingExposures; // render exposures queued or being written, not yet committed (or given up)
    private Task<bool>? writesReady;
    private Task<bool>? exposuresReady;

    /// <param name="capacity">Acknowledged writes that may wait for the writer.</param>
    /// <param name="exposureCapacity">Render exposures that may wait for the writer.</param>
    /// <param name="maxGroupEvents">Events (a batch counts its events, an exposure one) above which a group takes no more acknowledged writes.</param>
    /// <param name="writeExposures">Writes render exposures in the group's transaction.</param>
    /// <param name="exposuresLost">Told of render exposures whose write failed, and why, so their units' next renders record them again.</param>
    /// <param name="time">The clock of the exposures' linger (tests pass a fake one).</param>
    /// <param name="logger">Told of failed checkpoints.</param>
    /// <param name="exposedUnitBudget">Units the writer's index of exposed units holds before it forgets idle experiments (<see cref="ExposedUnits"/>).</param>
    /// <param name="exposuresRecorded">Told when a group committed render exposures.</param>
    public SqliteWriteQueue(SqliteConnectionFactory connections, int capacity, int exposureCapacity, int maxGroupEvents,
        Func<SqliteWriteContext, IReadOnlyList<Exposure>, Task> writeExposures, Action<IReadOnlyList<Exposure>, Exception> exposuresLost,
        TimeProvider? time = null, ILogger? logger = null, long exposedUnitBudget = ExposedUnits.DefaultUnitBudget, Action? exposuresRecorded = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(exposureCapacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxGroupEvents, 1);
        this.connections = connections;
        this.maxGroupEvents = maxGroupEvents;
        this.writeExposures = writeExposures;
        this.exposuresLost = exposuresLost;
        this.exposuresRecorded = exposuresRecorded;
        this.time = time ?? TimeProvider.System;
        exposedUnits = new ExposedUnits(this.time, exposedUnitBudget);
        writes = Channel.CreateBounded<GroupedWrite<SqliteWriteContext>>(new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.Wait });
        exposures = Channel.CreateBounded<Exposure>(new BoundedChannelOptions(exposureCapacity) { FullMode = BoundedChannelFullMode.Wait });
        observers = [Telemetry.ObserveQueue("writes", () => Count), Telemetry.ObserveQueue("exposures", () => ExposureCount),
            Telemetry.ObserveExposedUnits(() => exposedUnits.CommittedUnits)];
        // A thread of its own: the writer's SQLite calls block (commits, checkpoints' syncs), and on a pool worker they took
        // one of the two that serve requests on a two-core machine (docs/benchmarks.md, stop 18). Started once the
        // arguments are checked, so a refused one leaves no thread behind.
        scheduler = new DedicatedThreadScheduler("PromptVault SQLite writer");
        writer = Task.Factory.StartNew(WriteGroupsAsync, CancellationToken.None, TaskCreationOptions.DenyChildAttach, scheduler).Unwrap();
        checkpointer = new SqliteCheckpointer(connections, CheckpointInterval, () => CommittedGroups, logger ?? NullLogger.Instance);
    }

    /// <summary>How often the log is copied into the database beside the writer (<see cref="SqliteCheckpointer"/>).</summary>
    internal static readonly TimeSpan CheckpointInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>How many committed groups the background checkpoints have copied into the database file (tests check that they do).</summary>
    public long CopiedGroups => checkpointer.CopiedCommits;

    /// <summary>How many acknowledged writes wait for the writer (not counting the group it is applying).</summary>
    public int Count => writes.Reader.Count;

    /// <summary>How many render exposures wait for the writer.</summary>
    public int ExposureCount => exposures.Reader.Count;

    /// <summary>The experiments and units the writer's index holds; read it only while the writer is idle (tests).</summary>
    internal (int Experiments, long Units) HeldExposedUnits => exposedUnits.Held;

    /// <summary>How many groups the writer has committed (tests check how writes were grouped).</summary>
    public long CommittedGroups => Interlocked.Read(ref committedGroups);

    /// <summary>
    /// How many groups the writer has taken from the queues: once this counts a group, the writer takes nothing more into it
    /// (tests wait for it rather than for empty queues, which the writer may still be taking from).
    /// </summary>
    public long TakenGroups => Interlocked.Read(ref takenGroups);

    /// <summary>Queues <paramref name="write"/> and returns its result once the transaction that holds it has committed.</summary>
    /// <param name="events">Its weight in a group: the events of a batch, 1 for an exposure.</param>
    public async Task<T> EnqueueAsync<T>(WriteKind kind, int events, Func<SqliteWriteContext, Task<T>> write, CancellationToken cancellationToken)
    {
        var queued = new GroupedWrite<SqliteWriteContext, T>(events, (int)kind, write, cancellationToken);
        await writes.Writer.WriteAsync(queued, cancellationToken);
        return await queued.Task;
    }

    /// <summary>Queues a render's exposure without waiting; false when its queue is full (or the store is stopping).</summary>
    public bool TryQueue(Exposure exposure)
    {
        Interlocked.Increment(ref pendingExposures);
        if (exposures.Writer.TryWrite(exposure)) return true;
        Interlocked.Decrement(ref pendingExposures);
        return false;
    }

    /// <summary>Waits until every render exposure queued before the call is committed (or given up).</summary>
    public Task SettleExposuresAsync(CancellationToken cancellationToken) =>
        Volatile.Read(ref pendingExposures) == 0 ? Task.CompletedTask : EnqueueAsync(WriteKind.Events, 0, _ => Task.FromResult(true), cancellationToken);

    /// <summary>Stops taking writes and waits until the queued ones (render exposures too) are committed.</summary>
    public async ValueTask DisposeAsync()
    {
        writes.Writer.TryComplete();
        exposures.Writer.TryComplete();
        await writer;
        scheduler.Dispose();
        checkpointer.Dispose();
        foreach (var observer in observers)
            observer.Dispose();
    }

    private async Task WriteGroupsAsync()
    {
        var group = new List<GroupedWrite<SqliteWriteContext>>();
        var renderExposures = new List<Exposure>();
        while (await WaitForWorkAsync())
        {
            await LingerForExposuresAsync();
            // Acknowledged exposures first, each kind in its arrival order: an event whose unit's exposure is queued with it
            // is attributed to the unit's variant, as if the two had been written one after the other.
            GroupedWrite<SqliteWriteContext>.TakeGroup(writes.Reader, maxGroupEvents, group);
            // Taken after the acknowledged writes: a write acknowledged after a render was answered finds its exposure stored.
            while (exposures.Reader.TryRead(out var exposure))
                renderExposures.Add(exposure);
            if (group.Count > 0 || renderExposures.Count > 0)
            {
                Interlocked.Increment(ref takenGroups);
                await CommitAsync(group, renderExposures);
            }
            Interlocked.Add(ref pendingExposures, -renderExposures.Count);
            group.Clear();
            renderExposures.Clear();
        }
        if (context is not null)
            await context.DisposeAsync();
    }

    /// <returns>False once both queues are completed and empty.</returns>
    private async Task<bool> WaitForWorkAsync()
    {
        while (true)
        {
            // A wait still pending is kept for the next call: asking again each time would pile waiters up on a quiet queue.
            var writesWait = writesReady ??= writes.Reader.WaitToReadAsync().AsTask();
            var exposuresWait = exposuresReady ??= exposures.Reader.WaitToReadAsync().AsTask();
            // Each wait is looked at once a pass and every choice below follows from that look; a wait that completes later
            // is seen on the next pass. Looking twice would let a write land between the looks and the writer then await
            // the exposures' wait alone, with the write queued.
            var writesDone = writesWait.IsCompleted;
            var exposuresDone = exposuresWait.IsCompleted;
            if (writesDone) writesReady = null;
            if (exposuresDone) exposuresReady = null;
            if ((writesDone && writesWait.Result) || (exposuresDone && exposuresWait.Result))
                return true;
            if (writesDone && exposuresDone)
                return false;
            // A wait seen done here has completed its queue for good, so awaiting the other one alone misses nothing.
            if (writesDone)
                await exposuresWait;
            else if (exposuresDone)
                await writesWait;
            else
                await Task.WhenAny(writesWait, exposuresWait);
        }
    }

    /// <summary>
    /// When only render exposures wait, and fewer than a group's worth, waits up to <see cref="ExposureLinger"/> for more;
    /// an acknowledged write (a caller waiting, or a read settling the exposures) ends the wait at once.
    /// </summary>
    private async Task LingerForExposuresAsync()
    {
        if (writes.Reader.Count > 0 || exposures.Reader.Count is 0 || exposures.Reader.Count >= maxGroupEvents)
            return;
        writesReady ??= writes.Reader.WaitToReadAsync().AsTask();
        if (!writesReady.IsCompleted)
            await Task.WhenAny(writesReady, Task.Delay(ExposureLinger, time));
    }

    private async Task CommitAsync(List<GroupedWrite<SqliteWriteContext>> group, List<Exposure> renderExposures)
    {
        IReadOnlyList<Exposure> unreported = renderExposures; // render exposures not yet reported lost, should the group fail
        try
        {
            // One connection for the writer's life, so its prepared statements are prepared once.
            context ??= new SqliteWriteContext(await connections.OpenUnpooledAsync(WriterPragmas), exposedUnits);
            BeginTransaction();
            try
            {
                if (renderExposures.Count > 0 && await ApplyFirstAsync(c => writeExposures(c, renderExposures)) is { } failure)
                    unreported = await ApplyOneByOneAsync(renderExposures, failure);
                foreach (var write in group)
                {
                    if (await ApplyInSavepointAsync(write.ApplyAsync) is { } refusal)
                        write.Refuse(refusal);
                }
                context.Analysis.Flush();
                exposedUnits.EndGroup(context);
                context.Transaction.Commit();
                exposedUnits.GroupCommitted();
            }
            finally
            {
                context.Transaction.Dispose(); // the one begun last, when the exposures' failure began another
            }
            Interlocked.Increment(ref committedGroups);
        }
        catch (Exception e)
        {
            // The connection may be unusable after a failed transaction: the next group opens another.
            exposedUnits.Reset();
            if (context is not null)
                await context.DisposeAsync();
            context = null;
            var error = e is SqliteException sqlite && SqliteErrors.Transient(sqlite, connections) is { } transient ? transient : e;
            foreach (var write in group)
                write.Fail(error);
            Lost(unreported, error);
            return;
        }
        foreach (var write in group)
            write.Complete();
        if (unreported.Count > 0)
            exposuresRecorded?.Invoke();
    }

    /// <summary>
    /// Applies the transaction's first write with no savepoint: if it fails, rolling back the whole transaction undoes it
    /// alone. A savepoint would first copy each page the write changes into its statement journal, and render exposures of
    /// new units changed a page each while the exposures table had a key (docs/benchmarks.md, stop 21).
    /// </summary>
    /// <returns>Null, or why it failed and was rolled back, in which case another transaction has begun.</returns>
    private async Task<Exception?> ApplyFirstAsync(Func<SqliteWriteContext, Task> apply)
    {
        try
        {
            await apply(context!);
            context!.AcceptWrite();
            return null;
        }
        catch (Exception e)
        {
            // As in a savepoint: if the rollback fails, this throws and fails the group.
            context!.Transaction.Rollback();
            context.Transaction.Dispose();
            context.RejectWrite();
            BeginTransaction();
            return e;
        }
    }

    /// <summary>
    /// Begins the group's transaction, or its next one after its first write was rolled back: another writer may have taken
    /// the lock in between, so the index of exposed units checks the table again in each (<see cref="ExposedUnits.BeginGroup"/>).
    /// </summary>
    private void BeginTransaction()
    {
        context!.Transaction = context.Connection.BeginTransaction();
        exposedUnits.BeginGroup(context);
    }

    /// <summary>
    /// Applies render exposures one at a time, each in its own savepoint, after they failed together: one that cannot be
    /// written (a stored row it reads is damaged) would otherwise take every experiment's exposures of the group with it,
    /// at every render of its unit.
    /// </summary>
    /// <param name="failure">Why they failed together: what those that fail alone are reported lost with.</param>
    /// <returns>The exposures written, in the transaction.</returns>
    private async Task<List<Exposure>> ApplyOneByOneAsync(List<Exposure> renderExposures, Exception failure)
    {
        var written = new List<Exposure>(renderExposures.Count);
        var refused = new List<Exposure>();
        foreach (var exposure in renderExposures)
            (await ApplyInSavepointAsync(c => writeExposures(c, [exposure])) is null ? written : refused).Add(exposure);
        Lost(refused, failure);
        return written;
    }

    /// <summary>Applies one write in its own savepoint.</summary>
    /// <returns>Null, or why it failed and was rolled back.</returns>
    private async Task<Exception?> ApplyInSavepointAsync(Func<SqliteWriteContext, Task> apply)
    {
        var transaction = context!.Transaction;
        transaction.Save(Savepoint);
        try
        {
            await apply(context);
            transaction.Release(Savepoint);
            context.AcceptWrite();
            return null;
        }
        catch (Exception e)
        {
            // A failed statement leaves the transaction usable, unless SQLite rolled it back whole (a full disk, an I/O
            // error): the group then fails with the write's error, which says why, not with the savepoint's absence. So does
            // it on a connection SQLite opened read-only, where every write would fail alike: the next group opens another.
            if (raw.sqlite3_get_autocommit(context.Connection.Handle) != 0 || SqliteConnectionFactory.IsReadOnly(context.Connection))
                throw;
            transaction.Rollback(Savepoint);
            transaction.Release(Savepoint);
            context.RejectWrite();
            return e;
        }
    }

    private void Lost(IReadOnlyList<Exposure> renderExposures, Exception error)
    {
        if (renderExposures.Count == 0) return;
        exposuresLost(renderExposures, error);
    }
}
