using System.Text.Json;
using System.Text.Json.Serialization;
using PromptVault.Core.Audit;

namespace PromptVault.Core.Webhooks;

/// <summary>
/// The events a webhook can subscribe to, and the one mapping from an audit entry to the events it fires. The store applies
/// that mapping where it writes the audit entry, in the same transaction, so a committed change always has its deliveries and
/// a rolled-back one never does (docs/webhooks.md).
/// </summary>
public static class WebhookEvents
{
    public const string VersionCreated = "version.created";
    public const string LabelMoved = "label.moved";
    public const string ExperimentStarted = "experiment.started";
    public const string ExperimentPaused = "experiment.paused";
    public const string ExperimentCompleted = "experiment.completed";

    /// <summary>Every event name, in the order docs/webhooks.md lists them: every list of events a caller sees is this one.</summary>
    public static IReadOnlyList<string> All { get; } = [VersionCreated, LabelMoved, ExperimentStarted, ExperimentPaused, ExperimentCompleted];

    /// <summary>The events <paramref name="entry"/> fires: none for most actions, one for the changes webhooks announce.</summary>
    /// <param name="eventId">The id the payload carries, the same for every subscriber (receivers may deduplicate by it).</param>
    public static WebhookEvent? FromAudit(AuditEntry entry, string eventId)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var payload = entry.Action switch
        {
            AuditActions.VersionCreated => Payload(VersionCreated) with { Version = entry.Subject, VersionId = After(entry, "versionId") },
            AuditActions.LabelMoved or AuditActions.LabelRemoved => LabelPayload(entry.Subject, Before(entry, "version"), After(entry, "version")),
            // A promote and a rollback move the production label.
            AuditActions.Promoted or AuditActions.RolledBack => LabelPayload("production", Before(entry, "production"), After(entry, "production")),
            AuditActions.ExperimentStarted => Payload(ExperimentStarted) with { Experiment = entry.Subject },
            AuditActions.ExperimentPaused => Payload(ExperimentPaused) with { Experiment = entry.Subject },
            AuditActions.ExperimentCompleted => Payload(ExperimentCompleted) with { Experiment = entry.Subject },
            _ => null,
        };
        return payload is null ? null : new WebhookEvent(payload);

        WebhookPayload Payload(string name) => new(eventId, name, entry.Timestamp, entry.Actor, entry.PromptName);

        WebhookPayload LabelPayload(string? label, string? from, string? to) =>
            Payload(LabelMoved) with { Label = label, PreviousVersion = from, Version = to };
    }

    /// <summary>
    /// The <c>label.moved</c> an includer of the moved prompt hears (langfuse#9204): the same move, with <c>prompt</c> the includer
    /// and <c>via</c> the prompt whose label moved.
    /// </summary>
    /// <param name="moved">The <c>label.moved</c> of the referenced prompt.</param>
    /// <param name="includer">A prompt whose served version includes the moved one through that label, directly or through others.</param>
    /// <param name="eventId">The includer's event's own id.</param>
    public static WebhookEvent ForIncluder(WebhookEvent moved, string includer, string eventId)
    {
        ArgumentNullException.ThrowIfNull(moved);
        return new WebhookEvent(moved.Body with { Id = eventId, Prompt = includer, Via = moved.Body.Prompt });
    }

    /// <summary>The <c>label.moved</c> of a label an import (<paramref name="entry"/>) brought with a prompt it added: no previous version.</summary>
    public static WebhookEvent ImportedLabel(AuditEntry entry, string prompt, string label, string version, string eventId)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return new WebhookEvent(new WebhookPayload(eventId, LabelMoved, entry.Timestamp, entry.Actor, prompt) { Label = label, Version = version });
    }

    private static string? Before(AuditEntry entry, string key) => entry.Before?.GetValueOrDefault(key);

    private static string? After(AuditEntry entry, string key) => entry.After?.GetValueOrDefault(key);
}

/// <summary>One event to deliver: its body, its name and the JSON every subscriber receives.</summary>
public sealed record WebhookEvent(WebhookPayload Body)
{
    public string Name => Body.Event;

    public string Payload => JsonSerializer.Serialize(Body, WebhookJsonContext.Default.WebhookPayload);
}

/// <summary>
/// The JSON body of a delivery. Absent members are left out. A <c>label.moved</c> of a referenced prompt is delivered again
/// for each includer (<see cref="WebhookEvents.ForIncluder"/>), with <see cref="Prompt"/> the includer and <see cref="Via"/>
/// the referenced prompt whose label moved.
/// </summary>
public sealed record WebhookPayload(string Id, string Event, DateTimeOffset Timestamp, string Actor, string? Prompt)
{
    public string? Label { get; init; }
    public string? Version { get; init; }
    public string? PreviousVersion { get; init; }
    public string? VersionId { get; init; }
    public string? Experiment { get; init; }
    public string? Via { get; init; }
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(WebhookPayload))]
internal sealed partial class WebhookJsonContext : JsonSerializerContext;
