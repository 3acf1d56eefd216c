using System.Text.Json;
using PromptVault.Core;
using PromptVault.Core.Audit;
using PromptVault.Core.Contracts;
using PromptVault.Core.Evaluations;
using PromptVault.Core.Storage;
using static PromptVault.Storage.Testing.Samples;

namespace PromptVault.Storage.Testing;

/// <summary>
/// What every <see cref="IEvaluationStore"/> must do: keep a version's test cases as written (and with a new version, or carried
/// forward from another), and keep its runs whole, newest first. Each provider inherits this suite.
/// </summary>
public abstract class EvaluationStoreContractTests
{
    protected static CancellationToken Cancel => TestContext.Current.CancellationToken;

    /// <summary>A new, empty, migrated store; both interfaces may be the same object.</summary>
    protected abstract Task<(IPromptStore Prompts, IEvaluationStore Evaluations)> CreateStoreAsync();

    private static readonly IReadOnlyList<TestCase> Cases =
    [
        new("greets", new Dictionary<string, JsonElement> { ["customer"] = Element("\"Ann\""), ["items"] = Element("[1, {\"a\": null}]") }, "unit-7",
            [new(CheckTypes.Contains, Element("\"Ann ✓\""), CheckTypes.RenderTarget), new(CheckTypes.MaxLength, Element("120"), CheckTypes.RenderTarget)]),
        new("polite", new Dictionary<string, JsonElement>(), null, [new(CheckTypes.Judge, null, CheckTypes.OutputTarget, "Is it polite?", 4)]),
    ];

    private static string Text<T>(T value) => JsonSerializer.Serialize(value, PromptVaultJson.Options);

    private static EvaluationRun Run(string versionId, string id, DateTimeOffset at, EvaluationStatus status) =>
        new(id, "seeded", "1.0.0", versionId, status,
            [
                new("greets", status == EvaluationStatus.Passed, [new(CheckTypes.Contains, status == EvaluationStatus.Passed, "render contains 'Ann'"),
                    new(CheckTypes.Judge, true, "scored 5 of 5, at least the passing score 4: Polite.", 5)],
                    "Hello Ann", "Hi!", 12.5, 10, 3, 0.0001),
                new("timed out", false, [new(CheckTypes.Contains, false, "not checked: the case timed out")], "Hello Bob", Error: "the case timed out"),
            ], at, "alice");

    private static Task SetTestsAsync(IEvaluationStore store, Core.Prompts.Prompt prompt, string versionId, IReadOnlyList<TestCase> tests) =>
        store.ChangeTestsAsync(versionId, _ => (tests, Audit(AuditActions.TestsChanged, prompt.Name, "1.0.0")), Cancel);

    [Fact]
    public async Task ChangeTestsAsync_ThenFind_ReturnsThemAsWritten_AndReplacesOnTheNextChange()
    {
        var (prompts, store) = await CreateStoreAsync();
        var (prompt, first, _) = await SeedPromptAsync(prompts, "tested");

        var before = await store.FindTestsAsync(first.Id, Cancel);
        await SetTestsAsync(store, prompt, first.Id, Cases);
        var saved = await store.FindTestsAsync(first.Id, Cancel);
        await SetTestsAsync(store, prompt, first.Id, Cases.Take(1).ToList());
        var replaced = await store.FindTestsAsync(first.Id, Cancel);

        Assert.Empty(before);
        Assert.Equal(Text(Cases), Text(saved));
        Assert.Equal("greets", Assert.Single(replaced).Name);
        var audit = await prompts.ListAuditAsync(new AuditQuery(prompt.Name, Action: AuditActions.TestsChanged), Cancel);
        Assert.Equal(2, audit.Count);
    }

    /// <summary>A change without an audit entry is one that changes nothing (the cases are the stored ones): nothing is written.</summary>
    [Fact]
    public async Task ChangeTestsAsync_WithoutAnAuditEntry_WritesNothing()
    {
        var (prompts, store) = await CreateStoreAsync();
        var (prompt, first, _) = await SeedPromptAsync(prompts, "unchanged");
        await SetTestsAsync(store, prompt, first.Id, Cases);

        await store.ChangeTestsAsync(first.Id, _ => (Cases.Take(1).ToList(), null), Cancel);

        Assert.Equal(Text(Cases), Text(await store.FindTestsAsync(first.Id, Cancel)));
        Assert.Equal(1, (await prompts.ListAuditAsync(new AuditQuery(prompt.Name, Action: AuditActions.TestsChanged), Cancel)).Count);
    }

    [Fact]
    public async Task ChangeTestsAsync_ManyAppendsAtOnce_NoneIsLost()
    {
        var (prompts, store) = await CreateStoreAsync();
        var (prompt, first, _) = await SeedPromptAsync(prompts, "appended");
        const int Appends = 12;

        // Each append reads the stored cases and adds one, as "save as test case" does; a lost race is read again and redone.
        await Task.WhenAll(Enumerable.Range(0, Appends).Select(i => Task.Run(async () =>
        {
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    await store.ChangeTestsAsync(first.Id, stored =>
                        ([.. stored, Cases[0] with { Name = $"case {i}" }], Audit(AuditActions.TestsChanged, prompt.Name, "1.0.0")), Cancel);
                    return;
                }
                catch (ConcurrentWriteException) when (attempt < 100)
                {
                }
            }
        })));

        var names = (await store.FindTestsAsync(first.Id, Cancel)).Select(t => t.Name).Order().ToList();
        Assert.Equal(Enumerable.Range(0, Appends).Select(i => $"case {i}").Order(), names);
        Assert.Equal(Appends, (await prompts.ListAuditAsync(new AuditQuery(prompt.Name, Action: AuditActions.TestsChanged), Cancel)).Count);
    }

    [Fact]
    public async Task SaveAsync_NewVersion_WritesItsOwnTests_OrCarriesThemForward()
    {
        var (prompts, store) = await CreateStoreAsync();
        var (prompt, first, _) = await SeedPromptAsync(prompts, "tested");
        await SetTestsAsync(store, prompt, first.Id, Cases);
        var carried = Version(prompt, 3);
        var own = Version(prompt, 4);
        var none = Version(prompt, 5);

        await prompts.SaveAsync(new PromptChanges { NewVersion = carried, TestsFromVersionId = first.Id }, Cancel);
        await prompts.SaveAsync(new PromptChanges { NewVersion = own, NewVersionTests = Cases.Skip(1).ToList() }, Cancel);
        await prompts.SaveAsync(new PromptChanges { NewVersion = none, TestsFromVersionId = own.Id + "-missing" }, Cancel);

        Assert.Equal(Text(Cases), Text(await store.FindTestsAsync(carried.Id, Cancel)));
        Assert.Equal("polite", Assert.Single(await store.FindTestsAsync(own.Id, Cancel)).Name);
        Assert.Empty(await store.FindTestsAsync(none.Id, Cancel));
    }

    [Fact]
    public async Task SaveAsync_PassedRun_AppliesOnlyWhileThatRunIsLatestAndItsCasesUnchanged()
    {
        var (prompts, store) = await CreateStoreAsync();
        var (prompt, _, second) = await SeedPromptAsync(prompts, "gated");
        await SetTestsAsync(store, prompt, second.Id, Cases);
        var passed = Run(second.Id, "run-1", Now, EvaluationStatus.Passed) with { TestsDigest = TestCaseRules.Digest(Cases) };
        await store.SaveRunAsync(passed, Cancel);
        PromptChanges Promote() => new()
        {
            LabelChanges = [new LabelChange(prompt.Id, "staging", null, second.Id, Now, "alice")],
            PassedRun = new PassedRun(second.Id, passed.Id),
        };

        // The cases change after the gate read them (a PUT landing between the promote's reads and its write).
        await SetTestsAsync(store, prompt, second.Id, Cases.Take(1).ToList());
        await Assert.ThrowsAsync<ConcurrentWriteException>(() => prompts.SaveAsync(Promote(), Cancel));
        await SetTestsAsync(store, prompt, second.Id, Cases);
        // A newer run is stored after the gate read the latest.
        await store.SaveRunAsync(Run(second.Id, "run-2", Now.AddMinutes(1), EvaluationStatus.Failed) with { TestsDigest = TestCaseRules.Digest(Cases) }, Cancel);
        await Assert.ThrowsAsync<ConcurrentWriteException>(() => prompts.SaveAsync(Promote(), Cancel));
        Assert.DoesNotContain(await prompts.ListLabelsAsync(prompt.Id, Cancel), l => l.Name == "staging");

        await store.SaveRunAsync(passed with { Id = "run-3", CreatedAt = Now.AddMinutes(2) }, Cancel);
        await prompts.SaveAsync(Promote() with { PassedRun = new PassedRun(second.Id, "run-3") }, Cancel);
        Assert.Equal(second.Id, Assert.Single(await prompts.ListLabelsAsync(prompt.Id, Cancel), l => l.Name == "staging").VersionId);
    }

    [Fact]
    public async Task SaveRunAsync_ThenFindAndList_ReturnsRunsWhole_NewestFirst_ByPage()
    {
        var (prompts, store) = await CreateStoreAsync();
        var (_, first, second) = await SeedPromptAsync(prompts, "tested");
        var older = Run(first.Id, "run-1", Now, EvaluationStatus.Failed);
        var newer = Run(first.Id, "run-2", Now.AddMinutes(1), EvaluationStatus.Passed);

        await store.SaveRunAsync(newer, Cancel);
        await store.SaveRunAsync(older, Cancel);
        await store.SaveRunAsync(Run(second.Id, "run-3", Now.AddMinutes(2), EvaluationStatus.Error), Cancel);

        Assert.Equal(Text(older), Text(await store.FindRunAsync("run-1", Cancel)));
        Assert.Null(await store.FindRunAsync("run-404", Cancel));
        Assert.Equal(["run-2", "run-1"], (await store.ListRunsAsync(first.Id, new PageRequest(10), Cancel)).Select(r => r.Id));
        var olderPage = await store.ListRunsAsync(first.Id, new PageRequest(1, 1), Cancel);
        Assert.Equal(["run-1"], olderPage.Select(r => r.Id));
        Assert.Equal(2, olderPage.Total);
    }

    [Fact]
    public async Task ListRunsWithTestsAsync_TheNewestRunsAndTheCasesAsStored()
    {
        var (prompts, store) = await CreateStoreAsync();
        var (prompt, first, second) = await SeedPromptAsync(prompts, "tested");
        await SetTestsAsync(store, prompt, first.Id, Cases);
        await store.SaveRunAsync(Run(first.Id, "run-1", Now, EvaluationStatus.Failed), Cancel);
        await store.SaveRunAsync(Run(first.Id, "run-2", Now.AddMinutes(1), EvaluationStatus.Passed), Cancel);

        var (runs, tests) = await store.ListRunsWithTestsAsync(first.Id, PageRequest.First, Cancel);
        var (none, noTests) = await store.ListRunsWithTestsAsync(second.Id, PageRequest.First, Cancel);

        Assert.Equal(["run-2"], runs.Select(r => r.Id));
        Assert.Equal(2, runs.Total);
        Assert.Equal(Text(Cases), Text(tests));
        Assert.Empty(none);
        Assert.Empty(noTests);
    }
}
