using PromptVault.Core.Analysis;
using PromptVault.Core.Audit;
using PromptVault.Core.Experiments;

namespace PromptVault.Core.Storage;

/// <summary>Persistence of experiments and their exposures. Every write with audit entries writes them in the same transaction.</summary>
public interface IExperimentStore
{
    /// <exception cref="ConflictException">The prompt already has an experiment of that name (<c>experiment_exists</c>), or the new
    /// experiment is running and the prompt already has a running one (<c>experiment_running</c>).</exception>
    Task CreateExperimentAsync(Experiment experiment, IReadOnlyList<AuditEntry> audit, CancellationToken cancellationToken = default);

    Task<Experiment?> FindExperimentAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Experiments, newest first; only those of <paramref name="promptName"/> when given.</summary>
    Task<Page<Experiment>> ListExperimentsAsync(string? promptName, CancellationToken cancellationToken = default) =>
        ListExperimentsAsync(promptName, PageRequest.All, cancellationToken);

    /// <summary>A page of experiments, newest first; only those of <paramref name="promptName"/> when given.</summary>
    Task<Page<Experiment>> ListExperimentsAsync(string? promptName, PageRequest page, CancellationToken cancellationToken = default);

    /// <summary>Every live experiment (<see cref="ExperimentLifecycle.IsLive"/>: running or paused) of every prompt, newest first, in one read.</summary>
    Task<IReadOnlyList<Experiment>> ListLiveExperimentsAsync(CancellationToken cancellationToken = default);

    /// <summary>The prompt's running experiment, if any (there is at most one).</summary>
    Task<Experiment?> FindRunningExperimentAsync(string promptId, CancellationToken cancellationToken = default);

    /// <summary>Replaces the experiment if its status is still <paramref name="expectedStatus"/>.</summary>
    /// <exception cref="ConcurrentWriteException">Its status changed since it was read.</exception>
    /// <exception cref="ConflictException">It would be a second running experiment of its prompt (<c>experiment_running</c>).</exception>
    Task UpdateExperimentAsync(Experiment experiment, ExperimentStatus expectedStatus, IReadOnlyList<AuditEntry> audit, CancellationToken cancellationToken = default) =>
        UpdateExperimentAsync(experiment, expectedStatus, audit, null, null, cancellationToken);

    /// <summary>
    /// The same, when the update makes variants with includes serve (a start): it applies only if the include graph's generation is
    /// still <paramref name="includeGeneration"/>, read before the check for cycles, and advances it (see <see cref="PromptChanges.IncludeGeneration"/>);
    /// and when it completes the experiment and promotes its winner: <paramref name="promotion"/> (the promote's writes) is saved
    /// as <see cref="IPromptStore.SaveAsync"/> saves it, in the same transaction, so the experiment completes only with its promote.
    /// </summary>
    /// <exception cref="ConcurrentWriteException">Its status, the include graph, or what the promotion expects changed since they were read.</exception>
    /// <exception cref="ConflictException">It would be a second running experiment of its prompt (<c>experiment_running</c>).</exception>
    Task UpdateExperimentAsync(Experiment experiment, ExperimentStatus expectedStatus, IReadOnlyList<AuditEntry> audit, long? includeGeneration,
        PromptChanges? promotion, CancellationToken cancellationToken = default);

    /// <summary>
    /// Records that units saw their variants, in one write: all of them are stored, or none. Only a unit's first exposure in
    /// an experiment counts. A first exposure brings in the unit's events that arrived before it and named that variant:
    /// they leave the variant's unattributed events and count in its <see cref="VariantUnitStats"/>, in the same
    /// transaction (see <c>IMetricStore.RecordEventsAsync</c>).
    /// </summary>
    /// <returns>
    /// For each exposure, in order, whether it was its unit's first in the experiment: false for a unit exposed before, or
    /// earlier in <paramref name="exposures"/>.
    /// </returns>
    /// <exception cref="NotFoundException">An exposure's experiment does not exist (<c>experiment_not_found</c>); none is stored.</exception>
    Task<IReadOnlyList<bool>> RecordExposuresAsync(IReadOnlyList<Exposure> exposures, CancellationToken cancellationToken = default);

    /// <summary>Records one exposure as <see cref="RecordExposuresAsync"/> does.</summary>
    /// <returns>True when this was the unit's first exposure.</returns>
    /// <exception cref="NotFoundException">The experiment does not exist (<c>experiment_not_found</c>).</exception>
    Task<bool> RecordExposureAsync(Exposure exposure, CancellationToken cancellationToken = default);

    /// <summary>
    /// Records the exposure as <see cref="RecordExposuresAsync"/> does, without waiting for it to be stored: the exposure a
    /// render has as a side effect (docs/reliability.md#exposures-of-renders). It returns at once. A queued exposure is
    /// committed by the store's writer shortly after (before any write acknowledged later), and on a graceful shutdown;
    /// a crash before that commit loses it, and the unit's next render records it again.
    /// </summary>
    /// <returns>
    /// <see cref="ExposureQueueOutcome.Queued"/>; <see cref="ExposureQueueOutcome.Repeat"/> when the unit's exposure in
    /// the experiment is known to be stored or queued already (nothing to write); <see cref="ExposureQueueOutcome.Dropped"/>
    /// when the queue is full, so the exposure is not recorded (the unit's next render tries again).
    /// </returns>
    /// <remarks>Thread-safe; never blocks.</remarks>
    ExposureQueueOutcome QueueExposure(Exposure exposure);

    /// <summary>Distinct exposed units per variant id (variants without exposures are absent).</summary>
    Task<IReadOnlyDictionary<string, long>> CountExposuresAsync(string experimentId, CancellationToken cancellationToken = default);

    /// <summary>What the experiment's sequential tests remember from earlier looks; null before the first.</summary>
    Task<SequentialState?> ReadSequentialStateAsync(string experimentId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stores a look's state, keeping for each key the smaller of the stored and the given minimum, so a look that raced
    /// another can never raise a minimum; in the same transaction, appends the look's <paramref name="history"/> points.
    /// The store keeps at most <see cref="SequentialHistoryPoint.MaxPerSeries"/> points per (variant, metric), thinning older ones evenly.
    /// </summary>
    /// <exception cref="NotFoundException">The experiment does not exist (<c>experiment_not_found</c>).</exception>
    Task SaveSequentialStateAsync(string experimentId, SequentialState state, IReadOnlyList<SequentialHistoryPoint> history,
        CancellationToken cancellationToken = default);

    /// <summary>The experiment's stored history points, oldest first (empty when there are none).</summary>
    Task<IReadOnlyList<SequentialHistoryPoint>> ReadSequentialHistoryAsync(string experimentId, CancellationToken cancellationToken = default);
}

/// <summary>One variant's difference from control of one metric (treatment − control, not the relative lift) and its always-valid
/// interval, as a look saw them.</summary>
/// <param name="Metric">The metric's wire name (<c>conversionRate</c>, …).</param>
public sealed record SequentialHistoryPoint(string VariantId, string Metric, DateTimeOffset At, double Estimate, double Low, double High)
{
    /// <summary>The most points stored per (experiment, variant, metric).</summary>
    public const int MaxPerSeries = 500;
}

/// <summary>A unit served a variant of an experiment.</summary>
public sealed record Exposure(string ExperimentId, string VariantId, string UnitId, DateTimeOffset At);

/// <summary>What <see cref="IExperimentStore.QueueExposure"/> did with an exposure.</summary>
public enum ExposureQueueOutcome
{
    /// <summary>Queued; the store's writer commits it shortly.</summary>
    Queued,

    /// <summary>The unit's exposure in the experiment is stored or queued already: nothing to write.</summary>
    Repeat,

    /// <summary>The queue was full: not recorded.</summary>
    Dropped,
}
