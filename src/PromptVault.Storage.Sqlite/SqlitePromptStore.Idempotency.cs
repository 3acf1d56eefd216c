using Dapper;
using Microsoft.Data.Sqlite;
using PromptVault.Core;
using PromptVault.Core.Storage;
using static PromptVault.Storage.StoredValues;

namespace PromptVault.Storage.Sqlite;

public sealed partial class SqlitePromptStore : IIdempotencyStore
{
    public Task<IdempotencyRecord?> FindIdempotencyRecordAsync(string owner, string key, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(owner);
        ArgumentNullException.ThrowIfNull(key);
        return WithConnectionAsync(async connection =>
        {
            var row = await connection.QuerySingleOrDefaultAsync<IdempotencyRow>(Command($"""
                SELECT {IdempotencyRow.Columns} FROM idempotency_keys WHERE owner = @owner AND key = @key AND expires_at > @Now
                """, new { owner, key, Now = ToText(now) }, cancellationToken));
            return row?.ToRecord();
        }, cancellationToken);
    }

    /// <summary>Deletes the expired records, then stores <paramref name="record"/>, in the caller's transaction.</summary>
    /// <exception cref="ConcurrentWriteException">A live record has the same owner and key.</exception>
    private static async Task InsertIdempotencyRecordAsync(SqliteConnection connection, SqliteTransaction transaction, IdempotencyRecord record,
        CancellationToken cancellationToken)
    {
        var now = ToText(record.CreatedAt);
        await connection.ExecuteAsync(Command("DELETE FROM idempotency_keys WHERE expires_at <= @now", new { now }, cancellationToken, transaction));
        try
        {
            await connection.ExecuteAsync(Command("""
                INSERT INTO idempotency_keys (owner, key, request_hash, response, created_at, expires_at)
                VALUES (@Owner, @Key, @RequestHash, @Response, @CreatedAt, @ExpiresAt)
                """, new { record.Owner, record.Key, record.RequestHash, record.Response, CreatedAt = now, ExpiresAt = ToText(record.ExpiresAt) },
                cancellationToken, transaction));
        }
        catch (SqliteException e) when (SqliteErrors.IsPrimaryKeyViolation(e))
        {
            throw new ConcurrentWriteException($"idempotency key '{record.Key}' was stored by another request first.");
        }
    }
}
