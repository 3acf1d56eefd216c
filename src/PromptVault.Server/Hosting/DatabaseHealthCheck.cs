using Microsoft.Extensions.Diagnostics.HealthChecks;
using PromptVault.Storage.Sqlite;

namespace PromptVault.Server.Hosting;

/// <summary>Healthy when the SQLite database opens and answers a query on its schema.</summary>
internal sealed class DatabaseHealthCheck(SqliteConnectionFactory connections) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var connection = await connections.OpenAsync(cancellationToken);
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT MAX(version) FROM schema_migrations";
            await command.ExecuteScalarAsync(cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception e) when (e is Microsoft.Data.Sqlite.SqliteException or IOException or UnauthorizedAccessException or TimeoutException)
        {
            // The response is anonymous: say what failed, not the file's path or SQLite's message.
            return HealthCheckResult.Unhealthy("the database did not answer", e);
        }
    }
}
