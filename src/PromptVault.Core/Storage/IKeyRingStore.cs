namespace PromptVault.Core.Storage;

/// <summary>
/// The server's ASP.NET Core Data Protection key ring (the keys that encrypt the dashboard's sign-in cookie and antiforgery
/// tokens), kept in the database so that every server on it, and a restarted or replaced one, reads the same keys.
/// </summary>
public interface IKeyRingStore
{
    /// <summary>Every element stored (an XML document the framework wrote: a key or a revocation), in the order stored.</summary>
    Task<IReadOnlyList<string>> GetKeyRingElementsAsync(CancellationToken cancellationToken = default);

    /// <summary>Adds an element; elements are never changed or removed.</summary>
    Task AddKeyRingElementAsync(string name, string xml, CancellationToken cancellationToken = default);

    /// <summary>
    /// Adds the first element of an empty ring (a new database's first key), unless the ring holds an element already: the
    /// first key of another server that read the same empty ring. Servers adding at once take turns, so one key is stored.
    /// </summary>
    /// <returns>False when the ring was no longer empty and nothing was added.</returns>
    Task<bool> AddFirstKeyRingElementAsync(string name, string xml, CancellationToken cancellationToken = default);
}
