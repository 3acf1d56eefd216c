using System.Globalization;
using Dapper;

namespace PromptVault.Storage.Sqlite;

/// <summary>
/// The schema of a PromptVault SQLite database. <see cref="MigrateAsync"/> applies, in order, the numbered scripts in
/// <c>Migrations/</c> (<c>001_initial.sql</c>, ...) that the database has not run yet, recording each in <c>schema_migrations</c>.
/// </summary>
/// <remarks>Call <see cref="MigrateAsync"/> once at startup, before the store is used. Thread-safe; concurrent callers, even in other processes, apply each script once.</remarks>
public sealed class SqliteDatabase(SqliteConnectionFactory connections)
{
    private const string ResourceFolder = ".Migrations.";

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
    public async Task<int> MigrateAsync(CancellationToken cancellationToken = default)
    {
        var scripts = Scripts();
        await using var connection = await connections.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(CreateHistory, cancellationToken: cancellationToken));

        var newest = await connection.ExecuteScalarAsync<int?>(
            new CommandDefinition("SELECT MAX(version) FROM schema_migrations", cancellationToken: cancellationToken));
        if (newest > scripts[^1].Version)
            throw new InvalidOperationException(
                $"The database {connections.DatabasePath} has schema version {newest}, newer than this PromptVault knows ({scripts[^1].Version}); upgrade PromptVault.");

        var applied = 0;
        foreach (var script in scripts)
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
    internal static IReadOnlyList<MigrationScript> Scripts()
    {
        var assembly = typeof(SqliteDatabase).Assembly;
        var scripts = new List<MigrationScript>();
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            var folder = resource.IndexOf(ResourceFolder, StringComparison.Ordinal);
            if (folder < 0 || !resource.EndsWith(".sql", StringComparison.Ordinal)) continue;

            var name = resource[(folder + ResourceFolder.Length)..^".sql".Length];
            var digits = name.Split('_')[0];
            if (!int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var version))
                throw new InvalidOperationException($"Migration script '{resource}' must start with its number, e.g. 002_add_x.sql.");

            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            scripts.Add(new MigrationScript(version, name, reader.ReadToEnd()));
        }
        scripts.Sort((a, b) => a.Version.CompareTo(b.Version));
        for (var i = 0; i < scripts.Count; i++)
        {
            if (scripts[i].Version != i + 1)
                throw new InvalidOperationException($"Migration scripts must be numbered 1, 2, 3, ... without gaps or repeats; found {string.Join(", ", scripts.Select(s => s.Name))}.");
        }
        return scripts;
    }
}

internal sealed record MigrationScript(int Version, string Name, string Sql);
