using System.Threading.Channels;
using PromptVault.Core;
using PromptVault.Core.Storage;

namespace PromptVault.Storage.Postgres;

/// <summary>
/// The exposures of renders (<see cref="IExperimentStore.QueueExposure"/>), which nobody waits for: a bounded queue that
/// refuses an exposure at once when full, and one writer that stores everything queued, up to a cap, in one transaction
/// (binary COPY) as soon as the previous one has committed. The rule is SQLite's (docs/reliability.md#exposures-of-renders):
/// a graceful stop loses nothing, a kill loses at most what was queued and not yet committed.
/// </summary>
/// <remarks>
/// Metric batches do not go through here (they have their own writer, which groups them): each first waits
/// (<see cref="SettleAsync"/>) for the render exposures queued before it.
/// </remarks>
internal sealed class PostgresExposureQueue : IAsyncDisposable
{
    private readonly Channel<Entry> entries;
    private readonly int maxBatch;
    private readonly Func<IReadOnlyList<Exposure>, Task> write;
    private readonly Action<IReadOnlyList<Exposure>, Exception> exposuresLost;
    private readonly Func<Exception, bool> refusedARow;
    private readonly IDisposable depthObserver;
    private readonly Task writer;
    private long pending; // exposures queued and not yet committed or given up
    private int queuedSettles; // settle markers in the queue

    /// <param name="capacity">Exposures that may wait for the writer.</param>
    /// <param name="maxBatch">The most exposures one transaction stores.</param>
    /// <param name="write">Stores a batch in one transaction.</param>
    /// <param name="exposuresLost">Told of exposures whose write failed, and why, so their units' next renders record them again.</param>
    /// <param name="refusedARow">Whether a failed batch's error may be one exposure's (a value or a stored row the database
    /// refused), in which case each is tried alone; otherwise (the database unreachable) the batch is given up whole.</param>
    public PostgresExposureQueue(int capacity, int maxBatch, Func<IReadOnlyList<Exposure>, Task> write, Action<IReadOnlyList<Exposure>, Exception> exposuresLost,
        Func<Exception, bool> refusedARow)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        this.maxBatch = maxBatch;
        this.write = write;
        this.exposuresLost = exposuresLost;
        this.refusedARow = refusedARow;
        entries = Channel.CreateBounded<Entry>(new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });
        depthObserver = Telemetry.ObserveQueue("exposures", () => Count);
        writer = Task.Run(WriteBatchesAsync);
    }

    /// <summary>How many exposures wait for the writer (what <see cref="Telemetry.WriteQueueDepthGauge"/> reports), not counting the
    /// markers of settles waiting behind them: each metric batch queues one while exposures are pending.</summary>
    public int Count => Math.Max(0, entries.Reader.Count - Volatile.Read(ref queuedSettles));

    /// <summary>Queues an exposure without waiting; false when the queue is full (or the store is stopping).</summary>
    public bool TryQueue(Exposure exposure)
    {
        // Counted before it is in the queue, so a settle that finds nothing pending has nothing to wait for.
        Interlocked.Increment(ref pending);
        if (entries.Writer.TryWrite(new Entry(exposure, null))) return true;
        Interlocked.Decrement(ref pending);
        return false;
    }

    /// <summary>Waits until every exposure queued before the call is committed (or given up).</summary>
    /// <remarks>
    /// Queues a marker behind them that the writer answers once what is ahead of it has been written: counting alone cannot
    /// tell which exposures were written, as other requests queue theirs meanwhile.
    /// </remarks>
    public async Task SettleAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref pending) == 0) return;
        var settled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Interlocked.Increment(ref queuedSettles);
        try
        {
            await entries.Writer.WriteAsync(new Entry(null, settled), cancellationToken);
        }
        catch (Exception error)
        {
            Interlocked.Decrement(ref queuedSettles);
            if (error is not ChannelClosedException)
                throw;
            // Stopping: the writer commits everything queued before it ends.
            await writer.WaitAsync(cancellationToken);
            return;
        }
        await settled.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Stops taking exposures and waits until the queued ones are committed.</summary>
    public async ValueTask DisposeAsync()
    {
        entries.Writer.TryComplete();
        await writer;
        depthObserver.Dispose();
    }

    private async Task WriteBatchesAsync()
    {
        var batch = new List<Exposure>();
        var settles = new List<TaskCompletionSource>();
        while (await entries.Reader.WaitToReadAsync())
        {
            while (batch.Count < maxBatch && entries.Reader.TryRead(out var entry))
            {
                if (entry.Exposure is { } exposure)
                {
                    batch.Add(exposure);
                }
                else
                {
                    Interlocked.Decrement(ref queuedSettles);
                    settles.Add(entry.Settled!);
                }
            }
            if (batch.Count > 0)
            {
                await WriteAsync(batch);
                Interlocked.Add(ref pending, -batch.Count);
            }
            foreach (var settled in settles)
                settled.SetResult();
            batch.Clear();
            settles.Clear();
        }
    }

    /// <summary>
    /// Writes a batch in one transaction. When the database refuses one of its exposures, the others are written one at a
    /// time, so the one it refuses is lost alone instead of taking every unit of the batch with it at each of its renders.
    /// </summary>
    private async Task WriteAsync(List<Exposure> batch)
    {
        Exception failure;
        try
        {
            await write(batch);
            return;
        }
        catch (Exception error)
        {
            failure = error;
        }
        if (batch.Count == 1 || !refusedARow(failure))
        {
            // Nothing of the batch is stored. The units' next renders record them.
            ReportLost(batch, failure);
            return;
        }
        foreach (var exposure in batch)
        {
            try
            {
                await write([exposure]);
            }
            catch (Exception error)
            {
                ReportLost([exposure], error);
            }
        }
    }

    /// <summary>
    /// Tells <see cref="exposuresLost"/>. If that throws (its logger, say), the writer goes on: an exception here would end the
    /// writer loop, leaving every later exposure unwritten and every settle, and so every metric batch, waiting forever.
    /// </summary>
    private void ReportLost(IReadOnlyList<Exposure> exposures, Exception error)
    {
        try
        {
            exposuresLost(exposures, error);
        }
        catch (Exception)
        {
            // Nothing is left to tell: the exposures are lost either way, and their units' next renders record them.
        }
    }

    /// <summary>An exposure to write, or a settle waiting for those ahead of it.</summary>
    private readonly record struct Entry(Exposure? Exposure, TaskCompletionSource? Settled);
}
