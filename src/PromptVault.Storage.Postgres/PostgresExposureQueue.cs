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
    private readonly Channel<Exposure> exposures;
    private readonly int maxBatch;
    private readonly Func<IReadOnlyList<Exposure>, Task> write;
    private readonly Action<IReadOnlyList<Exposure>, Exception> exposuresLost;
    private readonly IDisposable depthObserver;
    private readonly Task writer;
    private long queued; // exposures accepted, ever
    private long settled; // of those, committed or given up; the writer takes them in order, so the first `settled` are done
    private TaskCompletionSource progress = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <param name="capacity">Exposures that may wait for the writer.</param>
    /// <param name="maxBatch">The most exposures one transaction stores.</param>
    /// <param name="write">Stores a batch in one transaction.</param>
    /// <param name="exposuresLost">Told of exposures whose write failed, and why, so their units' next renders record them again.</param>
    public PostgresExposureQueue(int capacity, int maxBatch, Func<IReadOnlyList<Exposure>, Task> write, Action<IReadOnlyList<Exposure>, Exception> exposuresLost)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        this.maxBatch = maxBatch;
        this.write = write;
        this.exposuresLost = exposuresLost;
        exposures = Channel.CreateBounded<Exposure>(new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });
        depthObserver = Telemetry.ObserveQueue("exposures", () => Count);
        writer = Task.Run(WriteBatchesAsync);
    }

    /// <summary>How many exposures wait for the writer.</summary>
    public int Count => exposures.Reader.Count;

    /// <summary>Queues an exposure without waiting; false when the queue is full (or the store is stopping).</summary>
    public bool TryQueue(Exposure exposure)
    {
        if (!exposures.Writer.TryWrite(exposure))
            return false;
        Interlocked.Increment(ref queued);
        return true;
    }

    /// <summary>Waits until every exposure queued before the call is committed (or given up).</summary>
    public async Task SettleAsync(CancellationToken cancellationToken)
    {
        var target = Volatile.Read(ref queued);
        while (Volatile.Read(ref settled) < target)
        {
            // Read before checking again: the writer counts a batch, then completes the task this reads.
            var next = Volatile.Read(ref progress).Task;
            if (Volatile.Read(ref settled) >= target)
                return;
            await next.WaitAsync(cancellationToken);
        }
    }

    /// <summary>Stops taking exposures and waits until the queued ones are committed.</summary>
    public async ValueTask DisposeAsync()
    {
        exposures.Writer.TryComplete();
        await writer;
        depthObserver.Dispose();
    }

    private async Task WriteBatchesAsync()
    {
        var batch = new List<Exposure>();
        while (await exposures.Reader.WaitToReadAsync())
        {
            while (batch.Count < maxBatch && exposures.Reader.TryRead(out var exposure))
                batch.Add(exposure);
            try
            {
                await write(batch);
            }
            catch (Exception error)
            {
                // The database is unreachable or refused the batch: nothing of it is stored. The units' next renders record them.
                exposuresLost(batch, error);
            }
            Interlocked.Add(ref settled, batch.Count);
            Interlocked.Exchange(ref progress, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).SetResult();
            batch.Clear();
        }
    }
}
