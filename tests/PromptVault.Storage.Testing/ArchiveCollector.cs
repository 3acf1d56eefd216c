using PromptVault.Core.Audit;
using PromptVault.Core.Storage;

namespace PromptVault.Storage.Testing;

/// <summary>Keeps what a store exports, as the <see cref="RegistryArchive"/> an import takes.</summary>
public sealed class ArchiveCollector : IRegistryArchiveWriter
{
    private readonly Dictionary<ArchiveSection, List<object?[]>> rows = [];
    private List<object?[]>? current;

    public static async Task<RegistryArchive> ExportAsync(IRegistryArchiveStore store, CancellationToken cancellationToken)
    {
        var collector = new ArchiveCollector();
        await store.ExportAsync(collector, cancellationToken);
        return new RegistryArchive(collector.rows.ToDictionary(p => p.Key, p => (IReadOnlyList<object?[]>)p.Value));
    }

    /// <summary>The archive without the audit entries imports wrote of themselves, to compare a registry with the document imported into it.</summary>
    public static RegistryArchive WithoutImportEntries(RegistryArchive archive)
    {
        var audit = RegistryArchiveSchema.Audit;
        var action = audit.IndexOf("action");
        return new RegistryArchive(RegistryArchiveSchema.Sections.ToDictionary(s => s,
            s => s == audit ? archive[s].Where(r => (string?)r[action] != AuditActions.RegistryImported).ToList() : archive[s]));
    }

    public ValueTask BeginSectionAsync(ArchiveSection section, CancellationToken cancellationToken)
    {
        rows[section] = current = [];
        return ValueTask.CompletedTask;
    }

    public ValueTask WriteRowAsync(object?[] values, CancellationToken cancellationToken)
    {
        current!.Add((object?[])values.Clone());
        return ValueTask.CompletedTask;
    }

    public ValueTask EndSectionAsync(ArchiveSection section, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}
