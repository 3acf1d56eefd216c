namespace PromptVault.Core.Experiments;

/// <summary>
/// Runs work per key one run at a time. A call that arrives while its key's run is in progress does not start another:
/// it waits for the next run, which starts when the current one ends and is shared by every call that arrived meanwhile.
/// So each call returns after a run that started after it was made, and a key busy with N calls a second runs about once
/// per run's duration, not N times.
/// </summary>
internal sealed class CoalescedRuns
{
    private readonly Lock gate = new();
    private readonly Dictionary<string, Flight> flights = new(StringComparer.Ordinal);

    /// <param name="run">The key's work, for the run this call starts or is the first to wait for. It is given no
    /// cancellation: several callers may share a run.</param>
    /// <param name="cancellationToken">Stops this caller's wait, not the run.</param>
    public Task RunAsync(string key, Func<string, Task> run, CancellationToken cancellationToken = default)
    {
        Flight? flight;
        lock (gate)
        {
            if (flights.TryGetValue(key, out flight))
            {
                flight.Next ??= (new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), run);
                return flight.Next.Value.Done.Task.WaitAsync(cancellationToken);
            }
            flights.Add(key, flight = new Flight());
        }
        return FlyAsync(key, flight, run).WaitAsync(cancellationToken);
    }

    private async Task FlyAsync(string key, Flight flight, Func<string, Task> run)
    {
        try
        {
            await run(key);
        }
        finally
        {
            (TaskCompletionSource Done, Func<string, Task> Run)? next;
            lock (gate)
            {
                next = flight.Next;
                flight.Next = null;
                if (next is null)
                    flights.Remove(key);
            }
            if (next is { } waiting)
                _ = FlyNextAsync(key, flight, waiting.Run, waiting.Done);
        }
    }

    private async Task FlyNextAsync(string key, Flight flight, Func<string, Task> run, TaskCompletionSource done)
    {
        try
        {
            await FlyAsync(key, flight, run);
            done.SetResult();
        }
        catch (Exception e)
        {
            done.SetException(e);
        }
    }

    /// <summary>A key's run in progress, and the run its later callers wait for (null: none asked yet).</summary>
    private sealed class Flight
    {
        public (TaskCompletionSource Done, Func<string, Task> Run)? Next { get; set; }
    }
}
