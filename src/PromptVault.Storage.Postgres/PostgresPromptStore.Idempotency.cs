using PromptVault.Core.Storage;

namespace PromptVault.Storage.Postgres;

public sealed partial class PostgresPromptStore : IIdempotencyStore
{
    public Task<IdempotencyRecord?> FindIdempotencyRecordAsync(string owner, string key, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(owner);
        ArgumentNullException.ThrowIfNull(key);
        return WithConnectionAsync(connection => RegistryStatements.FindIdempotencyRecordAsync(connection, owner, key, now, cancellationToken), cancellationToken);
    }
}
