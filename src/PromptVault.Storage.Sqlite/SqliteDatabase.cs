using Dapper;

namespace PromptVault.Storage.Sqlite;

/// <summary>
/// The schema of a PromptVault SQLite database. <see cref="MigrateAsync"/> applies, in order, the numbered scripts in
/// <c>Migrations/</c> (<c>001_initial.sql</c>, ...) that the database has not run yet, recording each in <c>schema_migrations</c>.
/// </summary>
/// <remarks>Call <see cref="MigrateAsync"/> once at startup, before the store is used. Thread-safe; concurrent callers, even in other processes, apply each script once.</remarks>
public sealed class SqliteDatabase(SqliteConnectionFactory connections)
{
    private const string CreateHistory = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version    INTEGER NOT NULL PRIMARY KEY,
            name       TEXT NOT NULL,
            applied_at TEXT NOT NULL
        ) STRICT;
        """;

    /// <summary>Applies the scripts the database has not run yet; each in its own transaction.</summary>
    /// <returns>How many scripts were applied: 0 when the schema was up to date.</returns>
    /// <exception cref="InvalidOperationException">The database was migrated by a newer PromptVault.</exception>
    /// <exception cref="UnauthorizedAccessException">SQLite opened the file read-only (its permissions, a read-only mount).</exception>
    public Task<int> MigrateAsync(CancellationToken cancellationToken = default) => MigrateAsync(int.MaxValue, cancellationToken);

    /// <summary>The same, up to and including script <paramref name="throughVersion"/> (a test's database as an older PromptVault left it).</summary>
    internal async Task<int> MigrateAsync(int throughVersion, CancellationToken cancellationToken)
    {
        var scripts = Scripts();
        await using var connection = await connections.OpenAsync(cancellationToken);
        // Refused at the start, so a server does not serve a file it cannot write (one that turns read-only later answers 503 store_read_only to writes).
        if (SqliteConnectionFactory.IsReadOnly(connection))
            throw new UnauthorizedAccessException(
                $"the database file {connections.DatabasePath} is read-only: PromptVault must be able to write it, and to create and write its -wal and -shm files beside it.");
        await connection.ExecuteAsync(new CommandDefinition(CreateHistory, cancellationToken: cancellationToken));

        var newest = await connection.ExecuteScalarAsync<int?>(
            new CommandDefinition("SELECT MAX(version) FROM schema_migrations", cancellationToken: cancellationToken));
        if (newest > scripts[^1].Version)
            throw MigrationScripts.NewerThanKnown(connections.DatabasePath, newest.Value, scripts[^1].Version);

        var applied = 0;
        foreach (var script in scripts.Where(s => s.Version <= throughVersion))
        {
            // BEGIN IMMEDIATE: a second process migrating at the same time waits here, then sees the script as applied.
            using var transaction = connection.BeginTransaction();
            var done = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                "SELECT COUNT(*) FROM schema_migrations WHERE version = @Version", new { script.Version }, transaction, cancellationToken: cancellationToken));
            if (done > 0) continue;

            await connection.ExecuteAsync(new CommandDefinition(script.Sql, transaction: transaction, cancellationToken: cancellationToken));
            await connection.ExecuteAsync(new CommandDefinition("""
                INSERT INTO schema_migrations (version, name, applied_at)
                VALUES (@Version, @Name, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                """, new { script.Version, script.Name }, transaction, cancellationToken: cancellationToken));
            transaction.Commit();
            applied++;
        }
        return applied;
    }

    /// <summary>The embedded migration scripts, by version.</summary>
    internal static IReadOnlyList<MigrationScript> Scripts() => MigrationScripts.Load(typeof(SqliteDatabase).Assembly);
}
