using PromptVault.Core.Storage;
using PromptVault.Storage;
using PromptVault.Storage.Sqlite;

namespace Microsoft.Extensions.DependencyInjection;

public static class SqliteServiceCollectionExtensions
{
    /// <summary>
    /// Stores prompts, API keys, experiments and metrics in the SQLite file <paramref name="databasePath"/>: registers
    /// <see cref="SqliteConnectionFactory"/>, <see cref="SqliteDatabase"/> and <see cref="SqlitePromptStore"/> as <see cref="IPromptStore"/>,
    /// <see cref="IApiKeyStore"/>, <see cref="IExperimentStore"/>, <see cref="IMetricStore"/> and <see cref="IIdempotencyStore"/> and <see cref="IRegistryArchiveStore"/>, all singletons.
    /// </summary>
    /// <remarks>Migrate at startup, before serving: <c>await app.Services.GetRequiredService&lt;SqliteDatabase&gt;().MigrateAsync();</c></remarks>
    public static IServiceCollection AddPromptVaultSqlite(this IServiceCollection services, string databasePath)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(databasePath);

        // Made by the container, so the container disposes it (closing the pooled connections) when the host stops.
        services.AddSingleton(_ => new SqliteConnectionFactory(databasePath));
        services.AddSingleton<SqliteDatabase>();
        services.AddStoreContracts<SqlitePromptStore>();
        return services;
    }
}
