using Microsoft.Extensions.Logging;
using PromptVault.Core.Contracts;
using PromptVault.Core.Experiments;
using PromptVault.Core.Idempotency;
using PromptVault.Core.Prompts;
using PromptVault.Core.Registry;
using PromptVault.Core.Storage;
using PromptVault.Core.Versioning;

namespace PromptVault.Core.Metrics;

/// <summary>
/// The metric use cases (SPEC §4): record events (validated all or nothing, costs filled from the price table, then
/// auto-completion of the experiments they touch) and a version's aggregates for a period.
/// </summary>
public sealed class MetricsService(
    RegistryCache cache,
    IExperimentStore experiments,
    IMetricStore metrics,
    ExperimentService experimentService,
    PromptRegistry registry,
    PriceTable prices,
    TimeProvider time,
    IdempotentRequests idempotent,
    ILogger<MetricsService> logger)
{
    /// <summary>Records one event sent on its own; errors name the bare field (<c>latencyMs</c>).</summary>
    /// <param name="idempotencyKey">When given, the event is recorded at most once for it (see <see cref="IdempotentRequests"/>).</param>
    public Task<MetricRecordResponse> RecordAsync(MetricEventRequest request, IdempotencyKey? idempotencyKey = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return idempotent.RunAsync<MetricEventRequest, MetricRecordResponse>(idempotencyKey, "record-metrics", "", request, idempotency =>
            RecordAsync([request], (receivedAt, priceOf) => [MetricEventRules.Validate(request, receivedAt, priceOf)], _ => BatchItemPath.Alone,
                idempotency, cancellationToken), cancellationToken);
    }

    /// <summary>Records a batch, all or nothing; errors name the event (<c>events[3].latencyMs</c>).</summary>
    /// <param name="idempotencyKey">When given, the batch is recorded at most once for it (see <see cref="IdempotentRequests"/>).</param>
    public Task<MetricRecordResponse> RecordAsync(MetricBatchRequest batch, IdempotencyKey? idempotencyKey = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        return idempotent.RunAsync<MetricBatchRequest, MetricRecordResponse>(idempotencyKey, "record-metrics", "", batch, idempotency =>
            RecordAsync(batch.Events, (receivedAt, priceOf) => MetricEventRules.ValidateBatch(batch, receivedAt, priceOf), i => BatchItemPath.InBatch("events", i),
                idempotency, cancellationToken), cancellationToken);
    }

    public async Task<VersionMetricsResponse> VersionMetricsAsync(string name, string versionRef, MetricPeriod period, CancellationToken cancellationToken = default)
    {
        var prompt = await registry.RequirePromptAsync(name, cancellationToken);
        var version = await registry.RequireVersionAsync(prompt, versionRef, cancellationToken);
        var now = time.GetUtcNow();
        var hours = await metrics.ReadVersionHoursAsync(version.Id, period.FirstHour(now), cancellationToken);
        var allTime = period == MetricPeriod.All ? await metrics.ReadVersionTotalAsync(version.Id, cancellationToken) : null;
        return VersionMetricsBuilder.Build(prompt.Name, version.Version.ToString(), version.Id, period, hours, allTime, now);
    }

    /// <summary>An event names its version by id: a version number (`1.0.2`) is the likeliest mistake, so the refusal says so.</summary>
    private static string NumberNotId(string versionId) =>
        SemanticVersion.TryParse(versionId, out _) ? ": it takes the version's id, as a render answers it (\"versionId\"), not its number" : "";

    /// <param name="requests">The events as sent, for the versions they name.</param>
    /// <param name="validate">Makes the events (<see cref="MetricEventRules"/>) from the time of receipt and the versions' token prices.</param>
    private async Task<MetricRecordResponse> RecordAsync(IReadOnlyList<MetricEventRequest?>? requests,
        Func<DateTimeOffset, TokenPrice, IReadOnlyList<MetricEvent>> validate, Func<int, BatchItemPath> pathOf,
        Func<MetricRecordResponse, IdempotencyRecord>? idempotency, CancellationToken cancellationToken)
    {
        var receivedAt = time.GetUtcNow();
        using var span = Telemetry.Start(Telemetry.RecordMetricsSpan);
        // The versions are looked up before the events are made so that each event is made once, priced. An unknown
        // version is still reported only below, once every field of every event has passed.
        var versions = await FindVersionsAsync(requests, cancellationToken);
        var events = validate(receivedAt, versionId => prices.Find(versions.GetValueOrDefault(versionId)?.Metadata.Model));
        var experimentsById = new Dictionary<string, Experiment>(StringComparer.Ordinal);
        for (var i = 0; i < events.Count; i++)
        {
            var metricEvent = events[i];
            if (versions.GetValueOrDefault(metricEvent.VersionId) is null)
                throw Invalid(pathOf(i).Of("versionId"), $"{pathOf(i).Of("versionId")} '{PromptRules.Echo(metricEvent.VersionId)}' is not a version of any prompt{NumberNotId(metricEvent.VersionId)}.");
            if (metricEvent.ExperimentId is not { } experimentId)
                continue;
            if (!experimentsById.TryGetValue(experimentId, out var experiment))
            {
                experimentsById[experimentId] = experiment = await experiments.FindExperimentAsync(experimentId, cancellationToken)
                    ?? throw Invalid(pathOf(i).Of("experimentId"), $"{pathOf(i).Of("experimentId")} '{PromptRules.Echo(experimentId)}' is not an experiment.");
            }
            ExperimentLifecycle.EnsureTakesEvents(experiment, pathOf(i), "event");
            var variant = experiment.FindVariant(metricEvent.VariantId!)
                ?? throw Invalid(pathOf(i).Of("variantId"), $"{pathOf(i).Of("variantId")} '{PromptRules.Echo(metricEvent.VariantId!)}' is not a variant of experiment '{experiment.Name}'.");
            if (variant.VersionId != metricEvent.VersionId)
                throw Invalid(pathOf(i).Of("versionId"), $"{pathOf(i).Of("versionId")} is not the version of variant '{variant.Name}' of experiment '{experiment.Name}'.");
        }

        var result = await metrics.RecordEventsAsync(events, idempotency is null ? null : stored => idempotency(Response(events, stored)), cancellationToken);
        Telemetry.MetricEventsRecorded(result.Stored, result.DuplicateIds.Count);
        ReportUncosted(events, versions);
        foreach (var experiment in experimentsById.Values.Where(e => e.Status == ExperimentStatus.Running))
        {
            try
            {
                await experimentService.EvaluateAsync(experiment.Id, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The batch is stored: answering an error would have a client without event ids send it again and count it
                // twice. The experiment's next batch looks again.
                Log.LookAfterBatchFailed(logger, experiment.Id, e);
            }
        }
        return Response(events, result);
    }

    /// <summary>
    /// Each version the requests name, looked up once; null when there is none. Ids that validation will refuse (missing,
    /// blank, too long) are skipped, as are the entries of a list it will refuse whole. The first unknown version ends the
    /// lookups: the batch is refused either way, so a batch of made-up ids costs one read, not one per id.
    /// </summary>
    private async Task<Dictionary<string, PromptVersion?>> FindVersionsAsync(IReadOnlyList<MetricEventRequest?>? requests, CancellationToken cancellationToken)
    {
        var versions = new Dictionary<string, PromptVersion?>(StringComparer.Ordinal);
        if (requests is not { Count: <= MetricEventRules.MaxBatchSize })
            return versions;
        foreach (var request in requests)
        {
            if (request?.VersionId is { Length: <= MetricEventRules.MaxIdLength } versionId && !string.IsNullOrWhiteSpace(versionId)
                && !versions.ContainsKey(versionId))
            {
                if ((versions[versionId] = await cache.FindAnyVersionAsync(versionId, cancellationToken)) is null)
                    break;
            }
        }
        return versions;
    }

    /// <summary>Counts and logs (once for the batch) the events recorded without the cost their tokens were priced at.</summary>
    private void ReportUncosted(IReadOnlyList<MetricEvent> events, Dictionary<string, PromptVersion?> versions)
    {
        // One pass with no allocation: every ingested batch comes here, and almost none has such an event.
        var uncosted = 0;
        MetricEvent? largest = null;
        for (var i = 0; i < events.Count; i++)
        {
            if (events[i].CostAboveMax is not { } price) continue;
            uncosted++;
            if (largest is null || price > largest.CostAboveMax!.Value) largest = events[i];
        }
        if (largest is null)
            return;
        Telemetry.MetricEventsUncosted(uncosted);
        Log.MetricEventsUncosted(logger, uncosted, MetricEventRules.MaxCost, largest.CostAboveMax!.Value, largest.VersionId,
            versions.GetValueOrDefault(largest.VersionId)?.Metadata.Model);
    }

    private static MetricRecordResponse Response(IReadOnlyList<MetricEvent> events, MetricRecordResult result) =>
        new(events.Count, result.Stored, result.DuplicateIds);

    private static InvalidInputException Invalid(string field, string message) => new("invalid_metric_event", message, field);
}
