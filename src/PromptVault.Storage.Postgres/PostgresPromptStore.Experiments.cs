using PromptVault.Core.Analysis;
using PromptVault.Core.Audit;
using PromptVault.Core.Experiments;
using PromptVault.Core.Storage;

namespace PromptVault.Storage.Postgres;

// Skeleton: pg-b implements these (issue 12).
public sealed partial class PostgresPromptStore : IExperimentStore
{
    public Task CreateExperimentAsync(Experiment experiment, IReadOnlyList<AuditEntry> audit, CancellationToken cancellationToken = default) =>
        throw new NotImplementedException();

    public Task<Experiment?> FindExperimentAsync(string id, CancellationToken cancellationToken = default) => throw new NotImplementedException();

    public Task<Page<Experiment>> ListExperimentsAsync(string? promptName, PageRequest page, CancellationToken cancellationToken = default) =>
        throw new NotImplementedException();

    public Task<Experiment?> FindRunningExperimentAsync(string promptId, CancellationToken cancellationToken = default) => throw new NotImplementedException();

    public Task UpdateExperimentAsync(Experiment experiment, ExperimentStatus expectedStatus, IReadOnlyList<AuditEntry> audit,
        CancellationToken cancellationToken = default) => throw new NotImplementedException();

    public Task<bool> RecordExposureAsync(Exposure exposure, CancellationToken cancellationToken = default) => throw new NotImplementedException();

    public ExposureQueueOutcome QueueExposure(Exposure exposure) => throw new NotImplementedException();

    public Task<IReadOnlyDictionary<string, long>> CountExposuresAsync(string experimentId, CancellationToken cancellationToken = default) =>
        throw new NotImplementedException();

    public Task<SequentialState?> ReadSequentialStateAsync(string experimentId, CancellationToken cancellationToken = default) =>
        throw new NotImplementedException();

    public Task SaveSequentialStateAsync(string experimentId, SequentialState state, IReadOnlyList<SequentialHistoryPoint> history,
        CancellationToken cancellationToken = default) => throw new NotImplementedException();

    public Task<IReadOnlyList<SequentialHistoryPoint>> ReadSequentialHistoryAsync(string experimentId, CancellationToken cancellationToken = default) =>
        throw new NotImplementedException();
}
