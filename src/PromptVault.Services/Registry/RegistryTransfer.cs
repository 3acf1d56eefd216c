using PromptVault.Core.Audit;
using PromptVault.Core.Storage;

namespace PromptVault.Core.Registry;

/// <summary><c>promptvault export</c> and <c>import</c> (SPEC §6): the whole registry as one document (docs/export-format.md).</summary>
public sealed class RegistryTransfer(IRegistryArchiveStore store, PromptRegistry registry, RegistryChangeFeed changes, TimeProvider time)
{
    private const int MaxWriteAttempts = 20;

    /// <summary>Streams the document to <paramref name="stream"/>, read from one consistent view of the store.</summary>
    public async Task ExportAsync(Stream stream, CancellationToken cancellationToken = default)
    {
        await using var writer = new RegistryArchiveJson.Writer(stream, time.GetUtcNow());
        await store.ExportAsync(writer, cancellationToken);
        await writer.CompleteAsync(cancellationToken);
    }

    /// <summary>
    /// Reads, checks and imports a document, all or nothing (see <see cref="IRegistryArchiveStore.ImportAsync"/>). What the added
    /// prompts serve must pass the include checks of a promote (<see cref="PromptRegistry.EnsureImportCanServeAsync"/>), and the import
    /// expects what those checks read (<see cref="ImportChecks"/>), so a promote or archive that lands meanwhile, or a merge's prompt
    /// created meanwhile, sends it round again.
    /// </summary>
    /// <param name="actor">Who imports, for the import's audit entry (<see cref="AuditActions.RegistryImported"/>).</param>
    public async Task<RegistryImportReport> ImportAsync(Stream stream, bool merge, string actor, CancellationToken cancellationToken = default)
    {
        var archive = await RegistryArchiveJson.ReadAsync(stream, cancellationToken);
        if (!merge) RegistryArchiveSchema.RequireActiveAdminKey(archive);
        var report = await OptimisticWrites.RetryAsync(MaxWriteAttempts, async () =>
            await store.ImportAsync(archive, merge, await registry.EnsureImportCanServeAsync(archive, merge, cancellationToken),
                new AuditEntry(0, time.GetUtcNow(), actor, AuditActions.RegistryImported, null, null, null,
                    new Dictionary<string, string?> { ["merge"] = merge ? "true" : "false" }), cancellationToken));
        // Prompts, experiments and keys all changed: "any prompt" (null) drops every cached entry.
        changes.Publish(RegistryChangeKind.Prompt);
        changes.Publish(RegistryChangeKind.Experiment);
        changes.Publish(RegistryChangeKind.ApiKeys);
        return report;
    }
}
