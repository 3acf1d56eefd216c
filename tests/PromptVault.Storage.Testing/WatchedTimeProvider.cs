using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;

namespace PromptVault.Storage.Testing;

/// <summary>
/// A fake clock that tells the test each time code starts a wait on it (<c>Task.Delay(…, time)</c> makes a timer): a loop
/// seen waiting on a clock that does not move is held there, so what it would do after the wait has not happened, with no
/// sleep to prove it.
/// </summary>
public sealed class WatchedTimeProvider(DateTimeOffset start) : FakeTimeProvider(start)
{
    private readonly Channel<TimeSpan> _timers = Channel.CreateUnbounded<TimeSpan>();

    public WatchedTimeProvider() : this(new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero))
    {
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        _timers.Writer.TryWrite(dueTime);
        return timer;
    }

    /// <summary>The due time of the next timer made on this clock; fails the test past the waiting limit.</summary>
    public Task<TimeSpan> NextTimerAsync() => Waiting.Eventually(_timers.Reader.ReadAsync(TestContext.Current.CancellationToken).AsTask());
}
