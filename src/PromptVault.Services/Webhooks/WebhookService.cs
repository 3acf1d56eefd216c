using System.Security.Cryptography;
using PromptVault.Core.Audit;
using PromptVault.Core.Contracts;
using PromptVault.Core.Storage;

namespace PromptVault.Core.Webhooks;

/// <summary>
/// Registers, lists, enables and deletes webhooks, reads their delivery history and resends a delivery; creation, enabling and
/// deletion are audited. A webhook is tied to the API key that registered it, and sends nothing once that key is revoked.
/// </summary>
public sealed class WebhookService(IWebhookStore store, TimeProvider time)
{
    /// <summary>The prefix of a webhook secret, so a leaked one is recognisable.</summary>
    public const string SecretPrefix = "whsec_";

    /// <param name="keyId">The caller's API key, which the webhook is tied to; null when the caller has none.</param>
    public async Task<CreatedWebhookResponse> CreateAsync(CreateWebhookRequest request, string actor, string? keyId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var url = ValidateUrl(request.Url);
        var events = ValidateEvents(request.Events);
        var now = time.GetUtcNow();
        var webhook = new Webhook(Ids.New(now), url, events, SecretPrefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)), now, actor, keyId);
        await store.CreateWebhookAsync(webhook, new AuditEntry(0, now, actor, AuditActions.WebhookCreated, null, webhook.Id, null,
            new Dictionary<string, string?> { ["origin"] = Origin(url), ["events"] = string.Join(",", events) }), cancellationToken);
        return new CreatedWebhookResponse(webhook.Id, webhook.ShownUrl, webhook.Events, webhook.Secret, webhook.CreatedAt, webhook.CreatedBy, webhook.KeyId);
    }

    public async Task<WebhookListResponse> ListAsync(CancellationToken cancellationToken = default) =>
        new((await store.ListWebhooksAsync(cancellationToken)).Select(WebhookResponse.From).ToList());

    /// <exception cref="NotFoundException">No webhook has this id (<c>webhook_not_found</c>).</exception>
    public async Task<WebhookResponse> GetAsync(string id, CancellationToken cancellationToken = default) =>
        WebhookResponse.From(await RequireAsync(id, cancellationToken));

    /// <summary>Deletes the webhook; its pending deliveries are dropped with it.</summary>
    /// <exception cref="NotFoundException">No webhook has this id (<c>webhook_not_found</c>).</exception>
    public async Task DeleteAsync(string id, string actor, CancellationToken cancellationToken = default)
    {
        var webhook = await RequireAsync(id, cancellationToken);
        var audit = new AuditEntry(0, time.GetUtcNow(), actor, AuditActions.WebhookDeleted, null, webhook.Id,
            new Dictionary<string, string?> { ["origin"] = Origin(webhook.Url) }, null);
        if (!await store.DeleteWebhookAsync(webhook.Id, audit, cancellationToken))
            throw NotFound(id);
    }

    /// <summary>Ties the webhook to the caller's key <paramref name="keyId"/>, so it sends again if the key it was tied to was
    /// revoked, and its deliveries that waited go out.</summary>
    /// <exception cref="NotFoundException">No webhook has this id (<c>webhook_not_found</c>).</exception>
    public async Task<WebhookResponse> EnableAsync(string id, string actor, string keyId, CancellationToken cancellationToken = default)
    {
        var webhook = await RequireAsync(id, cancellationToken);
        var audit = new AuditEntry(0, time.GetUtcNow(), actor, AuditActions.WebhookEnabled, null, webhook.Id,
            new Dictionary<string, string?> { ["keyId"] = webhook.KeyId }, new Dictionary<string, string?> { ["keyId"] = keyId });
        if (!await store.SetWebhookKeyAsync(webhook.Id, keyId, audit, cancellationToken))
            throw NotFound(id);
        return await GetAsync(webhook.Id, cancellationToken);
    }

    /// <summary>Sends the event of one of the webhook's delivered or failed deliveries again, as a new delivery (same body and event
    /// id) due now; audited, naming both deliveries.</summary>
    /// <exception cref="NotFoundException">No such webhook (<c>webhook_not_found</c>) or delivery of it (<c>delivery_not_found</c>).</exception>
    /// <exception cref="ConflictException">The webhook is disabled (<c>webhook_disabled</c>): the new delivery would wait; or the delivery
    /// is still pending (<c>delivery_in_progress</c>): its event would go out twice.</exception>
    public async Task<WebhookDelivery> RedeliverAsync(string id, long deliveryId, string actor, CancellationToken cancellationToken = default)
    {
        var webhook = await RequireAsync(id, cancellationToken);
        if (webhook.DisabledReason is { } reason)
            throw new ConflictException("webhook_disabled", $"webhook '{webhook.Id}' sends nothing: {reason}");
        var now = time.GetUtcNow();
        return await store.RedeliverAsync(webhook.Id, deliveryId, now, redelivery => new AuditEntry(0, now, actor, AuditActions.WebhookRedelivered, null,
                webhook.Id, new Dictionary<string, string?> { ["deliveryId"] = Text(deliveryId) },
                new Dictionary<string, string?> { ["deliveryId"] = Text(redelivery.Id), ["event"] = redelivery.Event }), cancellationToken)
            ?? throw new NotFoundException("delivery_not_found",
                string.Create(System.Globalization.CultureInfo.InvariantCulture, $"webhook '{webhook.Id}' has no delivery {deliveryId}."));
    }

    /// <summary>The webhook's deliveries, newest first, each with its attempts.</summary>
    /// <exception cref="NotFoundException">No webhook has this id (<c>webhook_not_found</c>).</exception>
    public async Task<WebhookDeliveryListResponse> ListDeliveriesAsync(string id, PageRequest page, CancellationToken cancellationToken = default)
    {
        var webhook = await RequireAsync(id, cancellationToken);
        var deliveries = await store.ListDeliveriesAsync(webhook.Id, page, cancellationToken);
        return new WebhookDeliveryListResponse(deliveries, deliveries.Total);
    }

    private async Task<Webhook> RequireAsync(string id, CancellationToken cancellationToken) =>
        await store.FindWebhookAsync(id, cancellationToken) ?? throw NotFound(id);

    private static string Text(long id) => id.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static NotFoundException NotFound(string id) => new("webhook_not_found", $"webhook '{Prompts.PromptRules.Echo(id)}' does not exist.");

    private static string ValidateUrl(string? url)
    {
        if (string.IsNullOrWhiteSpace(url))
            throw new InvalidInputException("missing_url", "url is required: the absolute http or https URL that receives deliveries.", "url");
        Prompts.PromptRules.ValidateLength(url, MaxUrlLength, "url");
        if (!Uri.TryCreate(url.Trim(), UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            throw new InvalidInputException("invalid_url", $"url '{Prompts.PromptRules.Shorten(url)}' is not an absolute http or https URL.", "url");
        return uri.AbsoluteUri;
    }

    /// <summary>
    /// What the audit log keeps of a webhook's URL: its scheme, host and port. Every reader key reads the log, while the URL is
    /// for admins: its path or query is often the receiver's token (Slack's, Discord's), and its user info a password.
    /// </summary>
    private static string? Origin(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) ? uri.GetComponents(UriComponents.SchemeAndServer, UriFormat.UriEscaped) : null;

    private static List<string> ValidateEvents(IReadOnlyList<string>? events)
    {
        if (events is null || events.Count == 0)
            throw new InvalidInputException("missing_events", $"events is required: one or more of {string.Join(", ", WebhookEvents.All)}.", "events");
        foreach (var name in events)
        {
            if (!WebhookEvents.All.Contains(name))
                throw new InvalidInputException("unknown_event",
                    $"event '{Prompts.PromptRules.Shorten(name ?? "")}' is unknown: use {string.Join(", ", WebhookEvents.All)}.", "events");
        }
        return events.Distinct().ToList();
    }

    private const int MaxUrlLength = 2_000;
}
