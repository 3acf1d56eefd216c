using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace PromptVault.Server.Hosting;

/// <summary>Healthy when the database (SQLite or PostgreSQL) opens and answers a query on its schema.</summary>
internal sealed class DatabaseHealthCheck(IServiceProvider services) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await ServerStorage.ProbeAsync(services, cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (TimeoutException e)
        {
            // Reachable but every connection in use (or, on SQLite, locked): busy, which taking the server out of rotation or
            // restarting it would not cure. Degraded is answered 200.
            return HealthCheckResult.Degraded("the database is busy: no connection was free in time", e);
        }
        catch (Core.StoreUnavailableException e)
        {
            return HealthCheckResult.Unhealthy("the database could not be reached", e);
        }
        catch (Exception e) when (ServerStorage.IsDatabaseFailure(e))
        {
            // The response is anonymous: say what failed, not the file's path, the server's address or the engine's message.
            return HealthCheckResult.Unhealthy("the database did not answer", e);
        }
    }
}
