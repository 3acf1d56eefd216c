using PromptVault.Core.Audit;
using PromptVault.Core.Auth;

namespace PromptVault.Core.Storage;

/// <summary>Persistence of API keys (hashed) and their audit entries.</summary>
public interface IApiKeyStore
{
    /// <summary>The active (not revoked) key with this hash.</summary>
    Task<ApiKey?> FindActiveByHashAsync(string keyHash, CancellationToken cancellationToken = default);

    /// <summary>All keys, oldest first.</summary>
    Task<Page<ApiKey>> ListKeysAsync(CancellationToken cancellationToken = default) => ListKeysAsync(PageRequest.All, cancellationToken);

    /// <summary>A page of the keys, oldest first.</summary>
    Task<Page<ApiKey>> ListKeysAsync(PageRequest page, CancellationToken cancellationToken = default);

    Task<bool> AnyKeyAsync(CancellationToken cancellationToken = default);

    Task CreateKeyAsync(ApiKey key, string keyHash, AuditEntry audit, CancellationToken cancellationToken = default);

    /// <summary>Marks a key revoked; false when no active key has that id.</summary>
    Task<bool> RevokeKeyAsync(string id, DateTimeOffset at, AuditEntry audit, CancellationToken cancellationToken = default);
}
