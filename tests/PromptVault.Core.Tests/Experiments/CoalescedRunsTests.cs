using PromptVault.Core.Experiments;

namespace PromptVault.Core.Tests.Experiments;

/// <summary>An experiment's looks after metric batches: one at a time per experiment, later calls sharing the next.</summary>
public sealed class CoalescedRunsTests
{
    private readonly Runs runs = new();
    private readonly CoalescedRuns coalesced = new();

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task RunAsync_CallsDuringARun_ShareOneRunThatStartsAfterIt()
    {

        var first = coalesced.RunAsync("a", runs.Run, Cancel);
        var during = Enumerable.Range(0, 5).Select(_ => coalesced.RunAsync("a", runs.Run, Cancel)).ToList();
        Assert.Equal(1, runs.Started);

        runs.Finish(0);
        await first;
        await runs.WaitForStartAsync(2);
        Assert.All(during, call => Assert.False(call.IsCompleted));
        // Asked while the second run is under way: waits for a third.
        var later = coalesced.RunAsync("a", runs.Run, Cancel);

        runs.Finish(1);
        await Task.WhenAll(during);
        await runs.WaitForStartAsync(3);
        Assert.False(later.IsCompleted);
        runs.Finish(2);
        await later;
        Assert.Equal(3, runs.Started);

        // Quiet again: the next call runs at once.
        var again = coalesced.RunAsync("a", runs.Run, Cancel);
        Assert.Equal(4, runs.Started);
        runs.Finish(3);
        await again;
    }

    [Fact]
    public async Task RunAsync_DifferentKeys_RunAtTheSameTime()
    {

        var a = coalesced.RunAsync("a", runs.Run, Cancel);
        var b = coalesced.RunAsync("b", runs.Run, Cancel);

        Assert.Equal(["a", "b"], runs.Keys);
        runs.Finish(1);
        await b;
        Assert.False(a.IsCompleted);
        runs.Finish(0);
        await a;
    }

    [Fact]
    public async Task RunAsync_RunFails_ItsCallersSeeTheError_TheNextCallRunsAgain()
    {

        var first = coalesced.RunAsync("a", runs.Run, Cancel);
        var shared = new[] { coalesced.RunAsync("a", runs.Run, Cancel), coalesced.RunAsync("a", runs.Run, Cancel) };
        runs.Fail(0, new InvalidOperationException("first"));
        Assert.Equal("first", (await Assert.ThrowsAsync<InvalidOperationException>(() => first)).Message);
        await runs.WaitForStartAsync(2);
        runs.Fail(1, new InvalidOperationException("shared"));
        foreach (var call in shared)
            Assert.Equal("shared", (await Assert.ThrowsAsync<InvalidOperationException>(() => call)).Message);

        var after = coalesced.RunAsync("a", runs.Run, Cancel);
        Assert.Equal(3, runs.Started);
        runs.Finish(2);
        await after;
    }

    [Fact]
    public async Task RunAsync_WaiterCancelled_StopsWaitingWhileTheRunGoesOnForTheOthers()
    {
        using var cancellation = new CancellationTokenSource();

        var first = coalesced.RunAsync("a", runs.Run, cancellation.Token);
        var other = coalesced.RunAsync("a", runs.Run, Cancel);
        var cancelled = coalesced.RunAsync("a", runs.Run, cancellation.Token);
        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        runs.Finish(0);
        await runs.WaitForStartAsync(2);
        Assert.False(other.IsCompleted);
        runs.Finish(1);
        await other;
        Assert.Equal(2, runs.Started);
    }

    /// <summary>Runs that each wait until the test finishes or fails them, in the order they started.</summary>
    private sealed class Runs
    {
        private readonly List<TaskCompletionSource> started = [];

        public List<string> Keys { get; } = [];

        public int Started
        {
            get { lock (started) return started.Count; }
        }

        public Task Run(string key)
        {
            var run = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (started)
            {
                started.Add(run);
                Keys.Add(key);
            }
            return run.Task;
        }

        public void Finish(int index) => At(index).SetResult();

        public void Fail(int index, Exception error) => At(index).SetException(error);

        public Task WaitForStartAsync(int count) => Eventually(() => Task.FromResult(Started), started => started >= count);

        private TaskCompletionSource At(int index)
        {
            lock (started) return started[index];
        }
    }
}
