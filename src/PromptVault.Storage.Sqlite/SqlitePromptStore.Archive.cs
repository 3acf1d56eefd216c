using Dapper;
using Microsoft.Data.Sqlite;
using PromptVault.Core;
using PromptVault.Core.Storage;

namespace PromptVault.Storage.Sqlite;

public sealed partial class SqlitePromptStore : IRegistryArchiveStore
{
    public Task ExportAsync(IRegistryArchiveWriter writer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(writer);
        return WithConnectionAsync(async connection =>
        {
            // A deferred transaction reads every section from the snapshot its first read takes (WAL): writes that commit
            // meanwhile are not seen, and do not wait.
            using var transaction = connection.BeginTransaction(deferred: true);
            foreach (var section in RegistryArchiveSchema.Sections)
            {
                await writer.BeginSectionAsync(section, cancellationToken);
                await using var command = connection.CreateCommand();
                command.Transaction = transaction;
                command.CommandText = ArchiveTables.SelectAll(section, "rowid");
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                var values = new object?[section.Columns.Count];
                while (await reader.ReadAsync(cancellationToken))
                {
                    for (var i = 0; i < values.Length; i++)
                        values[i] = reader.IsDBNull(i) ? null : Read(reader, i, section.Columns[i].Kind);
                    await writer.WriteRowAsync(values, cancellationToken);
                }
                await writer.EndSectionAsync(section, cancellationToken);
            }
            return true;
        }, cancellationToken);
    }

    public Task<RegistryImportReport> ImportAsync(RegistryArchive archive, bool merge, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(archive);
        return WriteAsync(async (connection, transaction) =>
        {
            RegistryImportReport report;
            if (merge)
            {
                var names = (await connection.QueryAsync<string>(Command("SELECT name FROM prompts", null, cancellationToken, transaction))).ToHashSet();
                var keys = (await connection.QueryAsync<string>(Command("SELECT id FROM api_keys UNION ALL SELECT key_hash FROM api_keys", null, cancellationToken, transaction)))
                    .ToHashSet();
                (archive, report) = RegistryMerge.Plan(archive, names, keys);
            }
            else
            {
                await RefuseUnlessEmptyAsync(connection, transaction, cancellationToken);
                var replacedAudit = await connection.ExecuteAsync(Command("DELETE FROM audit", null, cancellationToken, transaction));
                var replacedKeys = await connection.ExecuteAsync(Command("DELETE FROM api_keys", null, cancellationToken, transaction));
                report = ArchiveTables.FullImportReport(archive, replacedKeys, replacedAudit);
            }
            foreach (var section in RegistryArchiveSchema.Sections)
                await InsertAsync(connection, transaction, section, archive[section], cancellationToken);
            return report;
        }, cancellationToken);
    }

    private static async Task RefuseUnlessEmptyAsync(SqliteConnection connection, SqliteTransaction transaction, CancellationToken cancellationToken)
    {
        var held = await connection.QuerySingleAsync<(long Prompts, long Experiments, long Events)>(Command(
            "SELECT (SELECT COUNT(*) FROM prompts), (SELECT COUNT(*) FROM experiments), (SELECT COUNT(*) FROM metric_events)",
            null, cancellationToken, transaction));
        if (held is { Prompts: 0, Experiments: 0, Events: 0 }) return;
        throw ArchiveTables.NotEmpty(held.Prompts, held.Experiments, held.Events);
    }

    private static async Task InsertAsync(SqliteConnection connection, SqliteTransaction transaction, ArchiveSection section, IReadOnlyList<object?[]> rows,
        CancellationToken cancellationToken)
    {
        if (rows.Count == 0) return;
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"INSERT INTO {ArchiveTables.TableName(section)} ({string.Join(", ", section.Columns.Select(ArchiveTables.ColumnName))}) " +
            $"VALUES ({string.Join(", ", section.Columns.Select((_, i) => "$p" + i))})";
        var parameters = section.Columns.Select((_, i) => command.Parameters.Add(new SqliteParameter("$p" + i, null))).ToArray();
        for (var row = 0; row < rows.Count; row++)
        {
            for (var i = 0; i < parameters.Length; i++)
                parameters[i].Value = rows[row][i] switch { null => DBNull.Value, bool b => b ? 1L : 0L, var value => value };
            try
            {
                await command.ExecuteNonQueryAsync(cancellationToken);
            }
            catch (SqliteException e) when (SqliteErrors.IsForeignKeyViolation(e))
            {
                throw ArchiveTables.InvalidReference(section, row);
            }
            catch (SqliteException e) when (SqliteErrors.IsPrimaryKeyViolation(e) || SqliteErrors.IsUniqueViolation(e))
            {
                throw ArchiveTables.Collision(section, row, e.Message);
            }
        }
    }

    private static object Read(SqliteDataReader reader, int ordinal, ArchiveValueKind kind) => kind switch
    {
        ArchiveValueKind.Integer => reader.GetInt64(ordinal),
        ArchiveValueKind.Real => reader.GetDouble(ordinal),
        ArchiveValueKind.Boolean => reader.GetInt64(ordinal) != 0,
        ArchiveValueKind.Blob => reader.GetFieldValue<byte[]>(ordinal),
        _ => reader.GetString(ordinal),
    };
}
