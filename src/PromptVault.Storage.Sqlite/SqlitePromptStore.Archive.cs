using System.Text;
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
                command.CommandText = $"SELECT {string.Join(", ", section.Columns.Select(ColumnName))} FROM {TableName(section)} ORDER BY {OrderOf(section)}";
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
                report = new RegistryImportReport(false, RegistryArchiveSchema.Sections.ToDictionary(s => s.Name, s => archive[s].Count),
                    archive[RegistryArchiveSchema.Prompts].Select(r => (string)r[RegistryArchiveSchema.Prompts.IndexOf("name")]!).Order(StringComparer.Ordinal).ToList(),
                    [], [], 0, replacedKeys, replacedAudit);
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
        throw new ConflictException("registry_not_empty",
            $"The registry is not empty: it holds {held.Prompts} prompt(s), {held.Experiments} experiment(s) and {held.Events} metric event(s). " +
            "Import into a new server, or merge by prompt name (--merge, ?merge=true), which adds only the prompts it does not have.");
    }

    private static async Task InsertAsync(SqliteConnection connection, SqliteTransaction transaction, ArchiveSection section, IReadOnlyList<object?[]> rows,
        CancellationToken cancellationToken)
    {
        if (rows.Count == 0) return;
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"INSERT INTO {TableName(section)} ({string.Join(", ", section.Columns.Select(ColumnName))}) " +
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
                throw new InvalidInputException("import_invalid_reference",
                    $"$.{section.Name}[{row}] refers to a prompt, version or experiment that is neither in the document nor stored.", $"$.{section.Name}[{row}]");
            }
            catch (SqliteException e) when (SqliteErrors.IsPrimaryKeyViolation(e) || SqliteErrors.IsUniqueViolation(e))
            {
                throw new ConflictException("import_conflict",
                    $"$.{section.Name}[{row}] collides with a row already stored or earlier in the document ({e.Message}); nothing was imported.", $"$.{section.Name}[{row}]");
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

    /// <summary>The table of a section: its name in snake case (<c>exposureCounts</c> is <c>exposure_counts</c>).</summary>
    internal static string TableName(ArchiveSection section) => SnakeCase(section.Name);

    internal static string ColumnName(ArchiveColumn column) => column.Name switch
    {
        "before" or "after" => column.Name + "_json",
        _ => SnakeCase(column.Name),
    };

    /// <summary>The primary key, so every export of the same data is the same; metric events have none but their insertion order.</summary>
    private static string OrderOf(ArchiveSection section) => section.Name switch
    {
        "prompts" or "versions" or "experiments" or "apiKeys" or "audit" => "id",
        "labels" => "prompt_id, name",
        "exposures" or "unitSums" => "experiment_id, unit_id, variant_id",
        "exposureCounts" or "variantUnitStats" => "experiment_id, variant_id",
        "sequentialStates" => "experiment_id",
        "sequentialHistory" => "experiment_id, variant_id, metric, at",
        "metricRollups" => "scope, scope_id, hour, variant_id",
        _ => "rowid",
    };

    private static string SnakeCase(string name)
    {
        var builder = new StringBuilder(name.Length + 4);
        foreach (var c in name)
        {
            if (char.IsUpper(c)) builder.Append('_').Append(char.ToLowerInvariant(c));
            else builder.Append(c);
        }
        return builder.ToString();
    }
}
