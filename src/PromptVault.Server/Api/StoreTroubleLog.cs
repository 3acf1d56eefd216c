using System.Collections.Concurrent;
using PromptVault.Storage;

namespace PromptVault.Server.Api;

/// <summary>
/// Says in the log why requests were answered 503 for the store's trouble (<see cref="ProblemExceptionHandler.StoreTrouble"/>),
/// which their caller is told without the cause: the first such answer of each code at once, with its route and its exception's causes in one line (no stack, as the background loops' lines), then
/// at most one line per code per <see cref="Interval"/> with how many came since, so a store down under load writes a few lines.
/// </summary>
internal sealed class StoreTroubleLog(ILogger<StoreTroubleLog> logger, TimeProvider time)
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<string, LineInterval> lines = new();

    public void Answered(string code, string method, string route, Exception cause)
    {
        if (IsLineDue(code, out var answers))
            Log.StoreTroubleAnswered(logger, method, route, code, StoreOutage.Causes(cause), answers);
    }

    /// <summary>
    /// Says why <c>/healthz</c> answered <paramref name="status"/> (its answer is anonymous and leaves the cause out), as
    /// <see cref="Answered"/> does: a load balancer probes every few seconds.
    /// </summary>
    public void HealthCheckFailed(string status, string description, Exception cause)
    {
        if (IsLineDue("/healthz " + description, out var checks))
            Log.HealthCheckFailed(logger, status, description, StoreOutage.Causes(cause), checks);
    }

    /// <summary>Counts one more of <paramref name="kind"/>; true when its line is due, with how many came since the last.</summary>
    private bool IsLineDue(string kind, out long since) =>
        lines.GetOrAdd(kind, static (_, time) => new LineInterval(time, Interval), time).IsLineDue(out since);
}
