using Microsoft.Extensions.Logging;

namespace PromptVault.Storage;

/// <summary>
/// What a store's writers give up on without a caller to tell: render exposures not recorded, and failed checkpoints.
/// Each is counted too (docs/observability.md); the log says why.
/// </summary>
internal static partial class StoreLog
{
    [LoggerMessage(EventId = 3001, Level = LogLevel.Warning,
        Message = "{Count} render exposures were not recorded: their transaction failed. Their units' next renders record them")]
    public static partial void ExposuresLost(ILogger logger, int count, Exception exception);

    [LoggerMessage(EventId = 3009, Level = LogLevel.Warning,
        Message = "{Count} render exposures were not recorded: the database {Trouble} ({Causes}). Their units' next renders record them; until a write of exposures works again, those lost are counted, not logged")]
    public static partial void ExposuresLostInOutage(ILogger logger, int count, string trouble, string causes);

    [LoggerMessage(EventId = 3010, Level = LogLevel.Debug, Message = "{Count} more render exposures were not recorded: the database still {Trouble}")]
    public static partial void ExposuresStillLost(ILogger logger, int count, string trouble);

    [LoggerMessage(EventId = 3011, Level = LogLevel.Information, Message = "Render exposures are recorded again, after {Count} were not")]
    public static partial void ExposuresRecordedAgain(ILogger logger, long count);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning,
        Message = "{Count} render exposures were dropped since the last such line: the exposure queue was full, the store's writer behind the renders of new units. Their units' next renders record them")]
    public static partial void ExposuresDropped(ILogger logger, long count);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning,
        Message = "Checkpoint of the SQLite log failed; trying again every {IntervalMs} ms, while the writer's own checkpoints bound the log")]
    public static partial void CheckpointFailed(ILogger logger, double intervalMs, Exception exception);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Information, Message = "Checkpoints of the SQLite log succeed again, after {Failures} failed")]
    public static partial void CheckpointRecovered(ILogger logger, long failures);
}

/// <summary>
/// Logs render exposures dropped for a full queue: the first drop at once, then at most one line per
/// <see cref="Interval"/>, each with how many were dropped since the line before, so an overload writes a few lines, not one a render.
/// </summary>
internal sealed class DroppedExposuresLog(ILogger logger, TimeProvider time)
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    private readonly LineInterval lines = new(time, Interval);

    public void Dropped()
    {
        if (lines.IsLineDue(out var dropped)) StoreLog.ExposuresDropped(logger, dropped);
    }
}

/// <summary>
/// When a line about a run of like events is due, so that many of them write a few lines: at the first event, then at the
/// first after each <paramref name="interval"/>, each line with how many events came since the one before. Thread-safe
/// without a lock (a caller per event may race; one takes the line).
/// </summary>
public sealed class LineInterval(TimeProvider time, TimeSpan interval)
{
    private long unlogged;
    private long nextLine = long.MinValue; // a TimeProvider timestamp

    /// <summary>Counts an event; true when this one's line is due, with the events since the last line, this one included.</summary>
    public bool IsLineDue(out long events)
    {
        Interlocked.Increment(ref unlogged);
        var now = time.GetTimestamp();
        var next = Interlocked.Read(ref nextLine);
        if (now < next || Interlocked.CompareExchange(ref nextLine, now + (long)(interval.TotalSeconds * time.TimestampFrequency), next) != next)
        {
            events = 0;
            return false;
        }
        events = Interlocked.Exchange(ref unlogged, 0);
        return true;
    }
}

/// <summary>
/// Logs render exposures whose write failed. The store's trouble (unreachable, busy, full, read-only) is an outage, said once
/// as <see cref="StoreOutage"/> says it for the background loops: one warning with the exception and its causes and no stack, a debug line per
/// further loss, and one information line when exposures are written again. Any other failure is logged with its stack, every time.
/// </summary>
internal sealed class LostExposuresLog(ILogger logger)
{
    private readonly Lock sync = new();
    private long lostInOutage = -1; // -1 while exposures are written

    public void Lost(int count, Exception error)
    {
        if (!StoreOutage.IsStoreTrouble(error))
        {
            StoreLog.ExposuresLost(logger, count, error);
            return;
        }
        lock (sync)
        {
            if (lostInOutage < 0)
            {
                lostInOutage = 0;
                StoreLog.ExposuresLostInOutage(logger, count, StoreOutage.Trouble(error), StoreOutage.Causes(error));
            }
            else
            {
                StoreLog.ExposuresStillLost(logger, count, StoreOutage.Trouble(error));
            }
            lostInOutage += count;
        }
    }

    /// <summary>A write of render exposures committed.</summary>
    public void Recorded()
    {
        if (Volatile.Read(ref lostInOutage) < 0) return;
        lock (sync)
        {
            if (lostInOutage < 0) return;
            StoreLog.ExposuresRecordedAgain(logger, lostInOutage);
            lostInOutage = -1;
        }
    }
}
