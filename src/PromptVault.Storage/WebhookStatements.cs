using System.Data.Common;
using Dapper;
using PromptVault.Core;
using PromptVault.Core.Audit;
using PromptVault.Core.Prompts;
using PromptVault.Core.Templates;
using PromptVault.Core.Webhooks;
using static PromptVault.Storage.StoredValues;

namespace PromptVault.Storage;

/// <summary>Webhooks and their delivery outbox, in the SQL both engines run, on the caller's connection and transaction.</summary>
internal static class WebhookStatements
{
    private const string WebhookColumns = """
        w.id AS Id, w.url AS Url, w.events AS Events, w.secret AS Secret, w.created_at AS CreatedAt, w.created_by AS CreatedBy, w.key_id AS KeyId,
        (SELECT revoked_at FROM api_keys WHERE api_keys.id = w.key_id) AS KeyRevokedAt
        """;

    /// <summary>
    /// The condition that the webhook <paramref name="webhook"/> (a table name or alias) is enabled: the key it is tied to is not
    /// revoked (or unknown: a webhook registered before webhooks were tied to keys). The one rule, for queuing and claiming.
    /// </summary>
    private static string Enabled(string webhook) =>
        $"NOT EXISTS (SELECT 1 FROM api_keys WHERE api_keys.id = {webhook}.key_id AND api_keys.revoked_at IS NOT NULL)";

    public const string DeliveryColumns = """
        id AS Id, webhook_id AS WebhookId, event AS Event, status AS Status, attempts AS Attempts, created_at AS CreatedAt,
        next_attempt_at AS NextAttemptAt, delivered_at AS DeliveredAt
        """;

    /// <summary>
    /// Queues the event <paramref name="entry"/> fires (if any) for every webhook subscribed to it, in the audit entry's transaction:
    /// the one place events are raised. A label move is also queued for each prompt that includes the moved label, so it is
    /// committed (or rolled back) with the move and sees the includes as they are in this transaction.
    /// </summary>
    public static async Task EnqueueAsync(DbConnection connection, DbTransaction transaction, AuditEntry entry, CancellationToken cancellationToken)
    {
        if (WebhookEvents.FromAudit(entry, EventId(entry)) is not { } fired)
            return;
        await InsertDeliveriesAsync(connection, transaction, fired, entry.Timestamp, cancellationToken);
        // The includers are found by parsing every labelled version that may include another: only worth it when someone listens.
        if (fired.Name != WebhookEvents.LabelMoved || fired.Body is not { Prompt: { } moved, Label: { } label }
            || !await AnySubscriberAsync(connection, transaction, fired.Name, cancellationToken))
            return;
        var labelled = await ReadLabelledIncludesAsync(connection, transaction, cancellationToken);
        foreach (var includer in IncludeDependents.Of(moved, label, labelled))
            await InsertDeliveriesAsync(connection, transaction, WebhookEvents.ForIncluder(fired, includer, EventId(entry)), entry.Timestamp, cancellationToken);
    }

    /// <summary>
    /// Queues the <c>label.moved</c> an import fires for each label of the prompts it added (<paramref name="prompts"/>, by name),
    /// in the transaction of its audit entry <paramref name="entry"/>: the label now serves a version where the prompt served none.
    /// </summary>
    /// <param name="isAnyOf">The engine's condition that a column is one of an array parameter (column, parameter).</param>
    public static async Task EnqueueImportedLabelsAsync(DbConnection connection, DbTransaction transaction, AuditEntry entry, IReadOnlyCollection<string> prompts,
        Func<string, string, string> isAnyOf, CancellationToken cancellationToken)
    {
        if (prompts.Count == 0 || !await AnySubscriberAsync(connection, transaction, WebhookEvents.LabelMoved, cancellationToken))
            return;
        // Only the added prompts' labels are read, by name, in chunks: SQLite binds each name as a parameter, and caps their number.
        // The names go in ordinal order, as both engines' binary collations sort them, so the events come by prompt then label.
        foreach (var names in prompts.Order(StringComparer.Ordinal).Chunk(ImportedPromptsPerRead))
        {
            var labels = await connection.QueryAsync<(string Prompt, string Label, long Major, long Minor, long Patch)>(RegistryStatements.Command($"""
                SELECT p.name, l.name, v.major, v.minor, v.patch
                FROM prompts p JOIN labels l ON l.prompt_id = p.id JOIN versions v ON v.id = l.version_id
                WHERE {isAnyOf("p.name", "Names")}
                ORDER BY p.name, l.name
                """, new { Names = names }, cancellationToken, transaction));
            foreach (var (prompt, label, major, minor, patch) in labels)
                await InsertDeliveriesAsync(connection, transaction, WebhookEvents.ImportedLabel(entry, prompt, label, $"{major}.{minor}.{patch}", EventId(entry)),
                    entry.Timestamp, cancellationToken);
        }
    }

    private const int ImportedPromptsPerRead = 500;

    private static string EventId(AuditEntry entry) => Guid.CreateVersion7(entry.Timestamp).ToString("N");

    private static Task InsertDeliveriesAsync(DbConnection connection, DbTransaction transaction, WebhookEvent fired, DateTimeOffset at,
        CancellationToken cancellationToken)
    {
        var now = ToText(at);
        return connection.ExecuteAsync(RegistryStatements.Command($"""
            INSERT INTO webhook_deliveries (webhook_id, event, payload, status, attempts, created_at, next_attempt_at)
            SELECT id, @Event, @Payload, '{DeliveryStatus.Pending}', 0, @Now, @Now FROM webhooks WHERE {SubscribedTo} AND {Enabled("webhooks")}
            """, new { Event = fired.Name, fired.Payload, Now = now, Subscribed = SubscribedPattern(fired.Name) }, cancellationToken, transaction));
    }

    private static async Task<bool> AnySubscriberAsync(DbConnection connection, DbTransaction transaction, string eventName, CancellationToken cancellationToken) =>
        await connection.ExecuteScalarAsync<long>(RegistryStatements.Command($"SELECT COUNT(*) FROM webhooks WHERE {SubscribedTo} AND {Enabled("webhooks")}",
            new { Subscribed = SubscribedPattern(eventName) }, cancellationToken, transaction)) > 0;

    // A webhook's events are stored as a JSON array of names; the quotes keep one name from matching inside another.
    private const string SubscribedTo = "events LIKE @Subscribed";
    private static string SubscribedPattern(string eventName) => $"%\"{eventName}\"%";

    /// <summary>Every labelled version whose template or messages may include another prompt (the LIKE only narrows; the parser decides).</summary>
    private static async Task<IReadOnlyList<LabelledIncludes>> ReadLabelledIncludesAsync(DbConnection connection, DbTransaction transaction,
        CancellationToken cancellationToken)
    {
        // A version the filter lets through is parsed, so one too many costs only that.
        var (mayInclude, mayIncludeInJson) = RegistryStatements.IncludePatterns("");
        var rows = await connection.QueryAsync<(string Prompt, string Label, string Content, string? Messages)>(RegistryStatements.Command($"""
            SELECT p.name, l.name, v.content, v.messages
            FROM labels l JOIN versions v ON v.id = l.version_id JOIN prompts p ON p.id = l.prompt_id
            WHERE {RegistryStatements.MayIncludeCondition("v")}
            """, new { MayInclude = mayInclude, MayIncludeInJson = mayIncludeInJson }, cancellationToken, transaction));
        return rows.Select(r => new LabelledIncludes(r.Prompt, r.Label,
                TemplateEngine.IncludesIn(r.Content, r.Messages is null ? null : FromJson<List<PromptMessage>>(r.Messages))))
            .Where(l => l.References.Count > 0).ToList();
    }

    public static Task InsertWebhookAsync(DbConnection connection, DbTransaction transaction, Webhook webhook, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(RegistryStatements.Command("""
            INSERT INTO webhooks (id, url, events, secret, created_at, created_by, key_id) VALUES (@Id, @Url, @Events, @Secret, @CreatedAt, @CreatedBy, @KeyId)
            """, new
        {
            webhook.Id, webhook.Url, Events = ToJson(webhook.Events.ToList()), webhook.Secret, CreatedAt = ToText(webhook.CreatedAt), webhook.CreatedBy,
            webhook.KeyId,
        }, cancellationToken, transaction));

    public static async Task<IReadOnlyList<Webhook>> FindWebhooksAsync(DbConnection connection, string? id, CancellationToken cancellationToken)
    {
        var where = id is null ? "" : "WHERE w.id = @id";
        var rows = await connection.QueryAsync<WebhookRow>(RegistryStatements.Command(
            $"SELECT {WebhookColumns} FROM webhooks w {where} ORDER BY w.created_at, w.id", new { id }, cancellationToken));
        return rows.Select(r => r.ToWebhook()).ToList();
    }

    public static async Task<bool> DeleteWebhookAsync(DbConnection connection, DbTransaction transaction, string id, CancellationToken cancellationToken)
    {
        // Explicit deletes rather than ON DELETE CASCADE alone: the same on both engines, whatever their foreign-key settings.
        await connection.ExecuteAsync(RegistryStatements.Command(
            "DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM webhook_deliveries WHERE webhook_id = @id)", new { id }, cancellationToken, transaction));
        await connection.ExecuteAsync(RegistryStatements.Command("DELETE FROM webhook_deliveries WHERE webhook_id = @id", new { id }, cancellationToken, transaction));
        return await connection.ExecuteAsync(RegistryStatements.Command("DELETE FROM webhooks WHERE id = @id", new { id }, cancellationToken, transaction)) > 0;
    }

    public static async Task<bool> SetWebhookKeyAsync(DbConnection connection, DbTransaction transaction, string id, string keyId,
        CancellationToken cancellationToken) =>
        await connection.ExecuteAsync(RegistryStatements.Command("UPDATE webhooks SET key_id = @keyId WHERE id = @id", new { id, keyId },
            cancellationToken, transaction)) > 0;

    /// <summary>A new pending delivery of the event of <paramref name="deliveryId"/>, due at <paramref name="now"/>; null when
    /// <paramref name="webhookId"/> has no such delivery. Only a finished (delivered or failed) delivery is resent, decided by the
    /// inserting statement itself: a pending one would go out twice.</summary>
    /// <exception cref="ConflictException">The delivery is still pending (<c>delivery_in_progress</c>).</exception>
    public static async Task<WebhookDelivery?> RedeliverAsync(DbConnection connection, DbTransaction transaction, string webhookId, long deliveryId,
        DateTimeOffset now, CancellationToken cancellationToken)
    {
        var parameters = new { webhookId, deliveryId, Now = ToText(now) };
        var row = await connection.QuerySingleOrDefaultAsync<DeliveryRow>(RegistryStatements.Command($"""
            INSERT INTO webhook_deliveries (webhook_id, event, payload, status, attempts, created_at, next_attempt_at)
            SELECT webhook_id, event, payload, '{DeliveryStatus.Pending}', 0, @Now, @Now FROM webhook_deliveries
            WHERE id = @deliveryId AND webhook_id = @webhookId AND status <> '{DeliveryStatus.Pending}'
            RETURNING {DeliveryColumns}
            """, parameters, cancellationToken, transaction));
        if (row is not null) return row.ToDelivery([]);
        var pending = await connection.QuerySingleOrDefaultAsync<PendingRow>(RegistryStatements.Command($"""
            SELECT next_attempt_at AS NextAttemptAt, lease_until > @Now AS InFlight FROM webhook_deliveries
            WHERE id = @deliveryId AND webhook_id = @webhookId AND status = '{DeliveryStatus.Pending}'
            """, parameters, cancellationToken, transaction));
        return pending is null ? null
            : throw ConflictException.DeliveryInProgress(webhookId, deliveryId, pending.InFlight == true, ToTimeOrNull(pending.NextAttemptAt));
    }

    /// <summary>The attempts of <paramref name="deliveryIds"/>, by delivery.</summary>
    /// <param name="isAnyOf">The engine's condition that <c>delivery_id</c> is one of the array parameter <c>Ids</c>.</param>
    public static async Task<ILookup<long, WebhookAttempt>> ReadAttemptsAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<long> deliveryIds,
        string isAnyOf, CancellationToken cancellationToken)
    {
        var rows = await connection.QueryAsync<AttemptRow>(RegistryStatements.Command($"""
            SELECT delivery_id AS DeliveryId, attempt AS Attempt, at AS At, status_code AS StatusCode, error AS Error, duration_ms AS DurationMs
            FROM webhook_attempts WHERE {isAnyOf} ORDER BY delivery_id, attempt
            """, new { Ids = deliveryIds.ToArray() }, cancellationToken, transaction));
        return rows.ToLookup(r => r.DeliveryId, r => r.ToAttempt());
    }

    private const string Claimable = $"status = '{DeliveryStatus.Pending}' AND next_attempt_at <= @Now AND (lease_until IS NULL OR lease_until <= @Now)";

    /// <summary>
    /// The statement that leases the due deliveries to <c>@owner</c>, oldest first, but at most <c>@perWebhook</c> of one webhook
    /// in flight (leased and unexpired, by any claimer), so one hanging receiver cannot take every slot, and returns them. Its
    /// cost is bounded by what it may claim, however large the backlog: for each webhook it reads only its first
    /// <c>@perWebhook</c> claimable deliveries (and those in flight) through the pending deliveries' index by (webhook_id,
    /// next_attempt_at, id), counts those in flight through the leased deliveries' index (the webhook_claim_indexes migration),
    /// and returns the rows it updated rather than looking them up again by owner (which, with no index SQLite would pick
    /// without statistics, read every delivery, history and all). The UPDATE repeats the conditions: on PostgreSQL a concurrent
    /// claimer waits on the row lock and then re-checks them on the row as committed, so it skips rows just leased.
    /// </summary>
    /// <param name="eachWebhookWith">The engine's <see cref="RelationalPromptStore{TConnection, TTransaction}.EachWebhookWith"/>.</param>
    public static string ClaimSql(Func<string, string> eachWebhookWith) => $"""
        UPDATE webhook_deliveries SET lease_owner = @owner, lease_until = @LeaseUntil
        WHERE id IN (
            SELECT id FROM (
                SELECT due.id, due.next_attempt_at,
                       ROW_NUMBER() OVER (PARTITION BY w.id ORDER BY due.next_attempt_at, due.id)
                       + (SELECT COUNT(*) FROM webhook_deliveries sending
                          WHERE sending.webhook_id = w.id AND sending.status = '{DeliveryStatus.Pending}' AND sending.lease_until > @Now) AS place
                FROM {eachWebhookWith($"SELECT id FROM webhook_deliveries WHERE webhook_id = w.id AND {Claimable} ORDER BY next_attempt_at, id LIMIT @perWebhook")}
                WHERE {Enabled("w")}
            ) ranked
            WHERE place <= @perWebhook
            ORDER BY next_attempt_at, id LIMIT @limit)
        AND {Claimable}
        RETURNING id AS Id, webhook_id AS WebhookId, event AS Event, payload AS Payload, attempts AS Attempts,
            (SELECT url FROM webhooks WHERE webhooks.id = webhook_deliveries.webhook_id) AS Url,
            (SELECT secret FROM webhooks WHERE webhooks.id = webhook_deliveries.webhook_id) AS Secret
        """;

    /// <summary>Runs <paramref name="claimSql"/> (<see cref="ClaimSql"/>): what it leased to <paramref name="owner"/>, by id.</summary>
    public static async Task<IReadOnlyList<ClaimedDelivery>> ClaimAsync(DbConnection connection, DbTransaction transaction, string claimSql, string owner,
        DateTimeOffset now, DateTimeOffset leaseUntil, int limit, int perWebhook, CancellationToken cancellationToken)
    {
        var rows = await connection.QueryAsync<ClaimRow>(RegistryStatements.Command(claimSql, ClaimParameters(owner, now, leaseUntil, limit, perWebhook),
            cancellationToken, transaction));
        return rows.OrderBy(r => r.Id).Select(r => new ClaimedDelivery(r.Id, r.WebhookId, r.Url, r.Secret, r.Event, r.Payload, r.Attempts)).ToList();
    }

    /// <summary>The parameters of <see cref="ClaimSql"/>.</summary>
    public static object ClaimParameters(string owner, DateTimeOffset now, DateTimeOffset leaseUntil, int limit, int perWebhook) =>
        new { owner, Now = ToText(now), LeaseUntil = ToText(leaseUntil), limit, perWebhook };

    public static async Task<bool> RecordAttemptAsync(DbConnection connection, DbTransaction transaction, long id, string owner, AttemptOutcome outcome,
        CancellationToken cancellationToken)
    {
        var attempt = outcome.Attempt;
        var updated = await connection.ExecuteAsync(RegistryStatements.Command("""
            UPDATE webhook_deliveries
            SET attempts = @Number, status = @Status, next_attempt_at = @Next, delivered_at = @DeliveredAt, lease_owner = NULL, lease_until = NULL
            WHERE id = @id AND lease_owner = @owner
            """, new
        {
            id, owner, Number = attempt.Attempt, outcome.Status, Next = ToText(outcome.NextAttemptAt),
            DeliveredAt = outcome.Status == DeliveryStatus.Delivered ? ToText(attempt.At) : null,
        }, cancellationToken, transaction));
        if (updated == 0) return false;
        await connection.ExecuteAsync(RegistryStatements.Command("""
            INSERT INTO webhook_attempts (delivery_id, attempt, at, status_code, error, duration_ms) VALUES (@id, @Attempt, @At, @StatusCode, @Error, @DurationMs)
            """, new { id, attempt.Attempt, At = ToText(attempt.At), attempt.StatusCode, attempt.Error, attempt.DurationMs }, cancellationToken, transaction));
        return true;
    }

    public static Task<int> ReleaseLeaseAsync(DbConnection connection, DbTransaction transaction, long id, string owner, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(RegistryStatements.Command("UPDATE webhook_deliveries SET lease_owner = NULL, lease_until = NULL WHERE id = @id AND lease_owner = @owner",
            new { id, owner }, cancellationToken, transaction));

    private sealed class WebhookRow
    {
        public string Id { get; set; } = "";
        public string Url { get; set; } = "";
        public string Events { get; set; } = "[]";
        public string Secret { get; set; } = "";
        public string CreatedAt { get; set; } = "";
        public string CreatedBy { get; set; } = "";
        public string? KeyId { get; set; }
        public string? KeyRevokedAt { get; set; }

        public Webhook ToWebhook() => new(Id, Url, FromJson<List<string>>(Events), Secret, ToTime(CreatedAt), CreatedBy, KeyId, ToTimeOrNull(KeyRevokedAt));
    }

    private sealed class PendingRow
    {
        public string? NextAttemptAt { get; set; }
        public bool? InFlight { get; set; }
    }

    private sealed class ClaimRow
    {
        public long Id { get; set; }
        public string WebhookId { get; set; } = "";
        public string Url { get; set; } = "";
        public string Secret { get; set; } = "";
        public string Event { get; set; } = "";
        public string Payload { get; set; } = "";
        public int Attempts { get; set; }
    }

    private sealed class AttemptRow
    {
        public long DeliveryId { get; set; }
        public int Attempt { get; set; }
        public string At { get; set; } = "";
        public int? StatusCode { get; set; }
        public string? Error { get; set; }
        public long DurationMs { get; set; }

        public WebhookAttempt ToAttempt() => new(Attempt, ToTime(At), StatusCode, Error, DurationMs);
    }
}

internal sealed class DeliveryRow
{
    public long Id { get; set; }
    public string WebhookId { get; set; } = "";
    public string Event { get; set; } = "";
    public string Status { get; set; } = "";
    public int Attempts { get; set; }
    public string CreatedAt { get; set; } = "";
    public string? NextAttemptAt { get; set; }
    public string? DeliveredAt { get; set; }

    public WebhookDelivery ToDelivery(IEnumerable<WebhookAttempt> history) =>
        new(Id, WebhookId, Event, Status, Attempts, StoredValues.ToTime(CreatedAt), StoredValues.ToTimeOrNull(NextAttemptAt),
            StoredValues.ToTimeOrNull(DeliveredAt), history.ToList());
}
