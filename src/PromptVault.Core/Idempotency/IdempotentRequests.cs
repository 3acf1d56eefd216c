using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using PromptVault.Core.Contracts;
using PromptVault.Core.Storage;

namespace PromptVault.Core.Idempotency;

/// <summary>
/// Runs a write at most once per <see cref="IdempotencyKey"/>: a retry with the same key and the same request gets the first
/// answer back; the same key with another request is refused. Keys are kept for <see cref="Retention"/>.
/// </summary>
public sealed class IdempotentRequests(IIdempotencyStore store, TimeProvider time)
{
    /// <summary>How long a key's answer is kept, and a retry with it answered from it: 24 hours.</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromHours(24);

    /// <summary>
    /// Returns the stored answer of an earlier <paramref name="operation"/> with <paramref name="key"/>, or runs
    /// <paramref name="write"/>, handing it the function that makes the record to store in the write's own transaction.
    /// </summary>
    /// <param name="target">What the operation acts on (a prompt's name), part of what makes two requests the same.</param>
    /// <exception cref="UnprocessableException">The key was used for a different request (<c>idempotency_key_reused</c>).</exception>
    // Without a key the write runs as it is: an async frame here would keep the request (a metric batch's 500 events) alive
    // for as long as the write waits for its commit.
    internal Task<TResponse> RunAsync<TRequest, TResponse>(IdempotencyKey? key, string operation, string target, TRequest request,
        Func<Func<TResponse, IdempotencyRecord>?, Task<TResponse>> write, CancellationToken cancellationToken)
        where TResponse : class =>
        key is null ? write(null) : RunOnceAsync(key, operation, target, request, write, cancellationToken);

    private async Task<TResponse> RunOnceAsync<TRequest, TResponse>(IdempotencyKey key, string operation, string target, TRequest request,
        Func<Func<TResponse, IdempotencyRecord>?, Task<TResponse>> write, CancellationToken cancellationToken)
        where TResponse : class
    {
        var requestHash = Hash(operation, target, request);
        if (await FindAsync<TResponse>(key, requestHash, cancellationToken) is { } earlier) return earlier;
        try
        {
            return await write(response => Record(key, requestHash, response));
        }
        catch (Exception e) when (e is ConflictException or ConcurrentWriteException)
        {
            // A concurrent request with the same key may have been stored first; if so, its answer is this one's too.
            if (await FindAsync<TResponse>(key, requestHash, cancellationToken) is { } concurrent) return concurrent;
            throw;
        }
    }

    private async Task<TResponse?> FindAsync<TResponse>(IdempotencyKey key, string requestHash, CancellationToken cancellationToken)
        where TResponse : class
    {
        var record = await store.FindIdempotencyRecordAsync(key.Owner, key.Value, time.GetUtcNow(), cancellationToken);
        if (record is null) return null;
        if (record.RequestHash != requestHash)
            throw new UnprocessableException("idempotency_key_reused",
                $"this {IdempotencyKey.HeaderName} was used within the last {Retention.TotalHours:0} hours for a different request; send a new key for a new request.",
                IdempotencyKey.HeaderName);
        return JsonSerializer.Deserialize<TResponse>(record.Response, PromptVaultJson.Options);
    }

    private IdempotencyRecord Record<TResponse>(IdempotencyKey key, string requestHash, TResponse response)
    {
        var now = time.GetUtcNow();
        return new IdempotencyRecord(key.Owner, key.Value, requestHash, Canonical.Json(response), now, now + Retention);
    }

    private static string Hash<TRequest>(string operation, string target, TRequest request) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{operation}\n{target}\n{Canonical.Json(request)}")));
}
