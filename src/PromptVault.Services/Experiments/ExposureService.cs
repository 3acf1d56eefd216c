using PromptVault.Core.Contracts;
using PromptVault.Core.Metrics;
using PromptVault.Core.Prompts;
using PromptVault.Core.Storage;

namespace PromptVault.Core.Experiments;

/// <summary>
/// Exposures sent by an SDK that resolved and rendered in process (<c>POST /api/exposures</c>, SPEC §5). They are stored
/// exactly as a render's: <see cref="IExperimentStore.RecordExposureAsync"/> counts a unit's first exposure only and brings
/// in its earlier events, so a repeated exposure (a retry, another process) counts once.
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
        var recorded = await Task.WhenAll(exposures.Select(e => experiments.RecordExposureAsync(e.Exposure, cancellationToken)));
        foreach (var (_, prompt) in exposures)
            Telemetry.ExposureRecorded(prompt);
        return new ExposureRecordResponse(exposures.Count, recorded.Count(first => first));
    }

    private async Task<List<(Exposure Exposure, string Prompt)>> ValidateAsync(ExposureBatchRequest batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var requests = batch.Exposures
            ?? throw new InvalidInputException("missing_exposures", $"exposures is required: a list of 1 to {MetricEventRules.MaxBatchSize:N0} exposures.", "exposures");
        if (requests.Count == 0)
            throw new InvalidInputException("empty_batch", $"exposures is empty; send 1 to {MetricEventRules.MaxBatchSize:N0} exposures.", "exposures");
        if (requests.Count > MetricEventRules.MaxBatchSize)
            throw new InvalidInputException("too_many",
                $"exposures has {requests.Count:N0} entries; the limit is {MetricEventRules.MaxBatchSize:N0} a batch, so split it.", "exposures");

        var receivedAt = time.GetUtcNow();
        var experimentsById = new Dictionary<string, Experiment>(StringComparer.Ordinal);
        var exposures = new List<(Exposure, string)>(requests.Count);
        for (var i = 0; i < requests.Count; i++)
        {
            var path = $"exposures[{i}]";
            var request = requests[i] ?? throw new InvalidInputException("missing_exposure", $"{path} is null; each entry is an exposure object.", path);
            var experimentId = Required(request.ExperimentId, MetricEventRules.MaxIdLength, path + ".experimentId");
            var variantId = Required(request.VariantId, MetricEventRules.MaxIdLength, path + ".variantId");
            var unitId = Required(request.UnitId, Assignment.MaxUnitIdLength, path + ".unitId");
            var at = Timestamp(request.Timestamp, receivedAt, path + ".timestamp");

            if (!experimentsById.TryGetValue(experimentId, out var experiment))
            {
                experimentsById[experimentId] = experiment = await experiments.FindExperimentAsync(experimentId, cancellationToken)
                    ?? throw Invalid(path + ".experimentId", $"{path}.experimentId '{PromptRules.Shorten(experimentId)}' is not an experiment.");
            }
            if (experiment.Status is ExperimentStatus.Draft or ExperimentStatus.Cancelled)
            {
                throw new ConflictException("experiment_not_accepting_events",
                    $"{path}.experimentId names experiment '{experiment.Name}', which is {Names.Of(experiment.Status)}; only a running, paused or completed experiment takes exposures. No exposure of the batch was stored.",
                    path + ".experimentId");
            }
            var variant = experiment.FindVariant(variantId)
                ?? throw Invalid(path + ".variantId", $"{path}.variantId '{PromptRules.Shorten(variantId)}' is not a variant of experiment '{experiment.Name}'.");
            var assigned = Assignment.VariantFor(experiment, unitId);
            if (assigned != variant)
                throw Invalid(path + ".variantId",
                    $"{path}.variantId is variant '{variant.Name}', but experiment '{experiment.Name}' assigns unit '{PromptRules.Shorten(unitId)}' to '{assigned.Name}' (assignment version {Assignment.AlgorithmVersion}).");
            exposures.Add((new Exposure(experiment.Id, variant.Id, unitId, at), experiment.PromptName));
        }
        return exposures;
    }

    private static string Required(string? value, int maxLength, string field)
    {
        if (value is null)
            throw new InvalidInputException("missing_field", $"{field} is required.", field);
        if (string.IsNullOrWhiteSpace(value))
            throw new InvalidInputException("blank_field", $"{field} is blank; send a value.", field);
        PromptRules.ValidateLength(value, maxLength, field);
        return value;
    }

    /// <summary>As for metric events: a time slightly ahead of the server's clock (the sender's running fast) becomes the time
    /// of receipt; further ahead is refused.</summary>
    private static DateTimeOffset Timestamp(DateTimeOffset? timestamp, DateTimeOffset receivedAt, string field)
    {
        var time = timestamp ?? receivedAt;
        if (time - receivedAt > MetricEventRules.MaxClockSkew)
            throw new InvalidInputException("timestamp_in_future",
                $"{field} {time:O} is ahead of the server's clock ({receivedAt:O}) by more than {MetricEventRules.MaxClockSkew.TotalMinutes:0} minutes.", field);
        return (time > receivedAt ? receivedAt : time).ToUniversalTime();
    }

    private static InvalidInputException Invalid(string field, string message) => new("invalid_exposure", message, field);
}
