namespace PromptVault.Core.Registry;

/// <summary>What a committed write changed, as far as serving and authentication are concerned.</summary>
public enum RegistryChangeKind
{
    /// <summary>A prompt, its versions, their statuses or its labels.</summary>
    Prompt,

    /// <summary>An experiment was created or changed status.</summary>
    Experiment,

    /// <summary>An API key was created or revoked.</summary>
    ApiKeys,
}

/// <param name="Sequence">Increases by one with every change this process published, starting at 1.</param>
/// <param name="PromptId">The prompt changed (or whose experiment changed); null when unknown, which means "any".</param>
/// <param name="PromptName">The prompt's name, when known.</param>
public sealed record RegistryChange(long Sequence, RegistryChangeKind Kind, string? PromptId, string? PromptName);

/// <summary>
/// The one feed of registry changes in this process: the use cases publish to it after every write that affects what
/// render or authentication read (on PostgreSQL, PostgresRegistryChanges also publishes the changes other servers made,
/// heard by LISTEN/NOTIFY), and <see cref="RegistryCache"/> invalidates from it. Subscribers run synchronously on the
/// writer's thread before the write's request is answered (so the next request sees the change); one that has slow work
/// to do (a server-sent-event stream, a PostgreSQL NOTIFY) must hand the change off, e.g. to a bounded channel, and can
/// spot a gap by its <see cref="RegistryChange.Sequence"/>.
/// </summary>
public sealed class RegistryChangeFeed
{
    private long _sequence;
    private volatile Action<RegistryChange>[] _subscribers = [];
    private readonly Lock _subscribing = new();

    /// <summary>The sequence of the last change published (0 before any).</summary>
    public long Sequence => Volatile.Read(ref _sequence);

    /// <summary>Calls <paramref name="onChange"/> with every change published from now on, until the result is disposed.</summary>
    public IDisposable Subscribe(Action<RegistryChange> onChange)
    {
        lock (_subscribing) _subscribers = [.. _subscribers, onChange];
        return new Subscription(this, onChange);
    }

    /// <summary>Announces a committed change. The sequence moves before subscribers run, so a read that started earlier can tell.</summary>
    public RegistryChange Publish(RegistryChangeKind kind, string? promptId = null, string? promptName = null)
    {
        var change = new RegistryChange(Interlocked.Increment(ref _sequence), kind, promptId, promptName);
        foreach (var subscriber in _subscribers)
            subscriber(change);
        return change;
    }

    /// <summary>Runs a write and publishes <paramref name="kind"/> after it, also when it failed: a write that threw may still
    /// have committed, and invalidating too often is only a cache miss.</summary>
    public async Task<T> AfterAsync<T>(Task<T> write, RegistryChangeKind kind, string? promptId = null, string? promptName = null)
    {
        try
        {
            return await write;
        }
        finally
        {
            Publish(kind, promptId, promptName);
        }
    }

    /// <inheritdoc cref="AfterAsync{T}(Task{T}, RegistryChangeKind, string?, string?)"/>
    public async Task AfterAsync(Task write, RegistryChangeKind kind, string? promptId = null, string? promptName = null)
    {
        try
        {
            await write;
        }
        finally
        {
            Publish(kind, promptId, promptName);
        }
    }

    private sealed class Subscription(RegistryChangeFeed feed, Action<RegistryChange> onChange) : IDisposable
    {
        public void Dispose()
        {
            lock (feed._subscribing) feed._subscribers = [.. feed._subscribers.Where(s => s != onChange)];
        }
    }
}
