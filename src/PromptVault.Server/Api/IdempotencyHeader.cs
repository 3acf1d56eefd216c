using System.Security.Claims;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
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

    /// <summary>Declares the optional header and the 422 of a reused key in the route's OpenAPI operation.</summary>
    public static RouteHandlerBuilder AcceptsIdempotencyKey(this RouteHandlerBuilder route) =>
        DeclareHeader(route.ProducesProblem(StatusCodes.Status422UnprocessableEntity),
            "Makes a retry safe: a request repeated with the same key gets the first answer and writes nothing again (kept 24 h; docs/reliability.md).");

    /// <summary>
    /// Declares the optional header on a route whose writes count once however often they are repeated (exposures): it is
    /// checked and accepted, no answer is kept for it, and a reused key is no error.
    /// </summary>
    public static RouteHandlerBuilder AcceptsIdempotencyKeyWithoutReplay(this RouteHandlerBuilder route) =>
        DeclareHeader(route, "Accepted for clients that send it on every write; not needed here: a repeated exposure counts once, and a retry is answered anew (recorded 0).");

    private static RouteHandlerBuilder DeclareHeader(RouteHandlerBuilder route, string description) =>
        route.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            operation.Parameters ??= [];
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = IdempotencyKey.HeaderName,
                In = ParameterLocation.Header,
                Description = description,
                Schema = new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = IdempotencyKey.MaxLength },
            });
            return Task.CompletedTask;
        });
}
