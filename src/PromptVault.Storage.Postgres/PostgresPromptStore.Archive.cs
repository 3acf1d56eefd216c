using Dapper;
using Npgsql;
using NpgsqlTypes;
using PromptVault.Core.Audit;
using PromptVault.Core.Storage;

namespace PromptVault.Storage.Postgres;

public sealed partial class PostgresPromptStore
{
    private const int RowsPerImportBatch = 1_000;

    public override Task<RegistryImportReport> ImportAsync(RegistryArchive archive, bool merge, ImportChecks? checks, AuditEntry audit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(archive);
        return WriteAsync(async (connection, transaction) =>
        {
            // Other writers (of any instance) wait from the checks to the commit, as behind SQLite's write lock; readers do not.
            await connection.ExecuteAsync(Command("LOCK TABLE prompts, experiments, metric_events, api_keys, audit IN EXCLUSIVE MODE",
                null, cancellationToken, transaction));
            return await ArchiveStatements.ImportAsync(connection, transaction, archive, merge, checks, audit,
                (written, section) => InsertAsync(connection, transaction, written, section, cancellationToken), IsAnyOf, cancellationToken);
        }, cancellationToken);
    }

    private async Task InsertAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, RegistryArchive written, ArchiveSection section,
        CancellationToken cancellationToken)
    {
        var rows = written[section];
        var sql = ArchiveStatements.InsertStatement(section, (c, i) => ValueOf(section, c, "$" + (i + 1)));
        var types = section.Columns.Select(c => TypeOf(c.Kind)).ToArray();
        NpgsqlBatchCommand Insert(object?[] row)
        {
            var command = new NpgsqlBatchCommand(sql);
            for (var i = 0; i < types.Length; i++)
                command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = types[i], Value = row[i] ?? DBNull.Value });
            return command;
        }

        // Many rows per round trip: a row per round trip made a large import last minutes.
        for (var start = 0; start < rows.Count; start += RowsPerImportBatch)
        {
            var end = Math.Min(start + RowsPerImportBatch, rows.Count);
            await using var batch = new NpgsqlBatch(connection, transaction);
            for (var row = start; row < end; row++)
                batch.BatchCommands.Add(Insert(rows[row]));
            try
            {
                await batch.ExecuteNonQueryAsync(cancellationToken);
            }
            // The rows before the refused one were inserted, so no savepoint is needed to undo the batch and redo it row by
            // row to find it: a savepoint per batch is a subtransaction, whose id stays in the session's cache until the
            // commit even once released, and past 64 of them the cache overflows: while the import runs, every other
            // session's visibility checks then go through pg_subtrans.
            catch (PostgresException e) when (ArchiveStatements.RowRefused(e, written, section, start + RowsInserted(batch.BatchCommands), Errors) is { } refused)
            {
                throw refused;
            }
        }
        // Audit ids may come from the document: later entries (the import's own first) are numbered after them.
        if (section == RegistryArchiveSchema.Audit)
            await connection.ExecuteAsync(Command("""
                SELECT setval('audit_id_seq', GREATEST(MAX(id), (SELECT last_value FROM audit_id_seq))) FROM audit HAVING MAX(id) IS NOT NULL
                """, null, cancellationToken, transaction));
    }

    /// <summary>
    /// How many rows of a failed batch were inserted before its error: Npgsql counts each command's rows as the server
    /// completes it (it names the failed command itself only when the data source sets <c>Include Failed Batched Command</c>).
    /// </summary>
    private static int RowsInserted(IEnumerable<NpgsqlBatchCommand> commands) => commands.TakeWhile(command => command.RecordsAffected == 1).Count();

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
}
