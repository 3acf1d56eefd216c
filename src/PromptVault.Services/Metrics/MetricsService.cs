using PromptVault.Core.Contracts;
using PromptVault.Core.Experiments;
using PromptVault.Core.Idempotency;
using PromptVault.Core.Prompts;
using PromptVault.Core.Registry;
using PromptVault.Core.Storage;

namespace PromptVault.Core.Metrics;

/// <summary>
/// The metric use cases (SPEC §4): record events (validated all or nothing, costs filled from the price table, then
/// auto-completion of the experiments they touch) and a version's aggregates for a period.
/// </summary>
public sealed class MetricsService(
    IPromptStore prompts,
    IExperimentStore experiments,
    IMetricStore metrics,
    ExperimentService experimentService,
    PromptRegistry registry,
    PriceTable prices,
    TimeProvider time,
    IdempotentRequests idempotent)
{
    /// <summary>Records one event sent on its own; errors name the bare field (<c>latencyMs</c>).</summary>
    /// <param name="idempotencyKey">When given, the event is recorded at most once for it (see <see cref="IdempotentRequests"/>).</param>
    public Task<MetricRecordResponse> RecordAsync(MetricEventRequest request, IdempotencyKey? idempotencyKey = null, CancellationToken cancellationToken = default) =>
        idempotent.RunAsync<MetricEventRequest, MetricRecordResponse>(idempotencyKey, "record-metrics", "", request, idempotency =>
            RecordAsync([MetricEventRules.Validate(request, time.GetUtcNow())], _ => "", idempotency, cancellationToken), cancellationToken);

    /// <summary>Records a batch, all or nothing; errors name the event (<c>events[3].latencyMs</c>).</summary>
    /// <param name="idempotencyKey">When given, the batch is recorded at most once for it (see <see cref="IdempotentRequests"/>).</param>
    public Task<MetricRecordResponse> RecordAsync(MetricBatchRequest batch, IdempotencyKey? idempotencyKey = null, CancellationToken cancellationToken = default) =>
        idempotent.RunAsync<MetricBatchRequest, MetricRecordResponse>(idempotencyKey, "record-metrics", "", batch, idempotency =>
            RecordAsync(MetricEventRules.ValidateBatch(batch, time.GetUtcNow()), i => $"events[{i}].", idempotency, cancellationToken), cancellationToken);

    public async Task<VersionMetricsResponse> VersionMetricsAsync(string name, string versionRef, MetricPeriod period, CancellationToken cancellationToken = default)
    {
        var prompt = await registry.RequirePromptAsync(name, cancellationToken);
        var version = await registry.RequireVersionAsync(prompt, versionRef, cancellationToken);
        var now = time.GetUtcNow();
        var hours = await metrics.ReadVersionHoursAsync(version.Id, period.FirstHour(now), cancellationToken);
        var allTime = period == MetricPeriod.All ? await metrics.ReadVersionTotalAsync(version.Id, cancellationToken) : null;
        return VersionMetricsBuilder.Build(prompt.Name, version.Version.ToString(), version.Id, period, hours, allTime, now);
    }

    private async Task<MetricRecordResponse> RecordAsync(IReadOnlyList<MetricEvent> events, Func<int, string> pathOf,
        Func<MetricRecordResponse, IdempotencyRecord>? idempotency, CancellationToken cancellationToken)
    {
        using var span = Telemetry.Start(Telemetry.RecordMetricsSpan);
        var versions = new Dictionary<string, PromptVersion>(StringComparer.Ordinal);
        var experimentsById = new Dictionary<string, Experiment>(StringComparer.Ordinal);
        for (var i = 0; i < events.Count; i++)
        {
            var metricEvent = events[i];
            if (!versions.ContainsKey(metricEvent.VersionId))
            {
                versions[metricEvent.VersionId] = await prompts.FindAnyVersionAsync(metricEvent.VersionId, cancellationToken)
                    ?? throw Invalid(pathOf(i) + "versionId", $"{pathOf(i)}versionId '{PromptRules.Shorten(metricEvent.VersionId)}' is not a version of any prompt.");
            }
            if (metricEvent.ExperimentId is not { } experimentId)
                continue;
            if (!experimentsById.TryGetValue(experimentId, out var experiment))
            {
                experimentsById[experimentId] = experiment = await experiments.FindExperimentAsync(experimentId, cancellationToken)
                    ?? throw Invalid(pathOf(i) + "experimentId", $"{pathOf(i)}experimentId '{PromptRules.Shorten(experimentId)}' is not an experiment.");
            }
            ExperimentLifecycle.EnsureTakesEvents(experiment, pathOf(i) + "experimentId", "event");
            var variant = experiment.FindVariant(metricEvent.VariantId!)
                ?? throw Invalid(pathOf(i) + "variantId", $"{pathOf(i)}variantId '{PromptRules.Shorten(metricEvent.VariantId!)}' is not a variant of experiment '{experiment.Name}'.");
            if (variant.VersionId != metricEvent.VersionId)
                throw Invalid(pathOf(i) + "versionId", $"{pathOf(i)}versionId is not the version of variant '{variant.Name}' of experiment '{experiment.Name}'.");
        }

        // In place of the unpriced events, which would otherwise live on in this frame while the batch waits for its commit.
        events = prices.FillCosts(events, versionId => versions[versionId].Metadata.Model);
        var result = await metrics.RecordEventsAsync(events, idempotency is null ? null : stored => idempotency(Response(events, stored)), cancellationToken);
        Telemetry.MetricEventsRecorded(result.Stored, result.DuplicateIds.Count);
        foreach (var experiment in experimentsById.Values.Where(e => e.Status == ExperimentStatus.Running))
            await experimentService.EvaluateAsync(experiment.Id, cancellationToken);
        return Response(events, result);
    }

    private static MetricRecordResponse Response(IReadOnlyList<MetricEvent> events, MetricRecordResult result) =>
        new(events.Count, result.Stored, result.DuplicateIds);

    private static InvalidInputException Invalid(string field, string message) => new("invalid_metric_event", message, field);
}
