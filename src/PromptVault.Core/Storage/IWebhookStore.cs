using PromptVault.Core.Audit;
using PromptVault.Core.Webhooks;

namespace PromptVault.Core.Storage;

/// <summary>
/// Webhooks and their delivery outbox. Deliveries are written by the registry's own writes (in the transaction of the audit
/// entry that fires them, <see cref="WebhookEvents.FromAudit"/>); dispatchers claim them with a lease, so with several servers
/// on one database each attempt is made by one of them.
/// </summary>
public interface IWebhookStore
{
    Task CreateWebhookAsync(Webhook webhook, AuditEntry audit, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<Webhook>> ListWebhooksAsync(CancellationToken cancellationToken = default);

    Task<Webhook?> FindWebhookAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Deletes the webhook and its deliveries.</summary>
    /// <returns>False when there was no such webhook.</returns>
    Task<bool> DeleteWebhookAsync(string id, AuditEntry audit, CancellationToken cancellationToken = default);

    /// <summary>Ties the webhook to <paramref name="keyId"/> (an admin enabling it again after its key was revoked).</summary>
    /// <returns>False when there was no such webhook.</returns>
    Task<bool> SetWebhookKeyAsync(string id, string keyId, AuditEntry audit, CancellationToken cancellationToken = default);

    /// <summary>Queues the event of the webhook's delivery <paramref name="deliveryId"/> again, as a new pending delivery due at
    /// <paramref name="now"/> (same event and body, no attempts), with the audit entry <paramref name="audit"/> makes of it.</summary>
    /// <returns>The new delivery; null when the webhook has no such delivery.</returns>
    /// <exception cref="ConflictException">The delivery is still pending (<c>delivery_in_progress</c>): only a delivered or failed one is resent.</exception>
    Task<WebhookDelivery?> RedeliverAsync(string webhookId, long deliveryId, DateTimeOffset now, Func<WebhookDelivery, AuditEntry> audit,
        CancellationToken cancellationToken = default);

    /// <summary>The webhook's deliveries, newest first, with their attempts.</summary>
    Task<Page<WebhookDelivery>> ListDeliveriesAsync(string webhookId, PageRequest page, CancellationToken cancellationToken = default);

    /// <summary>Leases up to <paramref name="limit"/> pending deliveries that are due at <paramref name="now"/> and not leased by another dispatcher,
    /// oldest first, leaving any webhook with at most <paramref name="perWebhook"/> deliveries leased (by anyone) at once.</summary>
    Task<IReadOnlyList<ClaimedDelivery>> ClaimDeliveriesAsync(string owner, DateTimeOffset now, DateTimeOffset leaseUntil, int limit, int perWebhook,
        CancellationToken cancellationToken = default);

    /// <summary>Records an attempt and releases the lease, if <paramref name="owner"/> still holds it.</summary>
    /// <returns>False when the lease had been lost (expired and taken by another dispatcher): nothing is written.</returns>
    Task<bool> RecordAttemptAsync(long deliveryId, string owner, AttemptOutcome outcome, CancellationToken cancellationToken = default);

    /// <summary>Gives back a claimed delivery unattempted (its dispatcher is stopping), if <paramref name="owner"/> still holds it, so any
    /// dispatcher may claim it at once instead of after its lease.</summary>
    Task ReleaseLeaseAsync(long deliveryId, string owner, CancellationToken cancellationToken = default);
}
