using PromptVault.Core.Audit;
using PromptVault.Core.Auth;
using PromptVault.Core.Storage;

namespace PromptVault.Storage.Sqlite;

public sealed partial class SqlitePromptStore : IApiKeyStore
{
    public Task<ApiKey?> FindActiveByHashAsync(string keyHash, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keyHash);
        return WithConnectionAsync(connection => RegistryStatements.FindActiveKeyAsync(connection, keyHash, cancellationToken), cancellationToken);
    }

    public Task<Page<ApiKey>> ListKeysAsync(PageRequest page, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(page);
        return PageAsync<ApiKeyRow, ApiKey>(ApiKeyRow.Columns, "api_keys", "created_at, id", new { }, page, r => r.ToKey(), cancellationToken);
    }

    public Task<bool> AnyActiveAdminKeyAsync(CancellationToken cancellationToken = default) =>
        WithConnectionAsync(connection => RegistryStatements.AnyActiveAdminKeyAsync(connection, null, cancellationToken), cancellationToken);

    public Task CreateKeyAsync(ApiKey key, string keyHash, AuditEntry audit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentException.ThrowIfNullOrEmpty(keyHash);
        ArgumentNullException.ThrowIfNull(audit);
        return WriteAsync(async (connection, transaction) =>
        {
            await RegistryStatements.CreateKeyAsync(connection, transaction, key, keyHash, audit, cancellationToken);
            return true;
        }, cancellationToken);
    }

    public Task<bool> CreateFirstAdminKeyAsync(ApiKey key, string keyHash, AuditEntry audit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentException.ThrowIfNullOrEmpty(keyHash);
        ArgumentNullException.ThrowIfNull(audit);
        // The write transaction holds SQLite's write lock from its start, so a second server's check waits for this one's key.
        return WriteAsync((connection, transaction) => RegistryStatements.CreateFirstAdminKeyAsync(connection, transaction, key, keyHash, audit, cancellationToken),
            cancellationToken);
    }

    public Task<bool> RevokeKeyAsync(string id, DateTimeOffset at, AuditEntry audit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(audit);
        // The write transaction holds SQLite's write lock, so two admins revoking each other at once cannot both succeed.
        return WriteAsync((connection, transaction) => RegistryStatements.RevokeKeyAsync(connection, transaction, id, at, audit, cancellationToken),
            cancellationToken);
    }
}
