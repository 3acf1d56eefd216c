using System.Data.Common;
using Dapper;
using PromptVault.Core;
using PromptVault.Core.Evaluations;
using PromptVault.Core.Storage;
using static PromptVault.Storage.StoredValues;

namespace PromptVault.Storage;

/// <summary>
/// The statements of test cases and evaluation runs (SPEC §10), in the SQL both engines run. Cases and runs are stored as the
/// API's JSON: they are read and written whole, never queried inside.
/// </summary>
internal static class EvaluationStatements
{
    public static async Task<IReadOnlyList<TestCase>> FindTestsAsync(DbConnection connection, string versionId, CancellationToken cancellationToken)
    {
        var json = await FindStoredTestsAsync(connection, null, versionId, cancellationToken);
        return json is null ? [] : FromJson<List<TestCase>>(json);
    }

    /// <summary>The version's test cases as stored (JSON), or null when it has none.</summary>
    public static Task<string?> FindStoredTestsAsync(DbConnection connection, DbTransaction? transaction, string versionId, CancellationToken cancellationToken) =>
        connection.QuerySingleOrDefaultAsync<string?>(RegistryStatements.Command(
            "SELECT tests FROM version_tests WHERE version_id = @versionId", new { versionId }, cancellationToken, transaction));

    /// <summary>
    /// Checks <paramref name="passed"/> again in the caller's write transaction (see <see cref="PromptChanges.PassedRun"/>): the
    /// version's latest run and its cases, read here, not before the transaction.
    /// </summary>
    /// <exception cref="ConcurrentWriteException">Another run is the latest now, or the cases changed since the run.</exception>
    public static async Task EnsureStillPassedAsync(DbConnection connection, DbTransaction transaction, PassedRun passed, CancellationToken cancellationToken)
    {
        var latest = await connection.QueryFirstOrDefaultAsync<string?>(RegistryStatements.Command(
            "SELECT run FROM evaluation_runs WHERE version_id = @VersionId ORDER BY created_at DESC, id DESC LIMIT 1", passed, cancellationToken, transaction));
        var run = latest is null ? null : FromJson<EvaluationRun>(latest);
        var tests = await FindStoredTestsAsync(connection, transaction, passed.VersionId, cancellationToken);
        if (run?.Id != passed.RunId || !TestCaseRules.Ran(run, tests is null ? [] : FromJson<List<TestCase>>(tests)))
            throw new ConcurrentWriteException($"version {passed.VersionId}'s latest evaluation run or its test cases changed since run {passed.RunId} was checked.");
    }

    /// <summary>
    /// Writes <paramref name="tests"/> only if the stored cases are still <paramref name="expected"/> (null: none); false when
    /// another writer changed them first. A compare-and-set, so it holds on PostgreSQL's read committed too: a second writer's
    /// statement waits for the first's commit, then finds the row no longer matching.
    /// </summary>
    public static async Task<bool> ReplaceTestsAsync(DbConnection connection, DbTransaction transaction, string versionId, string? expected,
        IReadOnlyList<TestCase> tests, CancellationToken cancellationToken)
    {
        var sql = expected is null
            ? "INSERT INTO version_tests (version_id, tests) VALUES (@versionId, @Tests) ON CONFLICT (version_id) DO NOTHING"
            : "UPDATE version_tests SET tests = @Tests WHERE version_id = @versionId AND tests = @expected";
        return await connection.ExecuteAsync(RegistryStatements.Command(sql, new { versionId, expected, Tests = ToJson(tests.ToList()) },
            cancellationToken, transaction)) == 1;
    }

    public static Task SaveTestsAsync(DbConnection connection, DbTransaction transaction, string versionId, IReadOnlyList<TestCase> tests,
        CancellationToken cancellationToken) =>
        connection.ExecuteAsync(RegistryStatements.Command("""
            INSERT INTO version_tests (version_id, tests) VALUES (@versionId, @Tests)
            ON CONFLICT (version_id) DO UPDATE SET tests = excluded.tests
            """, new { versionId, Tests = ToJson(tests.ToList()) }, cancellationToken, transaction));

    /// <summary>Gives the new version the test cases of <paramref name="fromVersionId"/>, if it has any.</summary>
    public static Task CopyTestsAsync(DbConnection connection, DbTransaction transaction, string fromVersionId, string toVersionId,
        CancellationToken cancellationToken) =>
        connection.ExecuteAsync(RegistryStatements.Command("""
            INSERT INTO version_tests (version_id, tests) SELECT @toVersionId, tests FROM version_tests WHERE version_id = @fromVersionId
            """, new { fromVersionId, toVersionId }, cancellationToken, transaction));


    public static Task InsertRunAsync(DbConnection connection, DbTransaction transaction, EvaluationRun run, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(RegistryStatements.Command("""
            INSERT INTO evaluation_runs (id, version_id, status, created_at, created_by, run)
            VALUES (@Id, @VersionId, @Status, @CreatedAt, @CreatedBy, @Run)
            """, new
        {
            run.Id, run.VersionId, Status = ToName(run.Status), CreatedAt = ToText(run.CreatedAt), run.CreatedBy, Run = ToJson(run with { TestsChanged = null }),
        }, cancellationToken, transaction));

    public static async Task<EvaluationRun?> FindRunAsync(DbConnection connection, string id, CancellationToken cancellationToken)
    {
        var json = await connection.QuerySingleOrDefaultAsync<string>(RegistryStatements.Command(
            "SELECT run FROM evaluation_runs WHERE id = @id", new { id }, cancellationToken));
        return json is null ? null : FromJson<EvaluationRun>(json);
    }

    /// <summary>A page of the version's runs, newest first (ix_evaluation_runs_version), and how many it has.</summary>
    public static Task<Page<EvaluationRun>> ListRunsAsync(DbConnection connection, DbTransaction transaction, string versionId, PageRequest page,
        CancellationToken cancellationToken) =>
        RegistryStatements.PageAsync<string, EvaluationRun>(connection, transaction, "run", "evaluation_runs WHERE version_id = @versionId",
            "created_at DESC, id DESC", new { versionId }, page, FromJson<EvaluationRun>, cancellationToken);
}
