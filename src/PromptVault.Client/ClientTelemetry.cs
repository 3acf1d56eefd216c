using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace PromptVault.Client;

/// <summary>
/// The names of what the SDK emits for OpenTelemetry: one <see cref="ActivitySource"/> and one <see cref="Meter"/>, both named
/// <see cref="Name"/>. Nothing is collected unless a listener subscribes to that name (e.g. <c>AddSource("PromptVault.Client")</c>).
/// </summary>
public static class ClientTelemetry
{
    /// <summary>The name of the SDK's activity source and meter: <c>PromptVault.Client</c>.</summary>
    public const string Name = "PromptVault.Client";

    /// <summary>The span of one resolution (<see cref="IPromptVault.GetPromptAsync"/>).</summary>
    public const string ResolveSpan = "promptvault.resolve";

    /// <summary>The span of one model call through the chat middleware.</summary>
    public const string ChatSpan = "promptvault.chat";

    /// <summary>Tag: the prompt's name.</summary>
    public const string PromptTag = "promptvault.prompt";

    /// <summary>Tag: the version number served.</summary>
    public const string VersionTag = "promptvault.version";

    /// <summary>Tag: the id of the version served.</summary>
    public const string VersionIdTag = "promptvault.version_id";

    /// <summary>Tag: the experiment that chose the version.</summary>
    public const string ExperimentIdTag = "promptvault.experiment_id";

    /// <summary>Tag: the experiment's variant served.</summary>
    public const string VariantIdTag = "promptvault.variant_id";

    /// <summary>Gauge: events waiting to be sent.</summary>
    public const string QueueDepthGauge = "promptvault.client.queue.depth";

    /// <summary>Counter: events dropped because the queue was full.</summary>
    public const string DroppedCounter = "promptvault.client.events.dropped";

    /// <summary>Gauge: seconds since the server last confirmed the snapshot served.</summary>
    public const string SnapshotAgeGauge = "promptvault.client.snapshot.age";

    internal static readonly ActivitySource Source = new(Name);

    internal static Activity? StartResolve(string prompt) =>
        Source.HasListeners() ? Source.StartActivity(ResolveSpan, ActivityKind.Internal)?.SetTag(PromptTag, prompt) : null;

    internal static void Tag(Activity? activity, ResolvedPrompt resolved)
    {
        if (activity is null) return;
        activity.SetTag(PromptTag, resolved.PromptName);
        activity.SetTag(VersionTag, resolved.Version);
        activity.SetTag(VersionIdTag, resolved.VersionId);
        if (resolved.ExperimentId is not null) activity.SetTag(ExperimentIdTag, resolved.ExperimentId);
        if (resolved.VariantId is not null) activity.SetTag(VariantIdTag, resolved.VariantId);
    }
}
