using PromptVault.Core.Storage;
using static PromptVault.Storage.Testing.Samples;

namespace PromptVault.Storage.Postgres.Tests;

/// <summary>The render exposures' writer: no database needed, the write is the test's.</summary>
public sealed class PostgresExposureQueueTests
{
    [Fact]
    public async Task BatchWriteFails_GivenUpWithTheError()
    {
        var givenUp = new List<(string Unit, string Error)>();
        await using var queue = new PostgresExposureQueue(capacity: 4, maxBatch: 10,
            _ => Task.FromException(new InvalidOperationException("the database refused the batch")),
            (lost, error) => { lock (givenUp) givenUp.AddRange(lost.Select(e => (e.UnitId, error.Message))); }, refusedARow: _ => false);

        Assert.True(queue.TryQueue(new Exposure("experiment-1", "variant-1", "unit-1", Now)));
        Assert.True(queue.TryQueue(new Exposure("experiment-1", "variant-1", "unit-2", Now)));
        await queue.SettleAsync(TestContext.Current.CancellationToken);

        lock (givenUp) Assert.Equal([("unit-1", "the database refused the batch"), ("unit-2", "the database refused the batch")], givenUp);
    }

    [Fact]
    public async Task Settle_WaitsUntilTheExposuresQueuedBeforeItAreWritten()
    {
        var (writing, gate) = (new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), new TaskCompletionSource());
        var written = new List<string>();
        await using var queue = new PostgresExposureQueue(capacity: 8, maxBatch: 10,
            async batch => { writing.TrySetResult(); await gate.Task; lock (written) written.AddRange(batch.Select(e => e.UnitId)); },
            (_, _) => { }, refusedARow: _ => false);

        Assert.True(queue.TryQueue(new Exposure("experiment-1", "variant-1", "unit-1", Now)));
        Assert.True(queue.TryQueue(new Exposure("experiment-1", "variant-1", "unit-2", Now)));
        var settle = queue.SettleAsync(TestContext.Current.CancellationToken);
        await WritingAsync(writing); // the writer took them and waits
        Assert.False(settle.IsCompleted);

        gate.SetResult();
        await settle;
        lock (written) Assert.Equal(["unit-1", "unit-2"], written);
    }

    [Fact]
    public async Task Count_IsTheExposuresWaiting_NotTheSettlesQueuedBehindThem()
    {
        var (writing, gate) = (new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), new TaskCompletionSource());
        await using var queue = new PostgresExposureQueue(capacity: 16, maxBatch: 10, async _ => { writing.TrySetResult(); await gate.Task; },
            (_, _) => { }, refusedARow: _ => false);
        Assert.True(queue.TryQueue(new Exposure("experiment-1", "variant-1", "unit-0", Now)));
        await WritingAsync(writing); // the writer took it and waits

        Assert.True(queue.TryQueue(new Exposure("experiment-1", "variant-1", "unit-1", Now)));
        Assert.True(queue.TryQueue(new Exposure("experiment-1", "variant-1", "unit-2", Now)));
        // Three metric batches arrive meanwhile: each waits behind the pending exposures.
        var settles = Enumerable.Range(0, 3).Select(_ => queue.SettleAsync(TestContext.Current.CancellationToken)).ToList();

        var waiting = queue.Count;
        gate.SetResult(); // before asserting: the queue's disposal waits for the writer the gate holds
        await Task.WhenAll(settles);
        Assert.Equal((2, 0), (waiting, queue.Count));
    }

    [Fact]
    public async Task Settle_WhileStopping_WaitsForTheQueuedExposures()
    {
        var gate = new TaskCompletionSource();
        var written = 0;
        var queue = new PostgresExposureQueue(capacity: 8, maxBatch: 10,
            async batch => { await gate.Task; Interlocked.Add(ref written, batch.Count); }, (_, _) => { }, refusedARow: _ => false);
        Assert.True(queue.TryQueue(new Exposure("experiment-1", "variant-1", "unit-1", Now)));

        var stopping = queue.DisposeAsync().AsTask();
        Assert.False(queue.TryQueue(new Exposure("experiment-1", "variant-1", "unit-2", Now)));
        var settle = queue.SettleAsync(TestContext.Current.CancellationToken);
        gate.SetResult();
        await settle;
        Assert.Equal(1, Volatile.Read(ref written));
        await stopping;
    }

    [Fact]
    public async Task BatchRefusedForOneExposure_TheOthersWrittenOneByOne_TheRefusedOneLostAlone()
    {
        var (writing, gate) = (new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), new TaskCompletionSource());
        var batches = new List<int>();
        var written = new List<string>();
        var givenUp = new List<string>();
        await using var queue = new PostgresExposureQueue(capacity: 8, maxBatch: 10,
            async batch =>
            {
                lock (batches) batches.Add(batch.Count);
                if (batch[0].UnitId == "first") // holds the writer while the next batch is queued
                {
                    writing.TrySetResult();
                    await gate.Task;
                }
                if (batch.Any(e => e.UnitId == "damaged")) throw new FormatException("the database refused a row");
                lock (written) written.AddRange(batch.Select(e => e.UnitId));
            },
            (lost, _) => { lock (givenUp) givenUp.AddRange(lost.Select(e => e.UnitId)); },
            refusedARow: error => error is FormatException);

        Assert.True(queue.TryQueue(new Exposure("experiment-1", "variant-1", "first", Now)));
        await WritingAsync(writing);
        foreach (var unit in new[] { "unit-1", "damaged", "unit-2" })
            Assert.True(queue.TryQueue(new Exposure("experiment-1", "variant-1", unit, Now)));
        gate.SetResult();
        await queue.SettleAsync(TestContext.Current.CancellationToken);

        lock (batches) Assert.Equal([1, 3, 1, 1, 1], batches);
        lock (written) Assert.Equal(["first", "unit-1", "unit-2"], written);
        lock (givenUp) Assert.Equal(["damaged"], givenUp);
    }

    [Fact]
    public async Task LostExposuresCallbackThrows_TheWriterGoesOn_LaterExposuresAreWrittenAndSettlesAnswered()
    {
        var written = new List<string>();
        await using var queue = new PostgresExposureQueue(capacity: 8, maxBatch: 10,
            batch =>
            {
                if (batch.Any(e => e.UnitId == "doomed")) throw new InvalidOperationException("the database is down");
                lock (written) written.AddRange(batch.Select(e => e.UnitId));
                return Task.CompletedTask;
            },
            (_, _) => throw new InvalidOperationException("the logger failed"), refusedARow: _ => false);
        // Far longer than a write takes; without the guard the settles would wait forever.
        var hung = TimeSpan.FromSeconds(30);

        Assert.True(queue.TryQueue(new Exposure("experiment-1", "variant-1", "doomed", Now)));
        await queue.SettleAsync(TestContext.Current.CancellationToken).WaitAsync(hung, TestContext.Current.CancellationToken);
        Assert.True(queue.TryQueue(new Exposure("experiment-1", "variant-1", "unit-1", Now)));
        await queue.SettleAsync(TestContext.Current.CancellationToken).WaitAsync(hung, TestContext.Current.CancellationToken);

        lock (written) Assert.Equal(["unit-1"], written);
    }

    /// <summary>
    /// Waits until the writer writes a batch (the test's write signals it): it has stopped taking from the queue, so what
    /// is queued now waits for the next batch. An empty queue does not say that: the writer may still be taking.
    /// </summary>
    private static Task WritingAsync(TaskCompletionSource writing) =>
        writing.Task.WaitAsync(Limit, TestContext.Current.CancellationToken);
}
