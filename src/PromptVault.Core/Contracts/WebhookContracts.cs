using PromptVault.Core.Webhooks;

namespace PromptVault.Core.Contracts;

/// <summary>The body of <c>POST /api/webhooks</c>.</summary>
/// <param name="Url">An absolute http or https URL that receives the deliveries.</param>
/// <param name="Events">Event names from <see cref="WebhookEvents.All"/>.</param>
public sealed record CreateWebhookRequest(string? Url, IReadOnlyList<string>? Events);

/// <summary>A registered webhook, without its secret; its URL with its credentials masked (<see cref="Webhook.ShownUrl"/>).</summary>
/// <param name="KeyId">The API key it is tied to (<see cref="Webhook.KeyId"/>); null when unknown.</param>
/// <param name="DisabledReason">Why it sends nothing (<see cref="Webhook.DisabledReason"/>); null while it is enabled.</param>
public sealed record WebhookResponse(string Id, string Url, IReadOnlyList<string> Events, DateTimeOffset CreatedAt, string CreatedBy, string? KeyId = null,
    string? DisabledReason = null)
{
    public static WebhookResponse From(Webhook webhook) =>
        new(webhook.Id, webhook.ShownUrl, webhook.Events, webhook.CreatedAt, webhook.CreatedBy, webhook.KeyId, webhook.DisabledReason);
}

/// <summary>The answer to <c>POST /api/webhooks</c>: the only time the secret is shown.</summary>
public sealed record CreatedWebhookResponse(string Id, string Url, IReadOnlyList<string> Events, string Secret, DateTimeOffset CreatedAt, string CreatedBy,
    string? KeyId = null);

public sealed record WebhookListResponse(IReadOnlyList<WebhookResponse> Webhooks);

public sealed record WebhookDeliveryListResponse(IReadOnlyList<WebhookDelivery> Deliveries, int Total, string? Next = null);
