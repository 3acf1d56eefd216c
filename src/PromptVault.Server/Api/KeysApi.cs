using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using PromptVault.Core;
using PromptVault.Core.Auth;
using PromptVault.Core.Contracts;
using PromptVault.Core.Storage;
using PromptVault.Server.Auth;
using PromptVault.Server.Hosting;

namespace PromptVault.Server.Api;

internal static class KeysApi
{
    public static IEndpointRouteBuilder MapKeysApi(this IEndpointRouteBuilder routes)
    {
        var keys = routes.MapRouteGroup("/api/keys").WithTags("API keys").RequireAuthorization(RolePolicies.Admin)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .NeverCached();
        keys.MapPost("/", CreateKey).WithName("CreateApiKey").WithSummary("Create an API key");
        keys.MapGet("/", ListKeys).WithName("ListApiKeys").WithSummary("List API keys");
        keys.MapDelete("/{id}", RevokeKey).WithName("RevokeApiKey").WithSummary("Revoke an API key")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        // Any role: what a key may do, asked of the server rather than learnt from a refusal (the SDK's start check).
        routes.MapGet("/api/keys/current", CurrentKey).WithTags("API keys").WithName("GetCurrentApiKey")
            .WithSummary("The API key that makes the request").RequireAuthorization(RolePolicies.Reader)
            .ProducesProblem(StatusCodes.Status404NotFound);
        return routes;
    }

    private static async Task<Created<CreatedApiKeyResponse>> CreateKey(CreateApiKeyRequest request, ApiKeyService keys, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var created = await keys.CreateAsync(request, user.Actor(), cancellationToken);
        return TypedResults.Created($"/api/keys/{created.Id}", created);
    }

    private static async Task<Ok<ApiKeyListResponse>> ListKeys(int? limit, int? offset, ApiKeyService keys, HttpRequest request, CancellationToken cancellationToken)
    {
        var page = PageRequest.From(limit, offset);
        var list = await keys.ListAsync(page, cancellationToken);
        return TypedResults.Ok(list with { Next = Paging.Next(request, page, list.Keys.Count, list.Total) });
    }

    private static async Task<Ok<ApiKey>> CurrentKey(ClaimsPrincipal user, ApiKeyService keys, CancellationToken cancellationToken)
    {
        // Authentication found the key active; it may have been revoked since, as between any two requests.
        var id = user.FindFirstValue(ApiKeyAuthenticationHandler.KeyIdClaim);
        var key = id is null ? null : await keys.FindActiveAsync(id, cancellationToken);
        return TypedResults.Ok(key ?? throw new NotFoundException("api_key_not_found",
            $"no active API key has id '{id}': the key that made this request was revoked while it was answered."));
    }

    private static async Task<NoContent> RevokeKey(string id, ApiKeyService keys, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        await keys.RevokeAsync(id, user.Actor(), cancellationToken);
        return TypedResults.NoContent();
    }
}
