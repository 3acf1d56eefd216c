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
    /// <param name="includeGeneration">The include graph's generation the import's include checks read: the import expects it and
    /// advances it, as <see cref="PromptChanges.IncludeGeneration"/>; null writes without it (no checks were made).</param>
    /// <exception cref="ConflictException">Without merge, the store is not empty (<c>registry_not_empty</c>, naming what it holds);
    /// or a row collides with a stored one (<c>import_conflict</c>). Nothing was written.</exception>
    /// <exception cref="ConcurrentWriteException">The include graph's generation is no longer <paramref name="includeGeneration"/>. Nothing was written.</exception>
    /// <exception cref="InvalidInputException">A row refers to a row that is neither in the archive nor stored (<c>import_invalid_reference</c>).</exception>
    Task<RegistryImportReport> ImportAsync(RegistryArchive archive, bool merge, long? includeGeneration, CancellationToken cancellationToken = default);
}
