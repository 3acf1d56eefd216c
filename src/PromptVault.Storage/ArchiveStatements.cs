using System.Data.Common;
using System.Text;
using Dapper;
using PromptVault.Core;
using PromptVault.Core.Audit;
using PromptVault.Core.Storage;
using static PromptVault.Storage.RegistryStatements;

namespace PromptVault.Storage;

/// <summary>
/// Export and import of the whole registry (<see cref="IRegistryArchiveStore"/>) in the SQL both engines run, on the caller's
/// connection and transaction, with where each archive section lives in the schema both share.
/// </summary>
internal static class ArchiveStatements
{
    /// <summary>Streams every section, each in <see cref="OrderOf"/>, to <paramref name="writer"/>.</summary>
    /// <param name="read">Reads a non-null column as the archive carries it.</param>
    public static async Task ExportAsync(DbConnection connection, DbTransaction transaction, IRegistryArchiveWriter writer, string insertionOrder,
        CancellationToken cancellationToken)
    {
        foreach (var section in RegistryArchiveSchema.Sections)
        {
            await writer.BeginSectionAsync(section, cancellationToken);
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = $"SELECT {string.Join(", ", section.Columns.Select(ColumnName))} FROM {TableName(section)} ORDER BY {OrderOf(section, insertionOrder)}";
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
    }

    // SQLite stores booleans as integers; its reader's GetBoolean reads them as PostgreSQL's reads booleans.
    private static object Read(DbDataReader reader, int ordinal, ArchiveValueKind kind) => kind switch
    {
        ArchiveValueKind.Integer => reader.GetInt64(ordinal),
        ArchiveValueKind.Real => reader.GetDouble(ordinal),
        ArchiveValueKind.Boolean => reader.GetBoolean(ordinal),
        ArchiveValueKind.Blob => reader.GetFieldValue<byte[]>(ordinal),
        _ => reader.GetString(ordinal),
    };

    /// <summary>Imports <paramref name="archive"/> as <see cref="IRegistryArchiveStore.ImportAsync"/> says, in the caller's transaction,
    /// which must keep other writers out from the first read to the commit.</summary>
    /// <param name="insert">Writes one section's rows of the archive it is given (what the import writes) with the engine's statement.</param>
    /// <param name="isAnyOf">The engine's condition that a column is one of an array parameter (column, parameter).</param>
    public static async Task<RegistryImportReport> ImportAsync(DbConnection connection, DbTransaction transaction, RegistryArchive archive, bool merge,
        ImportChecks? checks, AuditEntry audit, Func<RegistryArchive, ArchiveSection, Task> insert, Func<string, string, string> isAnyOf,
        CancellationToken cancellationToken)
    {
        RegistryImportReport report;
        if (merge)
        {
            // Only the document's names are looked up: which of them are taken is all the merge needs.
            var nameColumn = RegistryArchiveSchema.Prompts.IndexOf("name");
            var names = await FindPromptNamesAsync(connection, transaction, archive[RegistryArchiveSchema.Prompts].Select(r => (string)r[nameColumn]!).Distinct(StringComparer.Ordinal),
                isAnyOf, cancellationToken);
            var keys = await FindKeysAsync(connection, transaction, archive, isAnyOf, cancellationToken);
            (archive, report) = RegistryMerge.Plan(archive, names, keys);
            await EnsureNewIdsAsync(connection, transaction, archive, isAnyOf, cancellationToken);
            if (checks is not null && !checks.AddedPrompts.SetEquals(report.AddedPrompts))
                throw new ConcurrentWriteException("the prompts a merge adds changed since its include checks: a prompt of a name it adds was created.");
        }
        else
        {
            var held = await connection.QuerySingleAsync<(long Prompts, long Experiments, long Events)>(Command(
                "SELECT (SELECT COUNT(*) FROM prompts), (SELECT COUNT(*) FROM experiments), (SELECT COUNT(*) FROM metric_events)",
                null, cancellationToken, transaction));
            if (held is not { Prompts: 0, Experiments: 0, Events: 0 })
                throw NotEmpty(held.Prompts, held.Experiments, held.Events);
            var replacedAudit = await connection.ExecuteAsync(Command("DELETE FROM audit", null, cancellationToken, transaction));
            var replacedKeys = await connection.ExecuteAsync(Command("DELETE FROM api_keys", null, cancellationToken, transaction));
            report = FullImportReport(archive, replacedKeys, replacedAudit);
        }
        if (checks is not null)
            await AdvanceIncludeGenerationAsync(connection, transaction, checks.IncludeGeneration, cancellationToken);
        EnsureFirstExposuresOnly(archive);
        foreach (var section in RegistryArchiveSchema.Sections)
        {
            if (archive[section].Count > 0)
                await insert(archive, section);
        }
        var imported = ImportedAudit(audit, report, archive);
        await InsertAuditAsync(connection, transaction, imported, cancellationToken);
        await WebhookStatements.EnqueueImportedLabelsAsync(connection, transaction, imported, report.AddedPrompts, isAnyOf, cancellationToken);
        return report;
    }

    /// <summary>
    /// Refuses a merge that would add a row whose id the registry holds (a prompt stored under another name, or a version,
    /// experiment, evaluation run or metric event of another prompt): the two are not the same row, and a key would refuse it
    /// with the engine's words.
    /// </summary>
    /// <param name="added">The rows the merge writes (<see cref="RegistryMerge.Plan"/>).</param>
    private static async Task EnsureNewIdsAsync(DbConnection connection, DbTransaction transaction, RegistryArchive added,
        Func<string, string, string> isAnyOf, CancellationToken cancellationToken)
    {
        foreach (var section in new[] { RegistryArchiveSchema.Prompts, RegistryArchiveSchema.Versions, RegistryArchiveSchema.Experiments,
                     RegistryArchiveSchema.EvaluationRuns, RegistryArchiveSchema.MetricEvents })
        {
            var id = section.IndexOf("id");
            var stored = await FindValuesAsync(connection, transaction, TableName(section), "id",
                added[section].Select(r => r[id]).OfType<string>(), isAnyOf, cancellationToken);
            if (stored.Count == 0) continue;
            var row = added[section].ToList().FindIndex(r => r[id] is string value && stored.Contains(value));
            var path = $"{added.PathOf(section, row)}.id";
            throw new ConflictException("import_conflict",
                $"{path} '{added[section][row][id]}' is the id of a row of {section.Name} the registry already holds, of another prompt: a merge adds each prompt it does not have by name, " +
                "with its ids, and never changes a stored row; nothing was imported.", path);
        }
    }

    /// <summary>Of the document's API keys, the ids and hashes the store holds: which keys the merge leaves out.</summary>
    private static async Task<HashSet<string>> FindKeysAsync(DbConnection connection, DbTransaction transaction, RegistryArchive archive,
        Func<string, string, string> isAnyOf, CancellationToken cancellationToken)
    {
        var keys = RegistryArchiveSchema.ApiKeys;
        int id = keys.IndexOf("id"), hash = keys.IndexOf("keyHash");
        var found = await FindValuesAsync(connection, transaction, "api_keys", "id", archive[keys].Select(r => (string)r[id]!), isAnyOf, cancellationToken);
        found.UnionWith(await FindValuesAsync(connection, transaction, "api_keys", "key_hash", archive[keys].Select(r => (string)r[hash]!), isAnyOf, cancellationToken));
        return found;
    }

    /// <summary>The import's own audit entry: what it added, by prompt name and key id (never a key's hash), and how many rows of each
    /// section it wrote (<c>prompts=2,versions=7,...</c>, sections it wrote none of left out).</summary>
    private static AuditEntry ImportedAudit(AuditEntry audit, RegistryImportReport report, RegistryArchive written)
    {
        var keyId = RegistryArchiveSchema.ApiKeys.IndexOf("id");
        var after = new Dictionary<string, string?>(audit.After ?? new Dictionary<string, string?>())
        {
            ["prompts"] = string.Join(',', report.AddedPrompts),
            ["apiKeys"] = string.Join(',', written[RegistryArchiveSchema.ApiKeys].Select(r => (string)r[keyId]!)),
            ["counts"] = string.Join(',', RegistryArchiveSchema.Sections.Select(s => (s.Name, Count: report.Counts.GetValueOrDefault(s.Name)))
                .Where(s => s.Count > 0).Select(s => $"{s.Name}={s.Count}")),
        };
        return audit with { After = after };
    }

    /// <summary>
    /// Refuses a document that exposes one unit twice in an experiment. The stored exposures of its experiments can only be
    /// its own (an experiment it shares with the registry collides first), and SQLite's exposures have no key to refuse
    /// the second (migration 012), so the rule is checked here, for both engines, with the error a key would give.
    /// </summary>
    private static void EnsureFirstExposuresOnly(RegistryArchive archive)
    {
        var section = RegistryArchiveSchema.Exposures;
        int experiment = section.IndexOf("experimentId"), unit = section.IndexOf("unitId");
        var seen = new HashSet<(string, string)>();
        var rows = archive[section];
        for (var row = 0; row < rows.Count; row++)
        {
            if (seen.Add(((string)rows[row][experiment]!, (string)rows[row][unit]!))) continue;
            var path = archive.PathOf(section, row);
            throw new ConflictException("import_conflict",
                $"{path} collides with a row earlier in the document: unit '{rows[row][unit]}' is exposed twice in experiment '{rows[row][experiment]}'; nothing was imported.",
                path);
        }
    }

    /// <summary>What an import's refused row (<paramref name="row"/> of the section of <paramref name="written"/>) becomes, naming it
    /// where the document has it; null when the error is not about the row.</summary>
    /// <returns><c>import_invalid_reference</c> when it refers to a row neither stored nor earlier in the archive;
    /// <c>import_conflict</c> when it collides with a stored row or an earlier one.</returns>
    public static PromptVaultException? RowRefused(DbException error, RegistryArchive written, ArchiveSection section, int row, StoreErrors errors)
    {
        var path = written.PathOf(section, row);
        if (errors.IsForeignKeyViolation(error))
            return new InvalidInputException("import_invalid_reference",
                $"{path} refers to a prompt, version or experiment that is neither in the document nor stored.", path);
        if (errors.IsUniqueViolation(error))
            return new ConflictException("import_conflict", $"{path} collides with a row already stored or earlier in the document ({error.Message}); nothing was imported.", path);
        return null;
    }

    /// <summary>The statement inserting one row of a section; <paramref name="valueOf"/> gives each column's value expression.</summary>
    public static string InsertStatement(ArchiveSection section, Func<ArchiveColumn, int, string> valueOf) =>
        $"INSERT INTO {TableName(section)} ({string.Join(", ", section.Columns.Select(ColumnName))}) VALUES ({string.Join(", ", section.Columns.Select(valueOf))})";

    /// <summary>The table of a section: its name in snake case (<c>exposureCounts</c> is <c>exposure_counts</c>).</summary>
    public static string TableName(ArchiveSection section) => SnakeCase(section.Name);

    public static string ColumnName(ArchiveColumn column) => column.Name switch
    {
        "before" or "after" => column.Name + "_json",
        _ => SnakeCase(column.Name),
    };

    /// <summary>The primary key, so every export of the same data is the same; metric events have none but their insertion order.</summary>
    /// <param name="insertionOrder">The engine's column of insertion order (SQLite's rowid).</param>
    private static string OrderOf(ArchiveSection section, string insertionOrder) => section.Name switch
    {
        "prompts" or "versions" or "experiments" or "apiKeys" or "audit" or "evaluationRuns" => "id",
        "versionTests" => "version_id",
        "labels" => "prompt_id, name",
        "exposures" or "unitSums" => "experiment_id, unit_id, variant_id",
        "exposureCounts" or "variantUnitStats" => "experiment_id, variant_id",
        "sequentialStates" => "experiment_id",
        "sequentialHistory" => "experiment_id, variant_id, metric, at",
        "metricRollups" => "scope, scope_id, hour, variant_id",
        _ => insertionOrder,
    };

    /// <summary>What a full import reports: every row of the archive written, and what it replaced.</summary>
    private static RegistryImportReport FullImportReport(RegistryArchive archive, int replacedKeys, int replacedAudit) =>
        new(false, RegistryArchiveSchema.Sections.ToDictionary(s => s.Name, s => archive[s].Count),
            archive[RegistryArchiveSchema.Prompts].Select(r => (string)r[RegistryArchiveSchema.Prompts.IndexOf("name")]!).Order(StringComparer.Ordinal).ToList(),
            [], [], 0, replacedKeys, replacedAudit);

    private static ConflictException NotEmpty(long prompts, long experiments, long events) =>
        new("registry_not_empty",
            $"The registry is not empty: it holds {prompts} prompt(s), {experiments} experiment(s) and {events} metric event(s). " +
            "Import into a new server, or merge by prompt name (--merge, ?merge=true), which adds only the prompts it does not have.");

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
