using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace PromptVault.Client.DependencyInjection;

/// <summary>
/// Healthy while the server confirms the snapshot; degraded when it is served stale (the server did not answer the last refresh,
/// or it is older than <see cref="PromptVaultOptions.StaleAfter"/>, or the server refuses the API key), with its age; unhealthy when there is no snapshot at all.
/// </summary>
internal sealed class PromptVaultHealthCheck(PromptVaultSdk sdk, IOptions<PromptVaultOptions> options) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var snapshots = sdk.Snapshots;
        if (snapshots.Current is not { } current || snapshots.Age is not { } age)
            return Task.FromResult(new HealthCheckResult(context.Registration.FailureStatus, "No PromptVault snapshot loaded yet."));
        var data = new Dictionary<string, object>
        {
            ["sequence"] = current.Sequence,
            ["ageSeconds"] = Math.Round(age.TotalSeconds, 1),
            ["serverReachable"] = snapshots.ServerReachable,
            ["queuedEvents"] = sdk.Events.Depth,
            ["droppedEvents"] = sdk.Events.Dropped,
        };
        if (snapshots.KeyRefusal is { } refusal)
            return Task.FromResult(HealthCheckResult.Degraded(FormattableString.Invariant(
                $"Serving PromptVault snapshot {current.Sequence}, last confirmed by the server {age:g} ago; the server refuses the API key ({refusal}), so it is no longer refreshed."), data: data));
        var staleAfter = options.Value.StaleAfter ?? options.Value.RefreshInterval * 3;
        return Task.FromResult(!snapshots.ServerReachable || age > staleAfter
            ? HealthCheckResult.Degraded(FormattableString.Invariant($"Serving PromptVault snapshot {current.Sequence}, last confirmed by the server {age:g} ago; the server is {(snapshots.ServerReachable ? "reachable" : "unreachable")}."), data: data)
            : HealthCheckResult.Healthy(FormattableString.Invariant($"PromptVault snapshot {current.Sequence}, confirmed {age:g} ago."), data));
    }
}
