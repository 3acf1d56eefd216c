namespace PromptVault.Core.Audit;

/// <summary>One line of the append-only audit log: who did what, when, and the state before and after.</summary>
/// <param name="Id">Assigned by the store; 0 before it is written.</param>
/// <param name="Action">A stable dotted name, see <see cref="AuditActions"/>.</param>
/// <param name="Subject">What was acted on within the prompt: a version number, label or key id.</param>
public sealed record AuditEntry(
    long Id,
    DateTimeOffset Timestamp,
    string Actor,
    string Action,
    string? PromptName,
    string? Subject,
    IReadOnlyDictionary<string, string?>? Before,
    IReadOnlyDictionary<string, string?>? After)
{
    /// <summary>The change for a person to read (the CLI's <c>audit</c>, the dashboard's audit page): <c>field: before → after</c> for each
    /// field that moved, <c>field=value</c> for what was only set, <c>field was value</c> for what was only there before (a deletion).</summary>
    public string Change()
    {
        var before = Before ?? new Dictionary<string, string?>();
        var after = After ?? new Dictionary<string, string?>();
        var fields = before.Keys.Union(after.Keys).Select(key =>
            before.ContainsKey(key) && after.ContainsKey(key) ? $"{key}: {before[key] ?? "(none)"} → {after[key] ?? "(none)"}"
            : after.TryGetValue(key, out var value) ? $"{key}={value}"
            : $"{key} was {before[key]}");
        return string.Join("; ", fields);
    }
}

/// <summary>The actions the audit log records.</summary>
public static class AuditActions
{
    public const string PromptCreated = "prompt.created";
    public const string VersionCreated = "version.created";
    public const string PromptUpdated = "prompt.updated";
    public const string StatusChanged = "version.status_changed";
    public const string LabelMoved = "label.moved";
    public const string LabelRemoved = "label.removed";
    public const string Promoted = "version.promoted";
    public const string RolledBack = "prompt.rolled_back";
    /// <summary>A version's test cases replaced (PUT .../tests).</summary>
    public const string TestsChanged = "version.tests_changed";
    public const string ApiKeyCreated = "api_key.created";
    public const string ApiKeyRevoked = "api_key.revoked";
    /// <summary>An admin key made by <c>promptvault admin-key</c> on the server's machine, outside the API.</summary>
    public const string AdminKeyRecovered = "api_key.admin_recovered";
    public const string ExperimentCreated = "experiment.created";
    public const string ExperimentStarted = "experiment.started";
    public const string ExperimentPaused = "experiment.paused";
    public const string ExperimentCompleted = "experiment.completed";
    public const string ExperimentCancelled = "experiment.cancelled";
    public const string WebhookCreated = "webhook.created";
    public const string WebhookDeleted = "webhook.deleted";
    /// <summary>A webhook tied to the enabling admin's key (<c>POST /api/webhooks/{id}/enable</c>), as after its own key was revoked.</summary>
    public const string WebhookEnabled = "webhook.enabled";
    /// <summary>A delivery's event queued again (<c>POST /api/webhooks/{id}/deliveries/{deliveryId}/redeliver</c>): <c>before</c> names
    /// the delivery resent, <c>after</c> the new one.</summary>
    public const string WebhookRedelivered = "webhook.redelivered";
    /// <summary>An import (<c>POST /api/import</c>): its <c>after</c> names the prompts and API key ids it added.</summary>
    public const string RegistryImported = "registry.imported";
}
