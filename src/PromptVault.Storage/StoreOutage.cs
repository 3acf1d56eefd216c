using Microsoft.Extensions.Logging;
using PromptVault.Core;

namespace PromptVault.Storage;

/// <summary>
/// What one background loop that calls the store (the webhook dispatcher, the PostgreSQL change listener) says of the store's
/// trouble, so an outage is seen without flooding the log: one warning with the exception and its causes (<see cref="Causes"/>, no stack) when the store becomes
/// unreachable, busy or full, nothing more while it stays so (but a debug line per failed try), and one information line when the loop's next call succeeds.
/// Any other failure is a fault, logged as an error with its stack every time. Not thread-safe: one loop's.
/// </summary>
/// <param name="logger">The loop's own logger, so its lines keep its category.</param>
/// <param name="loop">The loop as the lines name it ("Webhook dispatch").</param>
/// <param name="interval">The loop's wait between calls while the store answers, where the back-off starts.</param>
/// <param name="maxBackoff">The longest wait between tries while the store stays in trouble, as the warning says: <see cref="MaxBackoff"/>
/// unless given (the change listener tries every second however long the database is away).</param>
public sealed partial class StoreOutage(ILogger logger, string loop, TimeSpan interval, TimeSpan? maxBackoff = null)
{
    /// <summary>The longest wait between tries while the store stays in trouble, unless the loop says otherwise.</summary>
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(10);

    private readonly TimeSpan maxBackoff = maxBackoff ?? MaxBackoff;

    private TimeSpan? backoff; // null while the store answers
    private long failures;

    /// <summary>Whether <paramref name="e"/> is the store's trouble (unreachable, busy or full), as the API answers 503.</summary>
    public static bool IsStoreTrouble(Exception e) => e is StoreUnavailableException or StoreFullException or StoreReadOnlyException or TimeoutException;

    /// <summary>
    /// <paramref name="e"/> and its causes for a log line of the store's trouble, which says what happened without a stack:
    /// each exception's type and message, outermost first ("StoreUnavailableException: … ---> NpgsqlException: … ---> SocketException: …").
    /// The store's exception names the database and what to do (free space, raise a limit), the driver's what it met ("Connection refused"):
    /// every line of the store's trouble says both.
    /// </summary>
    public static string Causes(Exception e)
    {
        var causes = new List<string>();
        for (Exception? cause = e; cause is not null; cause = cause.InnerException)
            causes.Add($"{cause.GetType().Name}: {cause.Message.ReplaceLineEndings(" ")}");
        return string.Join(" ---> ", causes);
    }

    /// <summary>The store's trouble as a warning words it: a read-only or full database answers, it refuses to write.</summary>
    internal static string Trouble(Exception e) => e switch
    {
        StoreReadOnlyException => "is read-only",
        StoreFullException => "is full",
        TimeoutException => "is busy",
        _ => "is not answering",
    };

    /// <summary>Says what failed, if it needs saying, and answers how long to wait before the next try: doubling while the store is in trouble.</summary>
    public TimeSpan Failed(Exception e)
    {
        if (!IsStoreTrouble(e))
        {
            LoopFailed(logger, loop, e);
            return interval;
        }
        failures++;
        if (backoff is null)
        {
            StoreInTrouble(logger, loop, Trouble(e), Causes(e), maxBackoff.TotalSeconds);
            backoff = interval;
        }
        else
        {
            backoff = TimeSpan.FromTicks(Math.Min(backoff.Value.Ticks * 2, maxBackoff.Ticks));
            StillInTrouble(logger, loop, Trouble(e), failures);
        }
        return backoff.Value;
    }

    /// <summary>A call succeeded: says the store is back if it was in trouble.</summary>
    public void Succeeded()
    {
        if (backoff is null) return;
        StoreBack(logger, loop, failures);
        (backoff, failures) = (null, 0);
    }

    [LoggerMessage(EventId = 3005, Level = LogLevel.Warning,
        Message = "{Loop}: the database {Trouble} ({Causes}); trying again at most {MaxSeconds} s apart, and a line will say when it works again")]
    private static partial void StoreInTrouble(ILogger logger, string loop, string trouble, string causes, double maxSeconds);

    [LoggerMessage(EventId = 3008, Level = LogLevel.Debug, Message = "{Loop}: the database still {Trouble}, {Failures} failed tries")]
    private static partial void StillInTrouble(ILogger logger, string loop, string trouble, long failures);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Information, Message = "{Loop}: the database works again, after {Failures} failed tries")]
    private static partial void StoreBack(ILogger logger, string loop, long failures);

    [LoggerMessage(EventId = 3007, Level = LogLevel.Error, Message = "{Loop} failed; trying again")]
    private static partial void LoopFailed(ILogger logger, string loop, Exception exception);
}
