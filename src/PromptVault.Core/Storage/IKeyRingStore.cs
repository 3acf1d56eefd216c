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
}
