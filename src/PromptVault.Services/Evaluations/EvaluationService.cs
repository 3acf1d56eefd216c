using System.Globalization;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.AI.Evaluation;
using Microsoft.Extensions.Options;
using PromptVault.Core.Audit;
using PromptVault.Core.Contracts;
using PromptVault.Core.Models;
using PromptVault.Core.Prompts;
using PromptVault.Core.Registry;
using PromptVault.Core.Storage;

namespace PromptVault.Core.Evaluations;

/// <summary>
/// A version's test cases and evaluation runs (SPEC §10): each use case lives here once, for the API, the CLI (through the
/// API) and the dashboard. A run renders every case, asks the configured model for its answer when a check needs one (cases
/// at once, up to <see cref="EvaluationsOptions.MaxConcurrency"/>, each within <see cref="EvaluationsOptions.CaseTimeout"/>), runs
/// its checks, and is stored whole, so its verdicts never change.
/// </summary>
public sealed class EvaluationService(PromptRegistry registry, IEvaluationStore store, ModelCatalog models, ModelCaller caller,
    IOptions<EvaluationsOptions> options, TimeProvider time)
{
    private static readonly RubricEvaluator Judge = new();

    // Only writers changing one version's test cases at the same moment race, and each retry reads what the winner wrote.
    private const int MaxWriteAttempts = 20;

    public async Task<VersionTests> GetTestsAsync(string name, string versionRef, CancellationToken cancellationToken = default)
    {
        var (_, version) = await RequireVersionAsync(name, versionRef, cancellationToken);
        return new VersionTests(await store.FindTestsAsync(version.Id, cancellationToken));
    }

    /// <summary>Replaces a version's test cases (they are not part of its immutable body: adding a case creates no version).</summary>
    public Task<VersionTests> SaveTestsAsync(string name, string versionRef, VersionTests? body, string actor, CancellationToken cancellationToken = default) =>
        ChangeTestsAsync(name, versionRef, _ =>
        {
            TestCaseRules.EnsureSendable(body?.Tests);
            return body?.Tests;
        }, actor, cancellationToken);

    /// <summary>Appends one case to a version's test cases (the playground's "Save as test case"), checked with the others as a save is.
    /// Two appends at once both land: each is decided on the cases as stored when it commits.</summary>
    public Task<VersionTests> AddTestAsync(string name, string versionRef, TestCase? test, string actor, CancellationToken cancellationToken = default) =>
        ChangeTestsAsync(name, versionRef, stored =>
        {
            TestCaseRules.EnsureSendable([test], firstIndex: stored.Count);
            return [.. stored, test!];
        }, actor, cancellationToken);

    /// <summary>Stores <paramref name="change"/>'s cases, checked against the version's variables as well as on their own.</summary>
    private async Task<VersionTests> ChangeTestsAsync(string name, string versionRef, Func<IReadOnlyList<TestCase>, IReadOnlyList<TestCase>?> change,
        string actor, CancellationToken cancellationToken)
    {
        var (prompt, version) = await RequireVersionAsync(name, versionRef, cancellationToken);
        IReadOnlyList<TestCase> saved = [];
        await OptimisticWrites.RetryAsync(MaxWriteAttempts, async () =>
        {
            await store.ChangeTestsAsync(version.Id, stored =>
            {
                saved = TestCaseRules.Validate(change(stored), version.Variables);
                // Cases as they are stored already: nothing is written and nothing audited, so a repeated PUT acts once.
                if (TestCaseRules.Digest(saved) == TestCaseRules.Digest(stored))
                    return (saved = stored, null);
                return (saved, new AuditEntry(0, time.GetUtcNow(), actor, AuditActions.TestsChanged, prompt.Name, version.Version.ToString(),
                    Cases(stored.Count), Cases(saved.Count)));
            }, cancellationToken);
            return true;
        });
        return new VersionTests(saved);
    }

    /// <summary>Runs a version's test cases and stores the run.</summary>
    /// <exception cref="ConflictException">The version is archived (<c>version_archived</c>) or has no test cases (<c>no_tests</c>).</exception>
    public async Task<EvaluationRun> EvaluateAsync(string name, string versionRef, string actor, CancellationToken cancellationToken = default)
    {
        var (prompt, version) = await RequireVersionAsync(name, versionRef, cancellationToken);
        // Refused here, before any case: a case's render would refuse it in terms of serving traffic, which is not what was asked.
        if (version.Status == VersionStatus.Archived)
            throw new ConflictException("version_archived",
                $"version {version.Version} of '{prompt.Name}' is archived, so its tests cannot be run (an archived version never renders); " +
                "run them on a version that is not archived, or create a new version with its content to test it.", "version");
        var tests = await store.FindTestsAsync(version.Id, cancellationToken);
        if (tests.Count == 0)
            throw new ConflictException("no_tests",
                $"version {version.Version} of '{prompt.Name}' has no test cases; add them with PUT .../versions/{version.Version}/tests or a tests: block in its prompt file.");

        var run = Prepare(prompt, version, tests);
        var cases = new CaseResult[tests.Count];
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.Value.MaxConcurrency, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(Enumerable.Range(0, tests.Count), parallel, async (i, token) => cases[i] = await RunCaseAsync(run, tests[i], token));
        var now = time.GetUtcNow();
        var result = new EvaluationRun(Ids.New(now), prompt.Name, version.Version.ToString(), version.Id, StatusOf(cases), cases, now, actor)
        {
            TestsDigest = TestCaseRules.Digest(tests),
        };
        await store.SaveRunAsync(result, cancellationToken);
        return await WithTestsChangedAsync(result, cancellationToken);
    }

    public async Task<EvaluationRun> GetRunAsync(string id, CancellationToken cancellationToken = default) =>
        await WithTestsChangedAsync(await store.FindRunAsync(id, cancellationToken)
            ?? throw new NotFoundException("evaluation_not_found", $"there is no evaluation run '{PromptRules.Shorten(id)}'."), cancellationToken);

    public async Task<EvaluationListResponse> ListRunsAsync(string name, string versionRef, PageRequest page, CancellationToken cancellationToken = default)
    {
        var (_, version) = await RequireVersionAsync(name, versionRef, cancellationToken);
        var (runs, tests) = await store.ListRunsWithTestsAsync(version.Id, page, cancellationToken);
        return new EvaluationListResponse(runs.Select(run => WithTestsChanged(run, tests)).ToList(), runs.Total);
    }

    /// <summary>A version's newest run; null when it has none (the dashboard's run comparison).</summary>
    public async Task<EvaluationRun?> FindLatestRunAsync(string name, string versionRef, CancellationToken cancellationToken = default) =>
        (await ReadTestsAndLatestRunAsync(name, versionRef, cancellationToken)).Latest;

    /// <summary>A version's test cases and its newest run (null when none), read together, so the run's
    /// <see cref="EvaluationRun.TestsChanged"/> agrees with the cases shown beside it (the dashboard's version page).</summary>
    public async Task<(VersionTests Tests, EvaluationRun? Latest)> ReadTestsAndLatestRunAsync(string name, string versionRef,
        CancellationToken cancellationToken = default)
    {
        var (_, version) = await RequireVersionAsync(name, versionRef, cancellationToken);
        var (runs, tests) = await store.ListRunsWithTestsAsync(version.Id, PageRequest.First, cancellationToken);
        return (new VersionTests(tests), runs.FirstOrDefault() is { } run ? WithTestsChanged(run, tests) : null);
    }

    /// <summary><paramref name="run"/> as answered: with <see cref="EvaluationRun.TestsChanged"/> for its version's cases as they are now.</summary>
    private async Task<EvaluationRun> WithTestsChangedAsync(EvaluationRun run, CancellationToken cancellationToken) =>
        WithTestsChanged(run, await store.FindTestsAsync(run.VersionId, cancellationToken));

    private static EvaluationRun WithTestsChanged(EvaluationRun run, IReadOnlyList<TestCase> tests) =>
        run with { TestsChanged = !TestCaseRules.Ran(run, tests) };

    private static Dictionary<string, string?> Cases(int count) => new() { ["cases"] = count.ToString(CultureInfo.InvariantCulture) };

/// <summary>What every case of a run shares: the version, the model (null when no check needs one or none is configured),
    /// the version's settings as chat options (mapped once; the caller copies them per call), and its response format's schema.</summary>
    private sealed record RunSetup(Prompt Prompt, PromptVersion Version, ConfiguredModel? Model, ChatOptions ChatOptions, JsonSchemaCheck? Schema,
        Func<TestCase, string?> NamesProblem, Func<TestCase, string?> VariablesProblem);

    private RunSetup Prepare(Prompt prompt, PromptVersion version, IReadOnlyList<TestCase> tests)
    {
        var checks = tests.SelectMany(t => t.Expect!).ToList();
        var model = checks.Any(c => c.Target == CheckTypes.OutputTarget) && models.Names.Count > 0 ? models.Require(null) : null;
        var schema = checks.Any(c => c.Type == CheckTypes.JsonSchema) ? new JsonSchemaCheck(version.Metadata.ResponseFormat) : null;
        return new RunSetup(prompt, version, model, version.Metadata.ToChatOptions(), schema,
            TestCaseRules.NamesCheck(version.Variables, $"version {version.Version}"), TestCaseRules.VariablesCheck(version.Variables, $"version {version.Version}"));
    }

    private async Task<CaseResult> RunCaseAsync(RunSetup run, TestCase test, CancellationToken cancellationToken)
    {
        // Checked again here: a version is given its previous version's cases as they are (TestCaseRules.VariablesCheck). The render
        // checks the values (types, patterns), so only a refused render has them checked again, to say what the case gives wrong.
        if (run.NamesProblem(test) is { } problem)
            return RenderFailed(test, $"the case {problem}");
        RenderResponse rendered;
        try
        {
            rendered = await registry.RenderAsync(run.Prompt, run.Version, new RenderRequest(test.Variables, test.UnitId), cancellationToken: cancellationToken);
        }
        catch (InvalidInputException e)
        {
            return RenderFailed(test, run.VariablesProblem(test) is { } wrong ? $"the case {wrong}" : $"the case's variables do not render: {e.Message}");
        }
        // A chat render shows in its readable text form (`## role` headings), the one the playground and prompt files use.
        var render = rendered.Content ?? ChatMarkdown.Format(rendered.Messages ?? []);
        if (!test.Expect!.Any(c => c.Target == CheckTypes.OutputTarget))
            return Checked(test, test.Expect!.Select(check => TextChecks.Run(check, render, CheckTypes.RenderTarget)).ToList(), render, null);
        if (run.Model is not { } model)
            return NotChecked(run, test, render, null, [], NoModel);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Value.CaseTimeout);
        ModelAnswer? answer = null;
        var checks = new List<CheckResult>(test.Expect!.Count);
        try
        {
            var messages = ModelCaller.MessagesOf(rendered);
            answer = await caller.AnswerAsync(model, messages, run.ChatOptions, timeout.Token);
            foreach (var check in test.Expect!)
                checks.Add(await CheckAsync(run, check, render, messages, answer.Output, timeout.Token));
            return Checked(test, checks, render, answer);
        }
        catch (UpstreamFailedException e)
        {
            return NotChecked(run, test, render, answer, checks, e.Message);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return NotChecked(run, test, render, answer, checks,
                FormattableString.Invariant($"the case timed out: it did not finish within {options.Value.CaseTimeout.TotalSeconds:0.###} s ({EvaluationsOptions.SectionName}:CaseTimeout)"));
        }
        catch (Exception e) when (ModelCaller.Describe(e) is { } error)
        {
            return NotChecked(run, test, render, answer, checks, $"the judge, model '{model.Name}', failed: {error}");
        }
    }

    private static CaseResult RenderFailed(TestCase test, string reason) => new(test.Name!, false, [new CheckResult("render", false, reason)], null);

    /// <summary>The one place a check is dispatched to its rule: the text checks on the render or the answer, the schema, the judge.</summary>
    private static async ValueTask<CheckResult> CheckAsync(RunSetup run, TestExpectation check, string render, IList<ChatMessage> messages, string output,
        CancellationToken cancellationToken) =>
        IsJudged(check) ? await JudgeAsync(run.Model!, check, messages, output, cancellationToken) : CheckWithoutModel(run, check, render, output)!;

    private static bool IsJudged(TestExpectation check) => check is { Target: CheckTypes.OutputTarget, Type: CheckTypes.Judge };

    /// <summary>A check that calls no model: a text check of the render, or of the answer and the schema once the answer came (else null).</summary>
    private static CheckResult? CheckWithoutModel(RunSetup run, TestExpectation check, string render, string? output) => check switch
    {
        { Target: CheckTypes.RenderTarget } => TextChecks.Run(check, render, CheckTypes.RenderTarget),
        _ when output is null => null,
        { Type: CheckTypes.JsonSchema } => run.Schema!.Run(output),
        _ => TextChecks.Run(check, output, CheckTypes.OutputTarget),
    };

    private static async Task<CheckResult> JudgeAsync(ConfiguredModel model, TestExpectation check, IList<ChatMessage> messages, string output,
        CancellationToken cancellationToken)
    {
        var result = await Judge.EvaluateAsync(messages, new ChatResponse(new ChatMessage(ChatRole.Assistant, output)), new ChatConfiguration(model.Client),
            [new RubricContext(check.Rubric!, check.PassingScore ?? CheckTypes.DefaultPassingScore)], cancellationToken);
        var score = result.Get<NumericMetric>(RubricEvaluator.ScoreMetricName);
        return new CheckResult(CheckTypes.Judge, score.Interpretation is { Failed: false }, score.Interpretation?.Reason ?? score.Reason ?? "", (int?)score.Value);
    }

    private static CaseResult Checked(TestCase test, IReadOnlyList<CheckResult> checks, string render, ModelAnswer? answer) =>
        new(test.Name!, checks.All(c => c.Passed), checks, render, answer?.Output, answer?.LatencyMs, answer?.InputTokens, answer?.OutputTokens, answer?.Cost);

    /// <summary>A case whose answer or a judge's grade could not be had: the checks already <paramref name="done"/> keep their verdicts,
    /// the others that need no model call still run (the render's, and the answer's when it came); the rest say why they did not.</summary>
    private static CaseResult NotChecked(RunSetup run, TestCase test, string render, ModelAnswer? answer, IReadOnlyList<CheckResult> done, string error)
    {
        var checks = test.Expect!.Select((check, i) => i < done.Count ? done[i]
            : (IsJudged(check) ? null : CheckWithoutModel(run, check, render, answer?.Output)) ?? new CheckResult(check.Type!, false, $"not checked: {error}")).ToList();
        return Checked(test, checks, render, answer) with { Passed = false, Error = error };
    }

    private const string NoModel = $"this case has checks of the model's answer, and no model is configured: {ModelCatalog.HowToConfigure}";

    private static EvaluationStatus StatusOf(IReadOnlyList<CaseResult> cases) =>
        cases.Any(c => c.Error is not null) ? EvaluationStatus.Error
        : cases.All(c => c.Passed) ? EvaluationStatus.Passed
        : EvaluationStatus.Failed;

    private async Task<(Prompt Prompt, PromptVersion Version)> RequireVersionAsync(string name, string versionRef, CancellationToken cancellationToken)
    {
        var prompt = await registry.RequirePromptAsync(name, cancellationToken);
        return (prompt, await registry.RequireVersionAsync(prompt, versionRef, cancellationToken));
    }
}
