namespace PromptVault.Core.Registry;

/// <summary>
/// Numbers the states of the registry so that SDK snapshots built by different servers compare: a greater number is a later
/// state. One server on SQLite counts the changes on its own <see cref="RegistryChangeFeed"/> (<see cref="ProcessRegistryClock"/>);
/// several servers on one PostgreSQL database read a database-wide change counter that every registry write moves.
/// </summary>
public interface IRegistryClock
{
    /// <summary>
    /// The number of the registry's committed state now, returned once this server's caches no longer hold anything a change
    /// up to that state made stale: what is read after this call (through the caches or the stores) is that state or later.
    /// </summary>
    ValueTask<long> ReadAsync(CancellationToken cancellationToken = default);
}

/// <summary>
/// The clock of a server that is the only writer of its database: the time the clock was made, in Unix microseconds, plus
/// the <see cref="RegistryChangeFeed.Sequence"/>. The feed restarts at 0 with the process; the time keeps the number growing
/// across restarts, since registry writes (each a committed transaction) never come near one a microsecond.
/// </summary>
public sealed class ProcessRegistryClock(RegistryChangeFeed changes, TimeProvider time) : IRegistryClock
{
    private readonly long _epoch = time.GetUtcNow().ToUnixTimeMilliseconds() * 1000;

    public ValueTask<long> ReadAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult(_epoch + changes.Sequence);
}
