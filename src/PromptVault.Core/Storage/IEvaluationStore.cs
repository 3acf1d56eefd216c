using PromptVault.Core.Audit;
using PromptVault.Core.Evaluations;

namespace PromptVault.Core.Storage;

/// <summary>
/// A version's test cases and its evaluation runs (SPEC §10). A new version's tests are written with it
/// (<see cref="PromptChanges.NewVersionTests"/>, <see cref="PromptChanges.TestsFromVersionId"/>).
/// </summary>
public interface IEvaluationStore
{
    /// <summary>The version's test cases; empty when it has none.</summary>
    Task<IReadOnlyList<TestCase>> FindTestsAsync(string versionId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Changes the version's test cases, with the audit entry, in one transaction: <paramref name="change"/> is given the stored
    /// cases (empty when none) and returns the new ones, or a null audit entry when they are the stored ones: then nothing is
    /// written. If another writer changed them in between, nothing is written and
    /// <see cref="ConcurrentWriteException"/> is thrown: read again and retry, so no change is lost.
    /// </summary>
    Task ChangeTestsAsync(string versionId, Func<IReadOnlyList<TestCase>, (IReadOnlyList<TestCase> Tests, AuditEntry? Audit)> change,
        CancellationToken cancellationToken = default);

    Task SaveRunAsync(EvaluationRun run, CancellationToken cancellationToken = default);

    Task<EvaluationRun?> FindRunAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>A page of the version's runs, newest first, with how many it has.</summary>
    Task<Page<EvaluationRun>> ListRunsAsync(string versionId, PageRequest page, CancellationToken cancellationToken = default);

    /// <summary>A page of the version's runs, newest first, and its test cases as they were when the runs were read (one snapshot):
    /// what a run's <see cref="EvaluationRun.TestsChanged"/> is judged by.</summary>
    Task<(Page<EvaluationRun> Runs, IReadOnlyList<TestCase> Tests)> ListRunsWithTestsAsync(string versionId, PageRequest page,
        CancellationToken cancellationToken = default);
}
