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

    /// <summary>Replaces the version's test cases, with the audit entry, in one transaction.</summary>
    Task SaveTestsAsync(string versionId, IReadOnlyList<TestCase> tests, AuditEntry audit, CancellationToken cancellationToken = default);


    Task SaveRunAsync(EvaluationRun run, CancellationToken cancellationToken = default);

    Task<EvaluationRun?> FindRunAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>The version's runs, newest first, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<EvaluationRun>> ListRunsAsync(string versionId, int limit, CancellationToken cancellationToken = default);
}
