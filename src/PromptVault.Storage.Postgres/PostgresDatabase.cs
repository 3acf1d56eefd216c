using Dapper;
using Npgsql;

namespace PromptVault.Storage.Postgres;

/// <summary>
/// The schema of a PromptVault PostgreSQL database. <see cref="MigrateAsync"/> applies, in order, the numbered scripts in
/// <c>Migrations/</c> (<c>001_initial.sql</c>, ...) that the database has not run yet, recording each in <c>schema_migrations</c>.
/// </summary>
/// <remarks>
/// Call <see cref="MigrateAsync"/> once at startup, before the store is used. Safe when several instances start at once:
/// the whole migration is one transaction holding an advisory lock, so the others wait, then find every script applied.
/// </remarks>
public sealed class PostgresDatabase(NpgsqlDataSource dataSource)
{
    /// <summary>The advisory lock of the migration (any constant other code does not use; "PVMIGRAT" in ASCII).</summary>
    internal const long MigrationLock = 0x50564D4947524154;

    // Created only when missing: CREATE TABLE IF NOT EXISTS needs the schema's CREATE privilege even when the table
    // exists, which a restored database's own role may lack (its tables are the role's, the schema the admin's).
    private const string CreateHistory = """
        CREATE TABLE schema_migrations (
            version    integer NOT NULL PRIMARY KEY,
            name       text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        )
        """;

    /// <summary>Applies the scripts the database has not run yet, all in one transaction.</summary>
    /// <returns>How many scripts were applied: 0 when the schema was up to date.</returns>
    /// <exception cref="InvalidOperationException">
    /// The database was migrated by a newer PromptVault, or refuses the role a privilege the migration needs (the message
    /// names the role, the database and what to grant), or refuses a connection at its connection limit (the message gives
    /// PostgreSQL's words and the same advice as a refusal while running). Each wraps PostgreSQL's exception.
    /// </exception>
    public async Task<int> MigrateAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        try
        {
            return await MigrateAsync(connection, cancellationToken);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
            // PostgreSQL 15 no longer lets every role create in the public schema: a database made by an admin (createdb, a
            // restore) without giving it to the servers' role fails here, and PostgreSQL's message names no way out.
            var (role, database) = (connection.UserName, connection.Database);
            // serve and admin-key put the database's description before the message (ServerStorage.IsDatabaseFailure).
            throw new InvalidOperationException($"role '{role}' may not create or read PromptVault's tables here ({e.SqlState}: {e.MessageText}): "
                + $"the servers' role must own its database and tables; run 'ALTER DATABASE {database} OWNER TO {role}', or create the "
                + $"database with 'createdb -O {role} {database}' (docs/deployment.md).", e);
        }
    }

    private async Task<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await dataSource.OpenConnectionAsync(cancellationToken);
        }
        catch (PostgresException e) when (PostgresErrors.IsConnectionLimitReached(e))
        {
            throw new InvalidOperationException($"{e.SqlState}: {e.MessageText}: {PostgresErrors.ConnectionLimitAdvice}.", e);
        }
    }

    private static async Task<int> MigrateAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var scripts = Scripts();
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // Taken before anything else, even the history table's creation, which two sessions cannot do at once.
        await connection.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_xact_lock(@MigrationLock)", new { MigrationLock }, transaction,
            cancellationToken: cancellationToken));
        if (await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
                "SELECT to_regclass('schema_migrations') IS NULL", transaction: transaction, cancellationToken: cancellationToken)))
            await connection.ExecuteAsync(new CommandDefinition(CreateHistory, transaction: transaction, cancellationToken: cancellationToken));

        var newest = await connection.ExecuteScalarAsync<int?>(new CommandDefinition(
            "SELECT MAX(version) FROM schema_migrations", transaction: transaction, cancellationToken: cancellationToken)) ?? 0;
        if (newest > scripts[^1].Version)
            throw MigrationScripts.NewerThanKnown(connection.Database, newest, scripts[^1].Version);

        var pending = scripts.Where(s => s.Version > newest).ToList();
        foreach (var script in pending)
        {
            await connection.ExecuteAsync(new CommandDefinition(script.Sql, transaction: transaction, cancellationToken: cancellationToken));
            await connection.ExecuteAsync(new CommandDefinition("INSERT INTO schema_migrations (version, name) VALUES (@Version, @Name)",
                new { script.Version, script.Name }, transaction, cancellationToken: cancellationToken));
        }
        await transaction.CommitAsync(cancellationToken);
        return pending.Count;
    }

    /// <summary>Asks the database a question on its schema (the health check).</summary>
    /// <exception cref="TimeoutException">Every pooled connection stayed in use: the database is reachable, this server busy.</exception>
    /// <exception cref="Core.StoreUnavailableException">The database could not be reached.</exception>
    public async Task ProbeAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await connection.ExecuteScalarAsync<int?>(new CommandDefinition("SELECT MAX(version) FROM schema_migrations", cancellationToken: cancellationToken));
        }
        catch (NpgsqlException e) when (PostgresPromptStore.ConnectionTrouble(e) is { } trouble)
        {
            throw trouble;
        }
    }

    /// <summary>The embedded migration scripts, by version.</summary>
    internal static IReadOnlyList<MigrationScript> Scripts() => MigrationScripts.Load(typeof(PostgresDatabase).Assembly);
}
