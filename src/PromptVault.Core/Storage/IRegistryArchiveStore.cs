using PromptVault.Core.Audit;

namespace PromptVault.Core.Storage;

/// <summary>
/// The whole registry in and out (<c>promptvault export</c>/<c>import</c>), in the engine-neutral sections of
/// <see cref="RegistryArchiveSchema"/>, so a registry moves between stores of any engine.
/// </summary>
public interface IRegistryArchiveStore
{
    /// <summary>Reads every section in one read transaction (a consistent view while writes go on), streaming its rows to <paramref name="writer"/>.</summary>
    Task ExportAsync(IRegistryArchiveWriter writer, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes the archive in one transaction, all or nothing. Without <paramref name="merge"/> the store must hold no prompts,
    /// experiments or metric events; its own API keys and audit entries (a new server's first admin key) are replaced by the
    /// document's, and ids are kept. With it, the archive is first cut down by <see cref="RegistryMerge.Plan"/> against what the store holds.
    /// </summary>
    /// <param name="checks">What the import's include checks read and assumed; null writes without them (no checks were made).</param>
    /// <param name="audit">The import's audit entry (<see cref="AuditActions.RegistryImported"/>), written in the import's transaction after
    /// the document's own entries, with <c>prompts</c> and <c>apiKeys</c> (the names and key ids added) joined to its <c>after</c>.</param>
    /// <exception cref="ConflictException">Without merge, the store is not empty (<c>registry_not_empty</c>, naming what it holds);
    /// or a row collides with a stored one (<c>import_conflict</c>). Nothing was written.</exception>
    /// <exception cref="ConcurrentWriteException">What <paramref name="checks"/> read has changed: the include graph's generation, or
    /// (merge) which prompts the archive adds, since one of its names was created meanwhile. Nothing was written.</exception>
    /// <exception cref="InvalidInputException">A row refers to a row that is neither in the archive nor stored (<c>import_invalid_reference</c>).</exception>
    Task<RegistryImportReport> ImportAsync(RegistryArchive archive, bool merge, ImportChecks? checks, AuditEntry audit, CancellationToken cancellationToken = default);
}

/// <summary>What an import's include checks read and assumed, for the import to expect in its transaction.</summary>
/// <param name="IncludeGeneration">The include graph's generation read before the checks: the import expects it and advances it,
/// as <see cref="PromptChanges.IncludeGeneration"/>.</param>
/// <param name="AddedPrompts">The names of the prompts the checks took the import to add (for a merge, those of the archive not stored
/// when they read): a merge that would add others (a prompt of one of these names was created meanwhile) is not what was checked.</param>
public sealed record ImportChecks(long IncludeGeneration, IReadOnlySet<string> AddedPrompts);
