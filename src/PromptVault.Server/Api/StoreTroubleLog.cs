using System.Collections.Concurrent;
using Microsoft.Extensions.Diagnostics.HealthChecks;
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

    private readonly Lock healthLock = new();
    private HealthAnswer health = HealthAnswer.Healthy;
    private long checksSinceChange;

    /// <summary>
    /// Says when <c>/healthz</c>'s answer changes, and why when it fails (its answer is anonymous and leaves the cause out): a
    /// load balancer probes every few seconds, so a line per check, or even a reminder a minute, fills the log with one warning
    /// while the database is down, and its recovery went unsaid.
    /// </summary>
    /// <param name="cause">Why the check failed; null when it passed.</param>
    public void HealthChecked(HealthStatus status, string? description, Exception? cause)
    {
        var answer = new HealthAnswer(status.ToString().ToLowerInvariant(), description);
        HealthAnswer before;
        long checksBefore;
        lock (healthLock)
        {
            if (answer == health)
            {
                checksSinceChange++;
                return;
            }
            (before, checksBefore) = (health, checksSinceChange);
            (health, checksSinceChange) = (answer, 1);
        }
        if (cause is not null)
            Log.HealthCheckFailed(logger, answer.Status, answer.Description, StoreOutage.Causes(cause));
        else
            Log.HealthCheckRecovered(logger, answer.Status, checksBefore, before.Status);
    }

    private sealed record HealthAnswer(string Status, string? Description)
    {
        public static readonly HealthAnswer Healthy = new("healthy", null);
    }

    /// <summary>Counts one more of <paramref name="kind"/>; true when its line is due, with how many came since the last.</summary>
    private bool IsLineDue(string kind, out long since) =>
        lines.GetOrAdd(kind, static (_, time) => new LineInterval(time, Interval), time).IsLineDue(out since);
}
