using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using PromptVault.Client.Events;
using PromptVault.Client.Snapshots;
using PromptVault.Core;
using PromptVault.Core.Contracts;
using PromptVault.Core.Experiments;
using PromptVault.Core.Metrics;
using PromptVault.Core.Prompts;

namespace PromptVault.Client;

/// <summary>The <see cref="IPromptVault"/> of <c>AddPromptVault</c>: resolves from the <see cref="SnapshotSource"/>, records into the <see cref="EventQueue"/>.</summary>
internal sealed class PromptVaultSdk : IPromptVault, IAsyncDisposable, IDisposable
{
    private readonly TimeProvider _time;
    private readonly Meter? _meter;

    public PromptVaultSdk(SnapshotSource snapshots, EventQueue events, TimeProvider time, IMeterFactory? meterFactory)
    {
        Snapshots = snapshots;
        Events = events;
        _time = time;
        _meter = meterFactory?.Create(ClientTelemetry.Name);
        if (_meter is null) return;
        _meter.CreateObservableGauge(ClientTelemetry.QueueDepthGauge, () => Events.Depth, "{event}", "Events waiting to be sent.");
        _meter.CreateObservableCounter(ClientTelemetry.DroppedCounter, () => Events.Dropped, "{event}", "Events dropped because the queue was full.");
        _meter.CreateObservableGauge(ClientTelemetry.SnapshotAgeGauge, () => Snapshots.Age is { } age ? [new Measurement<double>(age.TotalSeconds)] : Array.Empty<Measurement<double>>(),
            "s", "Time since the server last confirmed the snapshot served.");
    }

    public SnapshotSource Snapshots { get; }

    public EventQueue Events { get; }

    public ValueTask<ResolvedPrompt> GetPromptAsync(string name, IReadOnlyDictionary<string, object?>? variables = null, string? unitId = null,
        string? label = null, string? version = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (Snapshots.Current is not { } snapshot)
            return GetPromptAfterFirstSnapshotAsync(name, variables, unitId, label, version, cancellationToken);
        // Once the first snapshot is in, a call completes synchronously, without an async state machine; its errors still
        // come through the task, as an async method's do.
        try
        {
            return ValueTask.FromResult(GetPrompt(snapshot, name, variables, unitId, label, version));
        }
        catch (Exception e)
        {
            return ValueTask.FromException<ResolvedPrompt>(e);
        }
    }

    private async ValueTask<ResolvedPrompt> GetPromptAfterFirstSnapshotAsync(string name, IReadOnlyDictionary<string, object?>? variables, string? unitId,
        string? label, string? version, CancellationToken cancellationToken) =>
        GetPrompt(await Snapshots.EnsureLoadedAsync(cancellationToken).ConfigureAwait(false), name, variables, unitId, label, version);

    private ResolvedPrompt GetPrompt(SnapshotView snapshot, string name, IReadOnlyDictionary<string, object?>? variables, string? unitId, string? label, string? version)
    {
        using var activity = ClientTelemetry.StartResolve(name);
        var resolved = Resolve(snapshot, name, variables, unitId, label, version);
        ClientTelemetry.Tag(activity, resolved);
        if (resolved.ExperimentId is not null)
            Events.Enqueue(QueuedEvent.Exposure(resolved.ExperimentId, resolved.VariantId!, unitId!, _time.GetUtcNow()));
        return resolved;
    }

    /// <summary>The server's resolve and render (ExperimentService.RenderAsync, PromptRegistry.RenderAsync) over the snapshot.</summary>
    internal static ResolvedPrompt Resolve(SnapshotView snapshot, string name, IReadOnlyDictionary<string, object?>? variables, string? unitId, string? label, string? version)
    {
        EnsureVariables(variables);
        Serving.EnsureUnitIdIsText(unitId);
        var byExperiment = Serving.ByExperimentValidated(unitId, version, label);
        var prompt = snapshot.Prompts.GetValueOrDefault(name) ?? throw PromptNotFound(name, snapshot.Sequence);
        VersionView served;
        (string Id, string VariantId)? experiment = null;
        if (!string.IsNullOrWhiteSpace(version))
        {
            served = (version == Serving.LatestVersion ? prompt.Latest
                    : Core.Versioning.SemanticVersion.TryParse(version, out var number) ? prompt.VersionsByNumber.GetValueOrDefault(number)
                    : prompt.VersionsById.GetValueOrDefault(version))
                ?? throw (prompt.ArchivedNumber(version) is { } archived ? (Exception)Serving.VersionArchived(prompt.Name, archived.ToString())
                    : VersionNotFound(prompt, version));
        }
        else if (byExperiment)
        {
            if (prompt.Experiment is { } running)
            {
                var variant = running.Variants[Assignment.VariantIndex(running.HashSeed, unitId, running.BucketEnds)];
                served = variant.Version;
                experiment = (running.Id, variant.VariantId);
            }
            else
            {
                served = Labelled(prompt, Label.Production);
            }
        }
        else
        {
            served = Labelled(prompt, label ?? Label.Production);
        }
        Serving.EnsureServable(prompt.Name, served.Version.Version, served.Version.Status);
        try
        {
            return Render(prompt, served, variables, unitId, experiment, snapshot.IncludesOf(prompt, served));
        }
        catch (InvalidInputException e)
        {
            throw Serving.RenderRefused(e, prompt.Name, served.Version.Version);
        }
    }

    private static ResolvedPrompt Render(PromptView prompt, VersionView served, IReadOnlyDictionary<string, object?>? variables, string? unitId,
        (string Id, string VariantId)? experiment, Core.Templates.PromptIncludes includes)
    {
        if (served.Chat is { } chat)
        {
            var messages = chat.RenderValues(WithChatMessagesAsItems(variables), includes).Select(m => new ChatMessage(new ChatRole(Names.Of(m.Role)), m.Content)).ToList();
            return new ResolvedPrompt(prompt.Name, "", ChatRole.System, served, experiment?.Id, experiment?.VariantId, unitId, messages) { References = includes.Versions };
        }
        var content = served.Template.RenderValues(variables, includes);
        var role = prompt.Type switch { PromptType.User => ChatRole.User, PromptType.Assistant => ChatRole.Assistant, _ => ChatRole.System };
        return new ResolvedPrompt(prompt.Name, content, role, served, experiment?.Id, experiment?.VariantId, unitId) { References = includes.Versions };
    }

    /// <summary>A placeholder's value may be Microsoft.Extensions.AI messages (a conversation's history): each becomes the
    /// <c>{ role, content }</c> item the render splices in.</summary>
    private static IReadOnlyDictionary<string, object?>? WithChatMessagesAsItems(IReadOnlyDictionary<string, object?>? variables)
    {
        if (variables is null || !variables.Values.Any(v => v is IEnumerable<ChatMessage>)) return variables;
        return variables.ToDictionary(v => v.Key, v => v.Value is IEnumerable<ChatMessage> messages
            ? messages.Select(m => new Dictionary<string, object?> { ["role"] = m.Role.Value, ["content"] = m.Text }).ToList()
            : v.Value, StringComparer.Ordinal);
    }

    /// <summary>
    /// Worded as the server's; a version the server may hold outside the snapshot (an unlabelled number up to the newest,
    /// an id) is said to be missing from the snapshot only.
    /// </summary>
    private static NotFoundException VersionNotFound(PromptView prompt, string version)
    {
        var label = prompt.Labels.GetValueOrDefault(version);
        var beyondNewest = Core.Versioning.SemanticVersion.TryParse(version, out var number) && (prompt.Latest?.Number is not { } newest || number.CompareTo(newest) > 0);
        var maybeOnServer = label is null && !beyondNewest && version != Serving.LatestVersion;
        return Serving.VersionNotFound(prompt.Name, version, label?.Version.Version,
            maybeOnServer ? "the snapshot (it carries the labelled versions, those of running experiments and the newest)" : null);
    }

    /// <summary>Not in the snapshot; a name no prompt could have is refused as the server refuses it (<c>invalid_name</c>). Checked
    /// only here, as every name in the snapshot is valid.</summary>
    /// <remarks>The snapshot holds every prompt, a prompt with no label too (that is <c>label_not_found</c>), so a name missing
    /// from it names no prompt, or one created after the snapshot was built.</remarks>
    private static NotFoundException PromptNotFound(string name, long sequence)
    {
        PromptRules.ValidatePromptName(name);
        return new NotFoundException("prompt_not_found",
            $"prompt '{name}' does not exist in snapshot {sequence}; a prompt created since is served once the next snapshot arrives.");
    }

    /// <summary>The server refuses a request whose variables hold U+0000 while reading it, before anything else: so does this,
    /// and a value nested too deep (a list that holds itself), which would otherwise take the stack.</summary>
    private static void EnsureVariables(IReadOnlyDictionary<string, object?>? variables)
    {
        if (variables is null) return;
        foreach (var (name, value) in variables)
            NulRefusal.EnsureVariable(name, value);
    }

    private static VersionView Labelled(PromptView prompt, string label)
    {
        PromptRules.ValidateLabel(label);
        return prompt.Labels.GetValueOrDefault(label) ?? throw Serving.LabelNotFound(prompt.Name, label);
    }

    public ValueTask RecordAsync(ResolvedPrompt resolution, PromptOutcome outcome, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(resolution);
        ArgumentNullException.ThrowIfNull(outcome);
        Record(resolution.VersionId, resolution.ExperimentId, resolution.VariantId, resolution.UnitId, outcome);
        return ValueTask.CompletedTask;
    }

    public ValueTask RecordFeedbackAsync(string resolutionId, PromptOutcome outcome, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        var resolution = ResolutionIds.Decode(resolutionId);
        Record(resolution.VersionId, resolution.ExperimentId, resolution.VariantId, resolution.UnitId, outcome);
        return ValueTask.CompletedTask;
    }

    public Task FlushAsync(CancellationToken cancellationToken = default) => Events.FlushAsync(cancellationToken);

    private void Record(string versionId, string? experimentId, string? variantId, string? unitId, PromptOutcome outcome)
    {
        // The server would refuse the event, and its batch's other events with it.
        Serving.RefuseBlankUnitId(unitId, "resolution.UnitId");
        Events.Enqueue(new QueuedEvent(versionId, experimentId, variantId, unitId, outcome.Timestamp ?? _time.GetUtcNow(), Sendable(outcome)));
    }

    /// <summary>
    /// The outcome as the sender will send it, later and on another thread: its numbers finite, which JSON needs (the server
    /// checks their ranges), its text what the server takes (an event it refuses would take its batch's other events with
    /// it), and its metadata a copy, so the caller may dispose its document once this returns.
    /// </summary>
    private static PromptOutcome Sendable(PromptOutcome outcome)
    {
        Text(outcome.Id, "outcome.Id");
        Text(outcome.Error, "outcome.Error");
        if (outcome.Metadata is { } metadata)
        {
            try
            {
                InvalidJsonTextException.ThrowIfIn(metadata);
            }
            catch (InvalidJsonTextException e)
            {
                throw new ArgumentException($"outcome.Metadata: {e.Message}", nameof(outcome), e);
            }
        }
        try
        {
            MetricEventRules.ValidateValues(outcome.Id, outcome.Latency?.TotalMilliseconds, outcome.InputTokens, outcome.OutputTokens, outcome.Cost,
                outcome.QualityScore, outcome.UserFeedback, outcome.Error, outcome.Metadata);
        }
        catch (InvalidInputException e)
        {
            // The rule names the JSON field (latencyMs, userFeedback); the caller set the property.
            var property = "outcome." + (e.Field == "latencyMs" ? nameof(PromptOutcome.Latency) : char.ToUpperInvariant(e.Field![0]) + e.Field[1..]);
            throw e.Code == "out_of_range" ? new ArgumentOutOfRangeException(property, e.Message) : new ArgumentException(e.Message, property, e);
        }
        return outcome.Metadata is { } kept ? outcome with { Metadata = kept.Clone() } : outcome;
    }

    private static void Text(string? value, string name)
    {
        if (InvalidJsonTextException.FaultIn(value) is { } fault)
            throw new ArgumentException(InvalidJsonTextException.Describe(name, fault) + ".", name);
    }

    public async ValueTask DisposeAsync()
    {
        await Events.DisposeAsync().ConfigureAwait(false);
        _meter?.Dispose();
    }

    /// <summary>
    /// For a service provider disposed synchronously (<c>using var provider = ….BuildServiceProvider()</c>), which otherwise
    /// throws for a singleton that is only <see cref="IAsyncDisposable"/>. Blocks while the queued events are sent, for at most
    /// the request timeout; nothing awaited here needs the caller's thread.
    /// </summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}
