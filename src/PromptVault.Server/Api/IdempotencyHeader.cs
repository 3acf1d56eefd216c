using System.Security.Claims;
using PromptVault.Core;
using PromptVault.Core.Idempotency;
using PromptVault.Server.Auth;

namespace PromptVault.Server.Api;

/// <summary>Reads the <c>Idempotency-Key</c> request header of the create routes, scoped to the calling API key.</summary>
internal static class IdempotencyHeader
{
    /// <summary>The request's key, or null when it sent none.</summary>
    /// <exception cref="InvalidInputException">The header is repeated or malformed (<c>invalid_idempotency_key</c>).</exception>
    public static IdempotencyKey? Read(HttpRequest request)
    {
        var values = request.Headers[IdempotencyKey.HeaderName];
        if (values.Count == 0) return null;
        if (values.Count > 1)
            throw new InvalidInputException("invalid_idempotency_key", $"send one {IdempotencyKey.HeaderName} header, not {values.Count}.", IdempotencyKey.HeaderName);
        var owner = request.HttpContext.User.FindFirstValue(ApiKeyAuthenticationHandler.KeyIdClaim)
            ?? throw new InvalidOperationException("Idempotent routes require an authenticated API key.");
        return IdempotencyKey.Create(owner, values[0]);
    }
}
