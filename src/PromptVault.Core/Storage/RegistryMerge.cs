namespace PromptVault.Core.Storage;

/// <summary>What a merge import writes: the archive without the prompts the store already has (by name), nor anything of theirs.</summary>
public static class RegistryMerge
{
    /// <param name="existingPromptNames">The names of the prompts the store holds: of the archive's names at least (any others are not read).</param>
    /// <param name="existingKeys">The ids and hashes of the API keys the store holds.</param>
    /// <returns>The rows to write (audit entries with a null id: they get new ids) and the report of what was left out.</returns>
    public static (RegistryArchive Rows, RegistryImportReport Report) Plan(RegistryArchive archive, IReadOnlySet<string> existingPromptNames,
        IReadOnlySet<string> existingKeys)
    {
        ArgumentNullException.ThrowIfNull(archive);
        var prompts = RegistryArchiveSchema.Prompts;
        int id = prompts.IndexOf("id"), name = prompts.IndexOf("name");
        var added = archive[prompts].Where(r => !existingPromptNames.Contains((string)r[name]!)).ToList();
        var skipped = archive[prompts].Where(r => existingPromptNames.Contains((string)r[name]!)).Select(r => (string)r[name]!).ToList();
        var promptIds = added.Select(r => (string)r[id]!).ToHashSet();
        var promptNames = added.Select(r => (string)r[name]!).ToHashSet();
        var versionIds = Owned(archive, RegistryArchiveSchema.Versions, promptIds);
        var experimentIds = Owned(archive, RegistryArchiveSchema.Experiments, promptIds);

        var keys = RegistryArchiveSchema.ApiKeys;
        int keyId = keys.IndexOf("id"), keyHash = keys.IndexOf("keyHash");
        var skippedKeys = archive[keys].Where(r => existingKeys.Contains((string)r[keyId]!) || existingKeys.Contains((string)r[keyHash]!))
            .Select(r => (string)r[keyId]!).ToList();

        var rows = new Dictionary<ArchiveSection, IReadOnlyList<object?[]>>();
        var documentRows = new Dictionary<ArchiveSection, IReadOnlyList<int>>();
        foreach (var section in RegistryArchiveSchema.Sections)
        {
            Func<object?[], bool> kept = section.Owner switch
            {
                ArchiveOwner.None => r => !skippedKeys.Contains((string)r[keyId]!),
                ArchiveOwner.PromptName => r => r[section.OwnerColumn] is string p && promptNames.Contains(p),
                _ => r => OwnedBy(section.Owner, (string)r[section.OwnerColumn]!, promptIds, versionIds, experimentIds),
            };
            var indices = Enumerable.Range(0, archive[section].Count).Where(i => kept(archive[section][i])).ToList();
            documentRows[section] = indices;
            rows[section] = section.Owner == ArchiveOwner.PromptName
                ? indices.Select(i => { var copy = (object?[])archive[section][i].Clone(); copy[section.IndexOf("id")] = null; return copy; }).ToList()
                : indices.Select(i => archive[section][i]).ToList();
        }
        var counts = rows.ToDictionary(p => p.Key.Name, p => p.Value.Count);
        var report = new RegistryImportReport(true, counts, promptNames.Order(StringComparer.Ordinal).ToList(), skipped.Order(StringComparer.Ordinal).ToList(), skippedKeys,
            archive[RegistryArchiveSchema.Audit].Count - rows[RegistryArchiveSchema.Audit].Count, 0, 0);
        return (new RegistryArchive(rows, documentRows), report);
    }

    private static HashSet<string> Owned(RegistryArchive archive, ArchiveSection section, HashSet<string> promptIds) =>
        archive[section].Where(r => promptIds.Contains((string)r[section.OwnerColumn]!)).Select(r => (string)r[section.IndexOf("id")]!).ToHashSet();

    private static bool OwnedBy(ArchiveOwner owner, string id, HashSet<string> prompts, HashSet<string> versions, HashSet<string> experiments) => owner switch
    {
        ArchiveOwner.Prompt => prompts.Contains(id),
        ArchiveOwner.Version => versions.Contains(id),
        ArchiveOwner.Experiment => experiments.Contains(id),
        _ => throw new ArgumentOutOfRangeException(nameof(owner), owner, null),
    };
}
