using System.Diagnostics;
using System.Diagnostics.Metrics;
using PromptVault.Core.Analysis;
using PromptVault.Core.Contracts;
using PromptVault.Core.Storage;

namespace PromptVault.Core;

/// <summary>
/// What PromptVault itself emits for OpenTelemetry (docs/observability.md): one <see cref="Meter"/> and one
/// <see cref="ActivitySource"/>, both named <see cref="Name"/>, and every instrument, span and tag name. Nothing is
/// collected unless a listener (the server's OpenTelemetry set-up) subscribes to <see cref="Name"/>.
/// </summary>
public static class Telemetry
{
    public const string Name = "PromptVault";

    public const string RenderSpan = "promptvault.render";
    public const string RecordMetricsSpan = "promptvault.metrics.record";

    public const string RendersCounter = "promptvault.renders";
    public const string ExposuresCounter = "promptvault.exposures";
    public const string DroppedExposuresCounter = "promptvault.exposures.dropped";
    public const string WriteQueueDepthGauge = "promptvault.write_queue.depth";
    public const string MetricEventsCounter = "promptvault.metric_events";
    public const string UncostedMetricEventsCounter = "promptvault.metric_events.uncosted";
    public const string DecisionsCounter = "promptvault.experiment.decisions";
    public const string CacheLookupsCounter = "promptvault.registry_cache.lookups";
    public const string CheckpointsCounter = "promptvault.sqlite.checkpoints";
    public const string ExposedUnitsGauge = "promptvault.sqlite.exposed_units";

    public const string PromptTag = "promptvault.prompt";
    public const string VersionIdTag = "promptvault.version_id";
    public const string ExperimentIdTag = "promptvault.experiment_id";
    public const string VariantIdTag = "promptvault.variant_id";
    public const string ServedByTag = "promptvault.served_by";
    public const string OutcomeTag = "promptvault.outcome";
    public const string DecisionTag = "promptvault.decision";
    public const string EventCountTag = "promptvault.events";
    public const string CacheEntryTag = "promptvault.cache_entry";
    public const string QueueTag = "promptvault.queue";
    public const string ReasonTag = "promptvault.reason";
    public const string ErrorTypeTag = "error.type";

    public static readonly ActivitySource Source = new(Name);

    private static readonly Meter Meter = new(Name);

    private static readonly Counter<long> Renders = Meter.CreateCounter<long>(RendersCounter, "{render}",
        "Prompts rendered, by prompt and what chose the version (experiment or label/version).");

    private static readonly Counter<long> Exposures = Meter.CreateCounter<long>(ExposuresCounter, "{exposure}",
        "Experiment exposures accepted for recording (a unit served a variant for the first time since the server started).");

    private static readonly Counter<long> DroppedExposures = Meter.CreateCounter<long>(DroppedExposuresCounter, "{exposure}",
        "Experiment exposures of renders not recorded, by reason: queue_full (the write queue was full) or write_failed (their transaction failed); the unit's next render tries again.");

    private static readonly Observed<(string Queue, Func<int> Depth)> Queues = new();
    private static readonly Observed<Func<long>> ExposedUnitIndexes = new();

    // Read by the exporter on each collection: the writes each store queue holds, by queue.
    private static readonly ObservableGauge<int> QueueDepths = Meter.CreateObservableGauge(WriteQueueDepthGauge,
        () => Queues.Measure(q => new Measurement<int>(q.Depth(), new KeyValuePair<string, object?>(QueueTag, q.Queue))), "{write}",
        "Writes waiting for the store's writer, by queue: writes (acknowledged after their commit) and exposures (of renders, not awaited).");

    private static readonly ObservableGauge<long> ExposedUnits = Meter.CreateObservableGauge(ExposedUnitsGauge,
        () => ExposedUnitIndexes.Measure(held => new Measurement<long>(held())), "{unit}",
        "Exposed units the SQLite writer holds in memory, as of its last commit: those of the experiments in use, and of idle ones while under its budget of two million.");

    private static readonly Counter<long> MetricEvents = Meter.CreateCounter<long>(MetricEventsCounter, "{event}",
        "Metric events received in accepted requests, by outcome: stored, or duplicate (an id already stored).");

    private static readonly Counter<long> UncostedMetricEvents = Meter.CreateCounter<long>(UncostedMetricEventsCounter, "{event}",
        "Metric events in accepted requests recorded without the cost the server priced their tokens at, by reason: priced_above_max_cost (the price table's price came to more than a cost may be).");

    private static readonly Counter<long> Decisions = Meter.CreateCounter<long>(DecisionsCounter, "{decision}",
        "Experiments completed or paused by PromptVault's own decision (auto-completion, guardrails).");

    private static readonly Counter<long> CacheLookups = Meter.CreateCounter<long>(CacheLookupsCounter, "{lookup}",
        "Registry cache lookups on the render and authentication path, by entry kind and outcome (hit or miss); the hit rate is hits over all.");

    private static readonly Counter<long> Checkpoints = Meter.CreateCounter<long>(CheckpointsCounter, "{checkpoint}",
        "Checkpoints of the SQLite write-ahead log beside the writer, by outcome: complete (the whole log copied into the database), partial (a reader still needed older pages) or failed (with error.type; tried again at the next interval, and meanwhile the writer's own checkpoints bound the log).");

    /// <summary>Starts a span when someone listens; the caller disposes it.</summary>
    public static Activity? Start(string spanName, string? prompt = null)
    {
        var activity = Source.StartActivity(spanName);
        if (prompt is not null) activity?.SetTag(PromptTag, prompt);
        return activity;
    }

    /// <summary>
    /// Counts a render served to a caller and describes it on the current render span; the renders of the playground and of
    /// evaluation runs, which no caller is served, are not counted.
    /// </summary>
    /// <returns><paramref name="rendered"/>.</returns>
    public static RenderResponse Rendered(RenderResponse rendered, RenderRequest request)
    {
        // What chose the version: a running experiment, a version named in the request, or a label.
        var servedBy = rendered.ExperimentId is not null ? "experiment" : string.IsNullOrWhiteSpace(request.Version) ? "label" : "version";
        Renders.Add(1, new(PromptTag, rendered.PromptName), new(ServedByTag, servedBy));
        if (OwnSpan() is { } span)
        {
            span.SetTag(VersionIdTag, rendered.VersionId);
            span.SetTag(ExperimentIdTag, rendered.ExperimentId);
            span.SetTag(VariantIdTag, rendered.VariantId);
        }
        return rendered;
    }

    public static void ExposureQueued(string prompt, ExposureQueueOutcome outcome)
    {
        if (outcome == ExposureQueueOutcome.Queued)
            ExposureRecorded(prompt);
        else if (outcome == ExposureQueueOutcome.Dropped)
            DroppedExposures.Add(1, new KeyValuePair<string, object?>(ReasonTag, "queue_full"));
    }

    /// <summary>Counts an exposure accepted for storage: a render's queued one, or one an SDK reported (<c>POST /api/exposures</c>).</summary>
    public static void ExposureRecorded(string prompt) => Exposures.Add(1, new KeyValuePair<string, object?>(PromptTag, prompt));

    /// <summary>Counts queued render exposures whose write failed (a store's writer calls it).</summary>
    public static void ExposuresLost(int count) => DroppedExposures.Add(count, new KeyValuePair<string, object?>(ReasonTag, "write_failed"));

    /// <summary>Reports the depth of a store's write queue in <see cref="WriteQueueDepthGauge"/> until the result is disposed.</summary>
    /// <param name="queue">The <see cref="QueueTag"/> value: <c>writes</c> or <c>exposures</c>.</param>
    public static IDisposable ObserveQueue(string queue, Func<int> depth) => Queues.Add((queue, depth));

    /// <summary>Reports the units a SQLite writer's index holds in <see cref="ExposedUnitsGauge"/> until the result is disposed.</summary>
    public static IDisposable ObserveExposedUnits(Func<long> held) => ExposedUnitIndexes.Add(held);

    public static void MetricEventsRecorded(int stored, int duplicates)
    {
        Metric(stored, "stored");
        Metric(duplicates, "duplicate");
        OwnSpan()?.SetTag(EventCountTag, stored + duplicates);

        static void Metric(int count, string outcome)
        {
            if (count > 0) MetricEvents.Add(count, new KeyValuePair<string, object?>(OutcomeTag, outcome));
        }
    }

    /// <summary>Counts events recorded without the cost their tokens were priced at (<see cref="Metrics.MetricEvent.CostAboveMax"/>).</summary>
    public static void MetricEventsUncosted(int count)
    {
        if (count > 0) UncostedMetricEvents.Add(count, new KeyValuePair<string, object?>(ReasonTag, "priced_above_max_cost"));
    }

    private static Activity? OwnSpan() => Activity.Current is { } span && span.Source == Source ? span : null;

    public static void CacheLookedUp(string entry, bool hit) =>
        CacheLookups.Add(1, new(CacheEntryTag, entry), new(OutcomeTag, hit ? "hit" : "miss"));

    /// <summary>Counts a checkpoint beside the SQLite writer; <paramref name="error"/> is set when it failed.</summary>
    public static void Checkpointed(bool complete, Exception? error = null)
    {
        if (error is null)
            Checkpoints.Add(1, new KeyValuePair<string, object?>(OutcomeTag, complete ? "complete" : "partial"));
        else
            Checkpoints.Add(1, new(OutcomeTag, "failed"), new(ErrorTypeTag, error.GetType().FullName));
    }

    public static void DecisionApplied(string prompt, DecisionAction action) =>
        Decisions.Add(1, new(PromptTag, prompt), new(DecisionTag, Names.Of(action)));

    /// <summary>What an observable gauge reads on each collection: one entry a store, registered until disposed.</summary>
    private sealed class Observed<T>
    {
        private readonly Lock gate = new();
        private readonly List<T> entries = [];

        public IDisposable Add(T entry)
        {
            lock (gate) entries.Add(entry);
            return new Unregister(() => { lock (gate) entries.Remove(entry); });
        }

        public List<Measurement<TValue>> Measure<TValue>(Func<T, Measurement<TValue>> measure) where TValue : struct
        {
            lock (gate) return entries.Select(measure).ToList();
        }
    }

    private sealed class Unregister(Action action) : IDisposable
    {
        public void Dispose() => action();
    }
}
