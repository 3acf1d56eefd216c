using System.Data.Common;
using Microsoft.Extensions.DependencyInjection.Extensions;
using PromptVault.Core.Registry;
using PromptVault.Storage.Postgres;
using PromptVault.Storage.Sqlite;

namespace PromptVault.Server.Hosting;

/// <summary>
/// The one place that chooses the storage engine: a SQLite file (the default) or a PostgreSQL database shared by several
/// servers (docs/deployment.md), and what differs between them: registration, migration, the health probe, and how
/// registry changes are numbered and heard from other servers.
/// </summary>
public static class ServerStorage
{
    /// <summary>The configuration key of the PostgreSQL connection string (environment: <c>PromptVault__Postgres</c>).</summary>
    public const string PostgresKey = "PromptVault:Postgres";

    /// <summary>The environment variable platforms set to a <c>postgresql://</c> URL (Heroku, Render, Fly, ...).</summary>
    public const string DatabaseUrlKey = "DATABASE_URL";

    /// <summary>
    /// Settles where the data lives. Given neither <see cref="ServerOptions.DatabasePath"/> nor <see cref="ServerOptions.Postgres"/>:
    /// the configuration's <c>PromptVault:Postgres</c>, else the environment's <c>DATABASE_URL</c>, else SQLite's default file.
    /// A PostgreSQL setting becomes an Npgsql connection string.
    /// </summary>
    /// <exception cref="InvalidOperationException">Both were given, or a PostgreSQL setting is malformed; the message names which.</exception>
    public static void Resolve(ServerOptions options, IConfiguration configuration)
    {
        if (options.DatabasePath is not null && options.Postgres is not null)
            throw new InvalidOperationException("give a SQLite database file or a PostgreSQL connection string, not both.");
        if (options.Postgres is { } given)
            options.Postgres = ParsePostgres(given, "the PostgreSQL connection string");
        else if (options.DatabasePath is null && configuration[PostgresKey] is { Length: > 0 } configured)
            options.Postgres = ParsePostgres(configured, $"configuration {PostgresKey}");
        else if (options.DatabasePath is null && configuration[DatabaseUrlKey] is { Length: > 0 } url)
            options.Postgres = ParsePostgres(url, DatabaseUrlKey);
        else
            options.DatabasePath = Path.GetFullPath(options.DatabasePath ?? ServerDefaults.DatabasePath);
    }

    /// <summary><see cref="PostgresConnectionString.Parse"/>, its problem prefixed by where the value came from.</summary>
    /// <exception cref="InvalidOperationException">The value is malformed.</exception>
    public static string ParsePostgres(string value, string source)
    {
        try
        {
            return PostgresConnectionString.Parse(value);
        }
        catch (FormatException e)
        {
            throw new InvalidOperationException($"{source}: {e.Message}", e);
        }
    }

    /// <summary>Where the data lives, for people: the SQLite file's path, or PostgreSQL's host and database (no credentials).</summary>
    public static string Describe(ServerOptions options) =>
        options.Postgres is { } postgres ? PostgresConnectionString.Describe(postgres) : $"database {options.DatabasePath}";

    /// <summary>The stores of the engine <paramref name="options"/> name (after <see cref="Resolve"/>), and its <see cref="IRegistryClock"/>.</summary>
    public static IServiceCollection AddPromptVaultStorage(this IServiceCollection services, ServerOptions options)
    {
        if (options.Postgres is { } postgres)
        {
            services.AddPromptVaultPostgres(postgres);
            // Changes made through other servers arrive by LISTEN/NOTIFY; the database's counter numbers the snapshots.
            services.TryAddSingleton<PostgresRegistryChanges>();
            services.AddSingleton<IRegistryClock>(sp => sp.GetRequiredService<PostgresRegistryChanges>());
            services.AddHostedService(sp => sp.GetRequiredService<PostgresRegistryChanges>());
            return services;
        }
        services.AddPromptVaultSqlite(options.DatabasePath ?? ServerDefaults.DatabasePath);
        services.AddSingleton<IRegistryClock, ProcessRegistryClock>();
        return services;
    }

    /// <summary>Creates or upgrades the schema; safe when several servers start on one PostgreSQL database at once.</summary>
    public static Task MigrateAsync(IServiceProvider services, CancellationToken cancellationToken = default) =>
        services.GetService<PostgresDatabase>() is { } postgres
            ? postgres.MigrateAsync(cancellationToken)
            : services.GetRequiredService<SqliteDatabase>().MigrateAsync(cancellationToken);

    /// <summary>Asks the database a question on its schema (the health check).</summary>
    internal static async Task ProbeAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        if (services.GetService<PostgresDatabase>() is { } postgres)
        {
            await postgres.ProbeAsync(cancellationToken);
            return;
        }
        await using var connection = await services.GetRequiredService<SqliteConnectionFactory>().OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT MAX(version) FROM schema_migrations";
        await command.ExecuteScalarAsync(cancellationToken);
    }

    /// <summary>
    /// A database failure at start (<c>serve</c>, <c>admin-key</c>) in one line: its message, and what the network said when
    /// that is an inner exception's. Npgsql's "Failed to connect to 127.0.0.1:5432" alone does not say whether nothing listens
    /// there ("Connection refused") or nothing answers (a timeout): a server that is down, or a firewall.
    /// </summary>
    public static string FailureMessage(Exception e)
    {
        var message = e.Message.ReplaceLineEndings(" ").Trim();
        var innermost = e;
        while (innermost.InnerException is { } inner) innermost = inner;
        return innermost is System.Net.Sockets.SocketException or TimeoutException && !message.Contains(innermost.Message, StringComparison.Ordinal)
            ? $"{message}: {innermost.Message}"
            : message;
    }

    /// <summary>
    /// The failures of a database that is unreachable, refuses, is not one, or is full: both engines' errors derive from
    /// <see cref="DbException"/>; a lock held too long and a full disk are the stores' own exceptions; a refusal a store explains
    /// (PostgreSQL's refusal of the migration to the role, <see cref="PostgresDatabase.MigrateAsync"/>) wraps the database's own.
    /// </summary>
    public static bool IsDatabaseFailure(Exception e) =>
        e is DbException or InvalidOperationException { InnerException: DbException } or IOException or UnauthorizedAccessException or TimeoutException or Core.StoreFullException or Core.StoreReadOnlyException or Core.StoreUnavailableException or System.Net.Sockets.SocketException;
}
