using Microsoft.Extensions.Diagnostics.HealthChecks;
using PromptVault.Server.Api;

namespace PromptVault.Server.Hosting;

/// <summary>
/// Healthy when the database (SQLite or PostgreSQL) opens and answers a query on its schema. The answer is anonymous: it says
/// what failed, not the file's path, the server's address or the engine's message, which the server log has.
/// </summary>
internal sealed class DatabaseHealthCheck(IServiceProvider services, StoreTroubleLog troubleLog) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await ServerStorage.ProbeAsync(services, cancellationToken);
            troubleLog.HealthChecked(HealthStatus.Healthy, null, null);
            return HealthCheckResult.Healthy();
        }
        catch (TimeoutException e)
        {
            // Reachable but every connection in use (or, on SQLite, locked): busy, which taking the server out of rotation or
            // restarting it would not cure. Degraded is answered 200.
            return Failed(HealthStatus.Degraded, "the database is busy: no connection was free in time; the server log has the error", e);
        }
        catch (Core.StoreUnavailableException e)
        {
            return Failed(HealthStatus.Unhealthy, "the database could not be reached; the server log has the error", e);
        }
        catch (Exception e) when (ServerStorage.IsDatabaseFailure(e))
        {
            return Failed(HealthStatus.Unhealthy, "the database did not open or answer the check's query; the server log has the error", e);
        }
    }

    private HealthCheckResult Failed(HealthStatus status, string description, Exception cause)
    {
        troubleLog.HealthChecked(status, description, cause);
        return new HealthCheckResult(status, description);
    }
}
