using PromptVault.Core.Audit;
using PromptVault.Core.Auth;

namespace PromptVault.Core.Storage;

/// <summary>Persistence of API keys (hashed) and their audit entries.</summary>
public interface IApiKeyStore
{
    /// <summary>The active (not revoked) key with this hash.</summary>
    Task<ApiKey?> FindActiveByHashAsync(string keyHash, CancellationToken cancellationToken = default);

    /// <summary>The active (not revoked) key with this id.</summary>
    Task<ApiKey?> FindActiveByIdAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>All keys, oldest first.</summary>
    Task<Page<ApiKey>> ListKeysAsync(CancellationToken cancellationToken = default) => ListKeysAsync(PageRequest.All, cancellationToken);

    /// <summary>A page of the keys, oldest first.</summary>
    Task<Page<ApiKey>> ListKeysAsync(PageRequest page, CancellationToken cancellationToken = default);

    /// <summary>Whether at least one admin key is active (not revoked).</summary>
    Task<bool> AnyActiveAdminKeyAsync(CancellationToken cancellationToken = default);

    Task CreateKeyAsync(ApiKey key, string keyHash, AuditEntry audit, CancellationToken cancellationToken = default);

    /// <summary>
    /// Creates the admin key <paramref name="key"/> only when no admin key is active, checked and written in one transaction
    /// that a concurrent call waits for, so servers starting at once on a new database make one first key.
    /// </summary>
    /// <returns>False, and nothing written, when an admin key was active.</returns>
    Task<bool> CreateFirstAdminKeyAsync(ApiKey key, string keyHash, AuditEntry audit, CancellationToken cancellationToken = default);

    /// <summary>Marks a key revoked; false when no active key has that id.</summary>
    /// <exception cref="ConflictException">The key is the last active admin key (<c>last_admin_key</c>); nothing changed.</exception>
    Task<bool> RevokeKeyAsync(string id, DateTimeOffset at, AuditEntry audit, CancellationToken cancellationToken = default);
}
