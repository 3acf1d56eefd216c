using Microsoft.Data.Sqlite;
using PromptVault.Core.Audit;
using PromptVault.Core.Storage;

namespace PromptVault.Storage.Sqlite;

public sealed partial class SqlitePromptStore
{
    public override Task<RegistryImportReport> ImportAsync(RegistryArchive archive, bool merge, ImportChecks? checks, AuditEntry audit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(archive);
        // The write transaction holds SQLite's write lock from its start: no other writer comes between the checks and the rows.
        return WriteAsync((connection, transaction) => ArchiveStatements.ImportAsync(connection, transaction, archive, merge, checks, audit,
            (written, section) => InsertAsync(connection, transaction, written, section, cancellationToken), IsAnyOf, cancellationToken), cancellationToken);
    }

    private async Task InsertAsync(SqliteConnection connection, SqliteTransaction transaction, RegistryArchive written, ArchiveSection section,
        CancellationToken cancellationToken)
    {
        var rows = written[section];
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = ArchiveStatements.InsertStatement(section, (_, i) => "$p" + i);
        var parameters = section.Columns.Select((_, i) => command.Parameters.Add(new SqliteParameter("$p" + i, null))).ToArray();
        for (var row = 0; row < rows.Count; row++)
        {
            for (var i = 0; i < parameters.Length; i++)
                parameters[i].Value = rows[row][i] switch { null => DBNull.Value, bool b => b ? 1L : 0L, var value => value };
            try
            {
                await command.ExecuteNonQueryAsync(cancellationToken);
            }
            catch (SqliteException e) when (ArchiveStatements.RowRefused(e, written, section, row, Errors) is { } refused)
            {
                throw refused;
            }
        }
    }
}
