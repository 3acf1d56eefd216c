using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
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

    private static async Task<NoContent> RevokeKey(string id, ApiKeyService keys, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        await keys.RevokeAsync(id, user.Actor(), cancellationToken);
        return TypedResults.NoContent();
    }
}
