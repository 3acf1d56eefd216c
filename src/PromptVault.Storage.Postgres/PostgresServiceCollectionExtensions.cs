using Npgsql;
using PromptVault.Core.Storage;
using PromptVault.Storage;
using PromptVault.Storage.Postgres;

namespace Microsoft.Extensions.DependencyInjection;

public static class PostgresServiceCollectionExtensions
{
    /// <summary>
    /// Stores prompts, API keys, experiments and metrics in the PostgreSQL database of <paramref name="connectionString"/>
    /// (an Npgsql connection string): registers one <see cref="NpgsqlDataSource"/>, <see cref="PostgresDatabase"/> and
    /// <see cref="PostgresPromptStore"/> as <see cref="IPromptStore"/>, <see cref="IApiKeyStore"/>, <see cref="IExperimentStore"/>,
    /// <see cref="IMetricStore"/>, <see cref="IIdempotencyStore"/> and <see cref="IRegistryArchiveStore"/>, all singletons.
    /// </summary>
    /// <remarks>Migrate at startup, before serving: <c>await app.Services.GetRequiredService&lt;PostgresDatabase&gt;().MigrateAsync();</c></remarks>
    public static IServiceCollection AddPromptVaultPostgres(this IServiceCollection services, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);

        services.AddSingleton(_ => PostgresDataSource.Create(connectionString));
        services.AddSingleton<PostgresDatabase>();
        services.AddStoreContracts<PostgresPromptStore>();
        return services;
    }
}
