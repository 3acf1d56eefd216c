namespace PromptVault.Core.Webhooks;

/// <summary>A registered receiver: where deliveries go, which events it hears, and the secret that signs them.</summary>
/// <param name="Url">Where deliveries go, as registered: its user info is sent as HTTP Basic credentials.</param>
/// <param name="KeyId">The API key it is tied to (the one that registered it, or last enabled it); null when unknown (registered
/// before webhooks were tied to keys), and then it is never disabled.</param>
/// <param name="KeyRevokedAt">When that key was revoked: the webhook is disabled from then on (nothing is queued for it, and its
/// pending deliveries wait) until an admin enables it again.</param>
public sealed record Webhook(string Id, string Url, IReadOnlyList<string> Events, string Secret, DateTimeOffset CreatedAt, string CreatedBy,
    string? KeyId = null, DateTimeOffset? KeyRevokedAt = null)
{
    /// <summary>Why it sends nothing, as every read shows it; null while it is enabled.</summary>
    public string? DisabledReason => KeyRevokedAt is { } revoked
        ? string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"the API key {KeyId} it is tied to was revoked at {revoked:O}: nothing is sent until an admin enables it again (POST /api/webhooks/{Id}/enable).")
        : null;

    /// <summary>The URL as every read shows it (API, CLI): with its credentials masked, <c>https://user:***@host/hook</c>.</summary>
    public string ShownUrl => MaskCredentials(Url);

    /// <summary>
    /// <paramref name="url"/> with the secret of its user info (the authority before its last <c>@</c>) replaced by <c>***</c>:
    /// the password when there is one (the user name stays: it says which credentials are used), else the user name, which
    /// alone is then the secret (<c>https://TOKEN@host/hook</c>). Unchanged when it has no user info.
    /// </summary>
    public static string MaskCredentials(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        var scheme = url.IndexOf("://", StringComparison.Ordinal);
        if (scheme < 0) return url;
        var start = scheme + 3;
        // .NET reads a backslash in an http URL as a slash.
        var end = url.IndexOfAny(['/', '\\', '?', '#'], start) is var stop and >= 0 ? stop : url.Length;
        var at = url.LastIndexOf('@', end - 1, end - start);
        if (at < 0) return url;
        var colon = url.IndexOf(':', start, at - start);
        return string.Concat(url.AsSpan(0, colon < 0 ? start : colon + 1), "***", url.AsSpan(at));
    }
}

/// <summary>Where a delivery stands: waiting for its next attempt, received (2xx), or given up after the last attempt.</summary>
public static class DeliveryStatus
{
    public const string Pending = "pending";
    public const string Delivered = "delivered";
    public const string Failed = "failed";
}

/// <summary>One event for one webhook, with every attempt made so far.</summary>
/// <param name="NextAttemptAt">When the next attempt is due; null once delivered or failed.</param>
public sealed record WebhookDelivery(long Id, string WebhookId, string Event, string Status, int Attempts, DateTimeOffset CreatedAt,
    DateTimeOffset? NextAttemptAt, DateTimeOffset? DeliveredAt, IReadOnlyList<WebhookAttempt> History);

/// <summary>One try to send a delivery: the receiver's status code, or the error when there was no answer.</summary>
public sealed record WebhookAttempt(int Attempt, DateTimeOffset At, int? StatusCode, string? Error, long DurationMs);

/// <summary>A delivery claimed by one server's dispatcher: everything needed to send it.</summary>
/// <param name="Attempts">Attempts made before this one.</param>
public sealed record ClaimedDelivery(long Id, string WebhookId, string Url, string Secret, string Event, string Payload, int Attempts);

/// <summary>What an attempt settled: the attempt, and the next one's time (null when delivered or given up).</summary>
public sealed record AttemptOutcome(WebhookAttempt Attempt, string Status, DateTimeOffset? NextAttemptAt);
