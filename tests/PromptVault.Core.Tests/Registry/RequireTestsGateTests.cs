using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using PromptVault.Core.Audit;
using PromptVault.Core.Contracts;
using PromptVault.Core.Evaluations;
using PromptVault.Core.Idempotency;
using PromptVault.Core.Prompts;
using PromptVault.Core.Registry;
using PromptVault.Core.Storage;
using PromptVault.Core.Templates;
using PromptVault.Storage.Sqlite.Tests;

namespace PromptVault.Core.Tests.Registry;

/// <summary>The requireTests gate against a change of the cases that lands between the promote's reads and its write.</summary>
public sealed class RequireTestsGateTests : IDisposable
{
    private readonly TempDatabase _database = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 1, 1, 12, 0, 0, TimeSpan.Zero));

    public void Dispose() => _database.Dispose();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static readonly TestCase Greets = new("greets", new Dictionary<string, JsonElement>(), null,
        [new TestExpectation(CheckTypes.Contains, JsonSerializer.SerializeToElement("Hello"))]);

    [Fact]
    public async Task Promote_CasesReplacedAfterTheGateReadThem_RefusedTestsRequired_LabelStays()
    {
        var store = await _database.CreateStoreAsync();
        var racing = new CasesReplacedAfterRead(store, [Greets with { Name = "changed" }]);
        var changes = new RegistryChangeFeed();
        var registry = new PromptRegistry(store, store, store, new TemplateEngine(), _time, new IdempotentRequests(store, _time),
            new RegistryCache(store, store, store, changes), changes, racing);
        var created = await registry.CreatePromptAsync(new CreatePromptRequest("gated", Type: PromptType.System, Content: "Hello",
            RequireTests: true, Tests: [Greets]), "alice", Token);
        var version = created.LatestVersion;
        var cases = await store.FindTestsAsync(version.Id, Token);
        await store.SaveRunAsync(new EvaluationRun("run-1", "gated", version.Version, version.Id, EvaluationStatus.Passed, [], _time.GetUtcNow(), "alice")
            { TestsDigest = TestCaseRules.Digest(cases) }, Token);

        var refused = await Assert.ThrowsAsync<ConflictException>(() => registry.MoveLabelAsync("gated", Label.Production, version.Version, "alice", cancellationToken: Token));

        Assert.Equal("tests_required", refused.Code);
        Assert.Contains("changed since its latest evaluation run run-1", refused.Message);
        Assert.DoesNotContain(await store.ListLabelsAsync(created.Id, Token), l => l.Name == Label.Production);
    }

    /// <summary>The store, except that the first read of a version's cases is followed at once by a PUT of <paramref name="replacement"/>.</summary>
    private sealed class CasesReplacedAfterRead(IEvaluationStore inner, IReadOnlyList<TestCase> replacement) : IEvaluationStore
    {
        private bool _replaced;

        public async Task<IReadOnlyList<TestCase>> FindTestsAsync(string versionId, CancellationToken cancellationToken = default)
        {
            var read = await inner.FindTestsAsync(versionId, cancellationToken);
            if (!_replaced)
            {
                _replaced = true;
                await inner.ChangeTestsAsync(versionId, _ => (replacement,
                    new AuditEntry(0, DateTimeOffset.UnixEpoch, "bob", AuditActions.TestsChanged, "gated", null, null, null)), cancellationToken);
            }
            return read;
        }

        public Task ChangeTestsAsync(string versionId, Func<IReadOnlyList<TestCase>, (IReadOnlyList<TestCase> Tests, AuditEntry? Audit)> change,
            CancellationToken cancellationToken = default) => inner.ChangeTestsAsync(versionId, change, cancellationToken);

        public Task SaveRunAsync(EvaluationRun run, CancellationToken cancellationToken = default) => inner.SaveRunAsync(run, cancellationToken);

        public Task<EvaluationRun?> FindRunAsync(string id, CancellationToken cancellationToken = default) => inner.FindRunAsync(id, cancellationToken);

        public Task<Page<EvaluationRun>> ListRunsAsync(string versionId, PageRequest page, CancellationToken cancellationToken = default) =>
            inner.ListRunsAsync(versionId, page, cancellationToken);

        public Task<(Page<EvaluationRun> Runs, IReadOnlyList<TestCase> Tests)> ListRunsWithTestsAsync(string versionId, PageRequest page,
            CancellationToken cancellationToken = default) => inner.ListRunsWithTestsAsync(versionId, page, cancellationToken);
    }
}
