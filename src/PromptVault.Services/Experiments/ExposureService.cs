using PromptVault.Core.Contracts;
using PromptVault.Core.Metrics;
using PromptVault.Core.Prompts;
using PromptVault.Core.Storage;

namespace PromptVault.Core.Experiments;

/// <summary>
/// Exposures sent by an SDK that resolved and rendered in process (<c>POST /api/exposures</c>, SPEC §5). They are stored
/// exactly as a render's: <see cref="IExperimentStore.RecordExposuresAsync"/> counts a unit's first exposure only and brings
/// in its earlier events, so a repeated exposure (a retry, another process) counts once. A batch is one write of the store
/// (on PostgreSQL one transaction on one pooled connection), all or nothing.
/// </summary>
/// <remarks>
/// A batch is checked all or nothing before anything is stored. An exposure must name a variant of the experiment, and the
/// variant <see cref="Assignment"/> gives the unit: an SDK assigns with the same function, so any other variant is a client
/// bug that would corrupt the analysis. Experiments take exposures in the same statuses that take metric events: a paused or
/// completed one may still get the exposures of units an SDK served just before it stopped.
/// </remarks>
public sealed class ExposureService(IExperimentStore experiments, TimeProvider time)
{
    /// <exception cref="InvalidInputException">The first problem found, naming <c>exposures[i].field</c>; nothing was stored.</exception>
    /// <exception cref="ConflictException">An exposure names a draft or cancelled experiment (<c>experiment_not_accepting_events</c>); nothing was stored.</exception>
    public async Task<ExposureRecordResponse> RecordAsync(ExposureBatchRequest batch, CancellationToken cancellationToken = default)
    {
        var exposures = await ValidateAsync(batch, cancellationToken);
        var recorded = await experiments.RecordExposuresAsync(exposures.ConvertAll(e => e.Exposure), cancellationToken);
        for (var i = 0; i < exposures.Count; i++)
            if (recorded[i]) Telemetry.ExposureRecorded(exposures[i].Prompt);
        return new ExposureRecordResponse(exposures.Count, recorded.Count(first => first));
    }

    private async Task<List<(Exposure Exposure, string Prompt)>> ValidateAsync(ExposureBatchRequest batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var requests = MetricEventRules.RequireBatch(batch.Exposures, "exposures", "exposures");

        var receivedAt = time.GetUtcNow();
        var experimentsById = new Dictionary<string, Experiment>(StringComparer.Ordinal);
        var exposures = new List<(Exposure, string)>(requests.Count);
        for (var i = 0; i < requests.Count; i++)
        {
            var path = BatchItemPath.InBatch("exposures", i);
            var request = requests[i] ?? throw new InvalidInputException("missing_exposure", $"{path.Item} is null; each entry is an exposure object.", path.Item);
            var experimentId = MetricEventRules.RequiredText(request.ExperimentId, MetricEventRules.MaxIdLength, path, "experimentId");
            var variantId = MetricEventRules.RequiredText(request.VariantId, MetricEventRules.MaxIdLength, path, "variantId");
            var unitId = MetricEventRules.RequiredText(MetricEventRules.UnitId(request.UnitId, path), Assignment.MaxUnitIdLength, path, "unitId");
            var at = MetricEventRules.Timestamp(request.Timestamp, receivedAt, path, "timestamp");

            if (!experimentsById.TryGetValue(experimentId, out var experiment))
            {
                experimentsById[experimentId] = experiment = await experiments.FindExperimentAsync(experimentId, cancellationToken)
                    ?? throw Invalid(path.Of("experimentId"), $"{path.Of("experimentId")} '{PromptRules.Echo(experimentId)}' is not an experiment.");
            }
            ExperimentLifecycle.EnsureTakesEvents(experiment, path, "exposure");
            var variant = experiment.FindVariant(variantId)
                ?? throw Invalid(path.Of("variantId"), $"{path.Of("variantId")} '{PromptRules.Echo(variantId)}' is not a variant of experiment '{experiment.Name}'.");
            var assigned = Assignment.VariantFor(experiment, unitId);
            if (assigned != variant)
                throw Invalid(path.Of("variantId"),
                    $"{path.Of("variantId")} is variant '{variant.Name}', but experiment '{experiment.Name}' assigns unit '{PromptRules.Echo(unitId)}' to '{assigned.Name}' (assignment version {Assignment.AlgorithmVersion}).");
            exposures.Add((new Exposure(experiment.Id, variant.Id, unitId, at), experiment.PromptName));
        }
        return exposures;
    }

    private static InvalidInputException Invalid(string field, string message) => new("invalid_exposure", message, field);
}
