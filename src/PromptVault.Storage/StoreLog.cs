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

    private long unlogged;
    private long nextLine = long.MinValue; // a TimeProvider timestamp

    public void Dropped()
    {
        Interlocked.Increment(ref unlogged);
        var now = time.GetTimestamp();
        var next = Interlocked.Read(ref nextLine);
        // One render of those racing past the time takes the line.
        if (now < next || Interlocked.CompareExchange(ref nextLine, now + (long)(Interval.TotalSeconds * time.TimestampFrequency), next) != next)
            return;
        StoreLog.ExposuresDropped(logger, Interlocked.Exchange(ref unlogged, 0));
    }
}
