using System.Globalization;
using PromptVault.Core.Audit;
using PromptVault.Core.Evaluations;
using PromptVault.Core.Prompts;
using PromptVault.Core.Registry;
using PromptVault.Core.Storage;
using PromptVault.Core.Templates;

namespace PromptVault.Core.Evaluations;

/// <summary>
/// A version's test cases and evaluation runs (SPEC §10): each use case lives here once, for the API, the CLI (through the
/// API) and the dashboard. A run renders every case, runs its checks, and is stored whole, so its verdicts never change.
/// </summary>
public sealed class EvaluationService(PromptRegistry registry, IEvaluationStore store, TemplateEngine templates, TimeProvider time)
{
    /// <summary>How many runs of a version a list returns.</summary>
    public const int MaxListedRuns = 100;

    public async Task<VersionTests> GetTestsAsync(string name, string versionRef, CancellationToken cancellationToken = default)
    {
        var (_, version) = await RequireVersionAsync(name, versionRef, cancellationToken);
        return new VersionTests(await store.FindTestsAsync(version.Id, cancellationToken));
    }

    /// <summary>Replaces a version's test cases (they are not part of its immutable body: adding a case creates no version).</summary>
    public async Task<VersionTests> SaveTestsAsync(string name, string versionRef, VersionTests? body, string actor, CancellationToken cancellationToken = default)
    {
        var tests = TestCaseRules.Validate(body?.Tests);
        var (prompt, version) = await RequireVersionAsync(name, versionRef, cancellationToken);
        var previous = await store.FindTestsAsync(version.Id, cancellationToken);
        var audit = new AuditEntry(0, time.GetUtcNow(), actor, AuditActions.TestsChanged, prompt.Name, version.Version.ToString(),
            Cases(previous.Count), Cases(tests.Count));
        await store.SaveTestsAsync(version.Id, tests, audit, cancellationToken);
        return new VersionTests(tests);
    }

    /// <summary>Appends one case to a version's test cases (the playground's "Save as test case"), checked with the others as a save is.</summary>
    public async Task<VersionTests> AddTestAsync(string name, string versionRef, TestCase? test, string actor, CancellationToken cancellationToken = default)
    {
        var current = await GetTestsAsync(name, versionRef, cancellationToken);
        return await SaveTestsAsync(name, versionRef, new VersionTests([.. current.Tests!, test!]), actor, cancellationToken);
    }

    /// <summary>Runs a version's test cases and stores the run.</summary>
    /// <exception cref="ConflictException">The version has no test cases (<c>no_tests</c>).</exception>
    public async Task<EvaluationRun> EvaluateAsync(string name, string versionRef, string actor, CancellationToken cancellationToken = default)
    {
        var (prompt, version) = await RequireVersionAsync(name, versionRef, cancellationToken);
        var tests = await store.FindTestsAsync(version.Id, cancellationToken);
        if (tests.Count == 0)
            throw new ConflictException("no_tests",
                $"version {version.Version} of '{prompt.Name}' has no test cases; add them with PUT .../versions/{version.Version}/tests or a tests: block in its prompt file.");

        var compiled = templates.For(version);
        var cases = tests.Select(test => RunCase(compiled, test)).ToList();
        var now = time.GetUtcNow();
        var run = new EvaluationRun(Ids.New(now), prompt.Name, version.Version.ToString(), version.Id, StatusOf(cases), cases, now, actor);
        await store.SaveRunAsync(run, cancellationToken);
        return run;
    }

    public async Task<EvaluationRun> GetRunAsync(string id, CancellationToken cancellationToken = default) =>
        await store.FindRunAsync(id, cancellationToken)
        ?? throw new NotFoundException("evaluation_not_found", $"there is no evaluation run '{PromptRules.Shorten(id)}'.");

    public async Task<EvaluationListResponse> ListRunsAsync(string name, string versionRef, CancellationToken cancellationToken = default)
    {
        var (_, version) = await RequireVersionAsync(name, versionRef, cancellationToken);
        return new EvaluationListResponse(await store.ListRunsAsync(version.Id, MaxListedRuns, cancellationToken));
    }

    /// <summary>A version's newest run; null when it has none (the dashboard's version page and run comparison).</summary>
    public async Task<EvaluationRun?> FindLatestRunAsync(string name, string versionRef, CancellationToken cancellationToken = default)
    {
        var (_, version) = await RequireVersionAsync(name, versionRef, cancellationToken);
        return (await store.ListRunsAsync(version.Id, 1, cancellationToken)).FirstOrDefault();
    }

    private static Dictionary<string, string?> Cases(int count) => new() { ["cases"] = count.ToString(CultureInfo.InvariantCulture) };

    private static CaseResult RunCase(CompiledPrompt compiled, TestCase test)
    {
        string render;
        try
        {
            render = compiled.Render(test.Variables);
        }
        catch (InvalidInputException e)
        {
            return new CaseResult(test.Name!, false, [new CheckResult("render", false, $"the case's variables do not render: {e.Message}")], null);
        }
        var checks = test.Expect!.Select(check => check.Target == CheckTypes.RenderTarget
            ? TextChecks.Run(check, render, CheckTypes.RenderTarget)
            : new CheckResult(check.Type!, false, NoModel)).ToList();
        return new CaseResult(test.Name!, checks.All(c => c.Passed), checks, render);
    }

    private const string NoModel = "this check needs the model's answer, and no model is configured (PromptVault:Models)";

    private static EvaluationStatus StatusOf(IReadOnlyList<CaseResult> cases) =>
        cases.Any(c => c.Checks.Any(check => check.Reason == NoModel)) ? EvaluationStatus.Error
        : cases.All(c => c.Passed) ? EvaluationStatus.Passed
        : EvaluationStatus.Failed;

    private async Task<(Prompt Prompt, PromptVersion Version)> RequireVersionAsync(string name, string versionRef, CancellationToken cancellationToken)
    {
        var prompt = await registry.RequirePromptAsync(name, cancellationToken);
        return (prompt, await registry.RequireVersionAsync(prompt, versionRef, cancellationToken));
    }
}
