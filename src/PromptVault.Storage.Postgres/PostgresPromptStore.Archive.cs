using System.Data;
using Dapper;
using Npgsql;
using NpgsqlTypes;
using PromptVault.Core.Storage;

namespace PromptVault.Storage.Postgres;

public sealed partial class PostgresPromptStore : IRegistryArchiveStore
{
    /// <summary>The tables an import checks and fills: locked against writes (not reads) for its transaction, as SQLite's write lock does.</summary>
    private const string LockForImport = "LOCK TABLE prompts, experiments, metric_events, api_keys, audit IN EXCLUSIVE MODE";

    public Task ExportAsync(IRegistryArchiveWriter writer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(writer);
        // One repeatable-read transaction: every section comes from the same snapshot while writes go on.
        return ReadSnapshotAsync(async (connection, transaction) =>
        {
            foreach (var section in RegistryArchiveSchema.Sections)
            {
                await writer.BeginSectionAsync(section, cancellationToken);
                await using var command = new NpgsqlCommand(ArchiveTables.SelectAll(section, "seq"), connection, transaction);
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
            await connection.ExecuteAsync(Command(LockForImport, null, cancellationToken, transaction));
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
            // Audit ids came from the document: new entries must be numbered after them.
            await connection.ExecuteAsync(Command("""
                SELECT setval('audit_id_seq', GREATEST(MAX(id), (SELECT last_value FROM audit_id_seq))) FROM audit HAVING MAX(id) IS NOT NULL
                """, null, cancellationToken, transaction));
            return report;
        }, cancellationToken);
    }

    private static async Task RefuseUnlessEmptyAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        var held = await connection.QuerySingleAsync<(long Prompts, long Experiments, long Events)>(Command(
            "SELECT (SELECT COUNT(*) FROM prompts), (SELECT COUNT(*) FROM experiments), (SELECT COUNT(*) FROM metric_events)",
            null, cancellationToken, transaction));
        if (held is { Prompts: 0, Experiments: 0, Events: 0 }) return;
        throw ArchiveTables.NotEmpty(held.Prompts, held.Experiments, held.Events);
    }

    private static async Task InsertAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, ArchiveSection section, IReadOnlyList<object?[]> rows,
        CancellationToken cancellationToken)
    {
        if (rows.Count == 0) return;
        await using var command = new NpgsqlCommand(
            $"INSERT INTO {ArchiveTables.TableName(section)} ({string.Join(", ", section.Columns.Select(ArchiveTables.ColumnName))}) " +
            $"VALUES ({string.Join(", ", section.Columns.Select((c, i) => ValueOf(section, c, "$" + (i + 1))))})", connection, transaction);
        var parameters = section.Columns.Select(c => command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = TypeOf(c.Kind) })).ToArray();
        await command.PrepareAsync(cancellationToken);
        for (var row = 0; row < rows.Count; row++)
        {
            for (var i = 0; i < parameters.Length; i++)
                parameters[i].Value = rows[row][i] ?? DBNull.Value;
            try
            {
                await command.ExecuteNonQueryAsync(cancellationToken);
            }
            catch (PostgresException e) when (PostgresErrors.IsForeignKeyViolation(e))
            {
                throw ArchiveTables.InvalidReference(section, row);
            }
            catch (PostgresException e) when (PostgresErrors.IsUniqueViolation(e))
            {
                throw ArchiveTables.Collision(section, row, e.MessageText);
            }
        }
    }

    /// <summary>A merge's audit entries come without ids (<see cref="RegistryMerge.Plan"/>): they are numbered here.</summary>
    private static string ValueOf(ArchiveSection section, ArchiveColumn column, string parameter) =>
        section == RegistryArchiveSchema.Audit && column.Name == "id" ? $"COALESCE({parameter}, nextval('audit_id_seq'))" : parameter;

    private static NpgsqlDbType TypeOf(ArchiveValueKind kind) => kind switch
    {
        ArchiveValueKind.Integer => NpgsqlDbType.Bigint,
        ArchiveValueKind.Real => NpgsqlDbType.Double,
        ArchiveValueKind.Boolean => NpgsqlDbType.Boolean,
        ArchiveValueKind.Blob => NpgsqlDbType.Bytea,
        _ => NpgsqlDbType.Text,
    };

    private static object Read(NpgsqlDataReader reader, int ordinal, ArchiveValueKind kind) => kind switch
    {
        ArchiveValueKind.Integer => reader.GetInt64(ordinal),
        ArchiveValueKind.Real => reader.GetDouble(ordinal),
        ArchiveValueKind.Boolean => reader.GetBoolean(ordinal),
        ArchiveValueKind.Blob => reader.GetFieldValue<byte[]>(ordinal),
        _ => reader.GetString(ordinal),
    };
}
