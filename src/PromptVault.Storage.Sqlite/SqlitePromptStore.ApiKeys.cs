using Dapper;
using PromptVault.Core;
using PromptVault.Core.Audit;
using PromptVault.Core.Auth;
using PromptVault.Core.Storage;
using static PromptVault.Storage.StoredValues;

namespace PromptVault.Storage.Sqlite;

public sealed partial class SqlitePromptStore : IApiKeyStore
{
    public Task<ApiKey?> FindActiveByHashAsync(string keyHash, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keyHash);
        return WithConnectionAsync(async connection =>
        {
            var row = await connection.QuerySingleOrDefaultAsync<ApiKeyRow>(Command(
                $"SELECT {ApiKeyRow.Columns} FROM api_keys WHERE key_hash = @keyHash AND revoked_at IS NULL", new { keyHash }, cancellationToken));
            return row?.ToKey();
        }, cancellationToken);
    }

    public Task<Page<ApiKey>> ListKeysAsync(PageRequest page, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(page);
        return PageAsync<ApiKeyRow, ApiKey>(ApiKeyRow.Columns, "api_keys", "created_at, id", new { }, page, r => r.ToKey(), cancellationToken);
    }

    public Task<bool> AnyActiveAdminKeyAsync(CancellationToken cancellationToken = default) =>
        WithConnectionAsync(connection => connection.ExecuteScalarAsync<bool>(Command(ActiveAdminExists, null, cancellationToken)), cancellationToken);

    private static readonly string ActiveAdminExists =
        $"SELECT EXISTS (SELECT 1 FROM api_keys WHERE role = '{ToName(ApiKeyRole.Admin)}' AND revoked_at IS NULL)";

    public Task CreateKeyAsync(ApiKey key, string keyHash, AuditEntry audit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentException.ThrowIfNullOrEmpty(keyHash);
        ArgumentNullException.ThrowIfNull(audit);
        return WriteAsync(async (connection, transaction) =>
        {
            await connection.ExecuteAsync(Command("""
                INSERT INTO api_keys (id, name, role, prefix, key_hash, created_at, created_by, revoked_at)
                VALUES (@Id, @Name, @Role, @Prefix, @KeyHash, @CreatedAt, @CreatedBy, @RevokedAt)
                """, new
            {
                key.Id, key.Name, Role = ToName(key.Role), key.Prefix, KeyHash = keyHash,
                CreatedAt = ToText(key.CreatedAt), key.CreatedBy, RevokedAt = ToText(key.RevokedAt),
            }, cancellationToken, transaction));
            await InsertAuditAsync(connection, transaction, audit, cancellationToken);
            return true;
        }, cancellationToken);
    }

    public Task<bool> RevokeKeyAsync(string id, DateTimeOffset at, AuditEntry audit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(audit);
        return WriteAsync(async (connection, transaction) =>
        {
            var role = await connection.ExecuteScalarAsync<string?>(Command(
                "UPDATE api_keys SET revoked_at = @At WHERE id = @id AND revoked_at IS NULL RETURNING role",
                new { id, At = ToText(at) }, cancellationToken, transaction));
            if (role is null) return false;
            // Checked inside the revoking transaction, so two admins revoking each other at once cannot both succeed.
            if (role == ToName(ApiKeyRole.Admin)
                && !await connection.ExecuteScalarAsync<bool>(Command(ActiveAdminExists, null, cancellationToken, transaction)))
                throw ConflictException.LastAdminKey(id);
            await InsertAuditAsync(connection, transaction, audit, cancellationToken);
            return true;
        }, cancellationToken);
    }
}
