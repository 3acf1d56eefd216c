using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using PromptVault.Core.Contracts;
using PromptVault.Core.Storage;
using PromptVault.Core.Webhooks;
using PromptVault.Server.Auth;
using PromptVault.Server.Hosting;

namespace PromptVault.Server.Api;

internal static class WebhooksApi
{
    /// <summary>Admin only: a webhook sends registry changes to any URL and its secret signs them (docs/webhooks.md).</summary>
    public static IEndpointRouteBuilder MapWebhooksApi(this IEndpointRouteBuilder routes)
    {
        var webhooks = routes.MapRouteGroup("/api/webhooks").WithTags("Webhooks").RequireAuthorization(RolePolicies.Admin)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .NeverCached();
        webhooks.MapPost("/", CreateWebhook).WithName("CreateWebhook").WithSummary("Register a webhook (its secret is shown once)");
        webhooks.MapGet("/", ListWebhooks).WithName("ListWebhooks").WithSummary("List webhooks");
        webhooks.MapGet("/{id}", GetWebhook).WithName("GetWebhook").WithSummary("Get a webhook").ProducesProblem(StatusCodes.Status404NotFound);
        webhooks.MapDelete("/{id}", DeleteWebhook).WithName("DeleteWebhook").WithSummary("Delete a webhook and its pending deliveries")
            .ProducesProblem(StatusCodes.Status404NotFound);
        webhooks.MapPost("/{id}/enable", EnableWebhook).WithName("EnableWebhook")
            .WithSummary("Tie a webhook to the caller's key, so it sends again after the key it was tied to was revoked")
            .ProducesProblem(StatusCodes.Status404NotFound);
        webhooks.MapPost("/{id}/deliveries/{deliveryId:long}/redeliver", Redeliver).WithName("RedeliverWebhookDelivery")
            .WithSummary("Send a delivery's event again, as a new delivery").ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        webhooks.MapGet("/{id}/deliveries", ListDeliveries).WithName("ListWebhookDeliveries")
            .WithSummary("A webhook's deliveries, newest first, with every attempt").ProducesProblem(StatusCodes.Status404NotFound);
        return routes;
    }

    private static async Task<Created<CreatedWebhookResponse>> CreateWebhook(CreateWebhookRequest request, WebhookService webhooks, ClaimsPrincipal user,
        CancellationToken cancellationToken)
    {
        var created = await webhooks.CreateAsync(request, user.Actor(), user.FindFirstValue(ApiKeyAuthenticationHandler.KeyIdClaim), cancellationToken);
        return TypedResults.Created($"/api/webhooks/{created.Id}", created);
    }

    private static async Task<Ok<WebhookListResponse>> ListWebhooks(WebhookService webhooks, CancellationToken cancellationToken) =>
        TypedResults.Ok(await webhooks.ListAsync(cancellationToken));

    private static async Task<Ok<WebhookResponse>> GetWebhook(string id, WebhookService webhooks, CancellationToken cancellationToken) =>
        TypedResults.Ok(await webhooks.GetAsync(id, cancellationToken));

    private static async Task<NoContent> DeleteWebhook(string id, WebhookService webhooks, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        await webhooks.DeleteAsync(id, user.Actor(), cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<WebhookResponse>> EnableWebhook(string id, WebhookService webhooks, ClaimsPrincipal user, CancellationToken cancellationToken) =>
        TypedResults.Ok(await webhooks.EnableAsync(id, user.Actor(), user.FindFirstValue(ApiKeyAuthenticationHandler.KeyIdClaim)
            ?? throw new InvalidOperationException("An admin route was called without an API key."), cancellationToken));

    private static async Task<Accepted<WebhookDelivery>> Redeliver(string id, long deliveryId, WebhookService webhooks, ClaimsPrincipal user,
        CancellationToken cancellationToken)
    {
        var delivery = await webhooks.RedeliverAsync(id, deliveryId, user.Actor(), cancellationToken);
        return TypedResults.Accepted($"/api/webhooks/{delivery.WebhookId}/deliveries", delivery);
    }

    private static async Task<Ok<WebhookDeliveryListResponse>> ListDeliveries(string id, int? limit, int? offset, WebhookService webhooks, HttpRequest request,
        CancellationToken cancellationToken)
    {
        var page = PageRequest.From(limit, offset);
        var list = await webhooks.ListDeliveriesAsync(id, page, cancellationToken);
        return TypedResults.Ok(list with { Next = Paging.Next(request, page, list.Deliveries.Count, list.Total) });
    }
}
