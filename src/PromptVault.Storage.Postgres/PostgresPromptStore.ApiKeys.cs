using Dapper;
using PromptVault.Core.Audit;
using PromptVault.Core.Auth;
using PromptVault.Core.Storage;

namespace PromptVault.Storage.Postgres;

public sealed partial class PostgresPromptStore : IApiKeyStore
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
        return WriteAsync(async (connection, transaction) =>
        {
            // With no admin key there is no row to lock: a mode that conflicts with itself makes servers starting at once on a
            // new database take turns, and the second's check (a new snapshot, read committed) sees the first's key.
            await connection.ExecuteAsync(Command("LOCK TABLE api_keys IN SHARE ROW EXCLUSIVE MODE", null, cancellationToken, transaction));
            return await RegistryStatements.CreateFirstAdminKeyAsync(connection, transaction, key, keyHash, audit, cancellationToken);
        }, cancellationToken);
    }

    public Task<bool> RevokeKeyAsync(string id, DateTimeOffset at, AuditEntry audit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(audit);
        return WriteAsync(async (connection, transaction) =>
        {
            // Locks the active admin keys first, so two admins revoking each other at once (through any instances) take turns,
            // and the second sees the first's revocation when it checks that an admin key remains.
            await connection.ExecuteAsync(Command($"SELECT id FROM {RegistryStatements.ActiveAdmins} FOR UPDATE", null, cancellationToken, transaction));
            return await RegistryStatements.RevokeKeyAsync(connection, transaction, id, at, audit, cancellationToken);
        }, cancellationToken);
    }
}
