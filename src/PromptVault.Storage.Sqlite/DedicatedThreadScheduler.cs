using System.Collections.Concurrent;

namespace PromptVault.Storage.Sqlite;

/// <summary>
/// Runs its tasks, and the continuations of what they await, on one thread of its own: a loop that blocks in synchronous
/// I/O (SQLite's commits and checkpoints) then never holds one of the thread pool's workers, which serve the requests.
/// </summary>
internal sealed class DedicatedThreadScheduler : TaskScheduler, IDisposable
{
    private readonly BlockingCollection<Task> tasks = [];
    private readonly Thread thread;

    public DedicatedThreadScheduler(string name)
    {
        thread = new Thread(Run) { IsBackground = true, Name = name };
        thread.Start();
    }

    public override int MaximumConcurrencyLevel => 1;

    /// <summary>Ends the thread once the tasks queued so far have run.</summary>
    public void Dispose() => tasks.CompleteAdding();

    protected override void QueueTask(Task task) => tasks.Add(task);

    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) =>
        Thread.CurrentThread == thread && TryExecuteTask(task);

    protected override IEnumerable<Task> GetScheduledTasks() => tasks.ToArray();

    private void Run()
    {
        foreach (var task in tasks.GetConsumingEnumerable())
            TryExecuteTask(task);
    }
}
