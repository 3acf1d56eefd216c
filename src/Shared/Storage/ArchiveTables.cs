using System.Text;
using PromptVault.Core;
using PromptVault.Core.Storage;

namespace PromptVault.Storage;

/// <summary>Where each archive section lives in the stores' schema, which both engines share (compiled into each store).</summary>
internal static class ArchiveTables
{
    /// <summary>The table of a section: its name in snake case (<c>exposureCounts</c> is <c>exposure_counts</c>).</summary>
    public static string TableName(ArchiveSection section) => SnakeCase(section.Name);

    public static string ColumnName(ArchiveColumn column) => column.Name switch
    {
        "before" or "after" => column.Name + "_json",
        _ => SnakeCase(column.Name),
    };

    /// <summary>The primary key, so every export of the same data is the same; metric events have none but their insertion order.</summary>
    /// <param name="insertionOrder">The engine's column of insertion order (SQLite's rowid).</param>
    public static string OrderOf(ArchiveSection section, string insertionOrder) => section.Name switch
    {
        "prompts" or "versions" or "experiments" or "apiKeys" or "audit" => "id",
        "labels" => "prompt_id, name",
        "exposures" or "unitSums" => "experiment_id, unit_id, variant_id",
        "exposureCounts" or "variantUnitStats" => "experiment_id, variant_id",
        "sequentialStates" => "experiment_id",
        "sequentialHistory" => "experiment_id, variant_id, metric, at",
        "metricRollups" => "scope, scope_id, hour, variant_id",
        _ => insertionOrder,
    };

    /// <summary>The statement reading a section's columns in <see cref="OrderOf"/>.</summary>
    public static string SelectAll(ArchiveSection section, string insertionOrder) =>
        $"SELECT {string.Join(", ", section.Columns.Select(ColumnName))} FROM {TableName(section)} ORDER BY {OrderOf(section, insertionOrder)}";

    /// <summary>What a full import reports: every row of the archive written, and what it replaced.</summary>
    public static RegistryImportReport FullImportReport(RegistryArchive archive, int replacedKeys, int replacedAudit) =>
        new(false, RegistryArchiveSchema.Sections.ToDictionary(s => s.Name, s => archive[s].Count),
            archive[RegistryArchiveSchema.Prompts].Select(r => (string)r[RegistryArchiveSchema.Prompts.IndexOf("name")]!).Order(StringComparer.Ordinal).ToList(),
            [], [], 0, replacedKeys, replacedAudit);

    /// <exception cref="ConflictException">Always: <c>registry_not_empty</c>, naming what the store holds.</exception>
    public static ConflictException NotEmpty(long prompts, long experiments, long events) =>
        new("registry_not_empty",
            $"The registry is not empty: it holds {prompts} prompt(s), {experiments} experiment(s) and {events} metric event(s). " +
            "Import into a new server, or merge by prompt name (--merge, ?merge=true), which adds only the prompts it does not have.");

    public static InvalidInputException InvalidReference(ArchiveSection section, int row) =>
        new("import_invalid_reference",
            $"$.{section.Name}[{row}] refers to a prompt, version or experiment that is neither in the document nor stored.", $"$.{section.Name}[{row}]");

    public static ConflictException Collision(ArchiveSection section, int row, string detail) =>
        new("import_conflict",
            $"$.{section.Name}[{row}] collides with a row already stored or earlier in the document ({detail}); nothing was imported.", $"$.{section.Name}[{row}]");

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
