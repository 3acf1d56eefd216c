using Microsoft.Extensions.Time.Testing;
using PromptVault.Core.Audit;
using PromptVault.Core.Contracts;
using PromptVault.Core.Idempotency;
using PromptVault.Core.Prompts;
using PromptVault.Core.Registry;
using PromptVault.Core.Storage;
using PromptVault.Storage.Sqlite.Tests;
using PromptVault.Core.Templates;
using PromptVault.Core.Versioning;
using static PromptVault.Core.Tests.Support.Values;

namespace PromptVault.Core.Tests.Registry;

public sealed class PromptRegistryTests : IAsyncLifetime
{
    private const string Actor = "alice";
    private readonly TempDatabase _database = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 1, 1, 12, 0, 0, TimeSpan.Zero));
    private IPromptStore _store = null!;
    private PromptRegistry _registry = null!;

    public async ValueTask InitializeAsync()
    {
        var store = await _database.CreateStoreAsync();
        _store = store;
        var changes = new RegistryChangeFeed();
        _registry = new PromptRegistry(store, store, store, new TemplateEngine(), _time, new IdempotentRequests(store, _time),
            new RegistryCache(store, store, store, changes), changes);
    }

    public ValueTask DisposeAsync()
    {
        _database.Dispose();
        return ValueTask.CompletedTask;
    }

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static readonly VariableDefinition Company = new("company_name", Required: true);

    private Task<PromptResponse> CreateSupportPromptAsync() =>
        _registry.CreatePromptAsync(new CreatePromptRequest("support", "Support replies", PromptType.System,
            "You help {{company_name}}.", [Company], new PromptMetadata { Model = "gpt-4o", Temperature = 0.2 }), Actor, Token);

    [Fact]
    public async Task CreatePromptAsync_ValidRequest_StoresFirstVersionAsDraft()
    {
        var created = await CreateSupportPromptAsync();

        Assert.Equal("support", created.Name);
        Assert.Equal("1.0.0", created.LatestVersion.Version);
        Assert.Equal(VersionStatus.Draft, created.LatestVersion.Status);
        Assert.Equal("Initial version", created.LatestVersion.ChangeDescription);
        Assert.Equal(Actor, created.LatestVersion.CreatedBy);
        Assert.Equal(_time.GetUtcNow(), created.CreatedAt);
    }

    [Fact]
    public async Task CreatePromptAsync_TypoInTemplate_RefusedNamingVariable()
    {
        var request = new CreatePromptRequest("support", Content: "You help {{compnay_name}}.", Variables: [Company]);

        var error = await Assert.ThrowsAsync<InvalidInputException>(() => _registry.CreatePromptAsync(request, Actor, Token));

        Assert.Equal("unknown_variable", error.Code);
        Assert.Contains("'compnay_name'", error.Message, StringComparison.Ordinal);
        Assert.Null(await _store.FindPromptAsync("support", Token));
    }

    [Fact]
    public async Task CreatePromptAsync_ExistingName_Conflict()
    {
        await CreateSupportPromptAsync();

        var error = await Assert.ThrowsAsync<ConflictException>(CreateSupportPromptAsync);

        Assert.Equal("prompt_exists", error.Code);
    }

    [Fact]
    public async Task CreateVersionAsync_OnlyContentChanged_BumpsPatch()
    {
        await CreateSupportPromptAsync();

        var version = await _registry.CreateVersionAsync("support",
            new CreateVersionRequest("You kindly help {{company_name}}.", ChangeDescription: "Friendlier"), Actor, Token);

        Assert.Equal("1.0.1", version.Version);
        Assert.Equal("You kindly help {{company_name}}.", version.Content);
        Assert.Equal(["company_name"], version.Variables.Select(v => v.Name));
    }

    [Fact]
    public async Task CreateVersionAsync_OnlyMetadataChanged_BumpsPatch()
    {
        await CreateSupportPromptAsync();

        var version = await _registry.CreateVersionAsync("support",
            new CreateVersionRequest("You help {{company_name}}.", Metadata: new PromptMetadata { Model = "gpt-4o-mini" }, ChangeDescription: "Cheaper model"), Actor, Token);

        Assert.Equal("1.0.1", version.Version);
    }

    [Fact]
    public async Task CreateVersionAsync_OptionalVariableAdded_BumpsMinor()
    {
        await CreateSupportPromptAsync();

        var version = await _registry.CreateVersionAsync("support",
            new CreateVersionRequest("You help {{company_name}}. {{customer_name}}", [Company, new("customer_name")], ChangeDescription: "Name"), Actor, Token);

        Assert.Equal("1.1.0", version.Version);
    }

    [Fact]
    public async Task CreateVersionAsync_RequiredVariableAdded_BumpsMajor()
    {
        await CreateSupportPromptAsync();

        var version = await _registry.CreateVersionAsync("support",
            new CreateVersionRequest("{{company_name}} {{order_id}}", [Company, new("order_id", Required: true)], ChangeDescription: "Orders"), Actor, Token);

        Assert.Equal("2.0.0", version.Version);
    }

    [Fact]
    public async Task CreateVersionAsync_LargerBumpRequested_UsesIt()
    {
        await CreateSupportPromptAsync();

        var version = await _registry.CreateVersionAsync("support",
            new CreateVersionRequest("Rewritten for {{company_name}}.", ChangeDescription: "Rewrite", Bump: VersionBump.Major), Actor, Token);

        Assert.Equal("2.0.0", version.Version);
    }

    [Fact]
    public async Task CreateVersionAsync_SmallerBumpRequested_Refused()
    {
        await CreateSupportPromptAsync();
        var request = new CreateVersionRequest("{{company_name}} {{order_id}}", [Company, new("order_id", Required: true)], ChangeDescription: "Orders", Bump: VersionBump.Patch);

        var error = await Assert.ThrowsAsync<InvalidInputException>(() => _registry.CreateVersionAsync("support", request, Actor, Token));

        Assert.Equal("bump_too_small", error.Code);
        Assert.Contains("'order_id'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateVersionAsync_NothingChanged_ConflictVersionUnchanged()
    {
        await CreateSupportPromptAsync();

        var error = await Assert.ThrowsAsync<ConflictException>(() => _registry.CreateVersionAsync("support",
            new CreateVersionRequest("You help {{company_name}}.", ChangeDescription: "Same again"), Actor, Token));

        Assert.Equal("version_unchanged", error.Code);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public async Task CreateVersionAsync_NoChangeDescription_RefusedNamingField(string? description)
    {
        await CreateSupportPromptAsync();

        var error = await Assert.ThrowsAsync<InvalidInputException>(() => _registry.CreateVersionAsync("support",
            new CreateVersionRequest("Changed {{company_name}}.", ChangeDescription: description), Actor, Token));

        Assert.Equal("changeDescription", error.Field);
    }

    [Fact]
    public async Task MoveLabelAsync_Production_PromotesAndDeprecatesPrevious()
    {
        await CreateSupportPromptAsync();
        await _registry.CreateVersionAsync("support", new CreateVersionRequest("V2 {{company_name}}", ChangeDescription: "v2"), Actor, Token);
        await _registry.MoveLabelAsync("support", Label.Production, "1.0.0", Actor, cancellationToken: Token);

        var promoted = await _registry.MoveLabelAsync("support", Label.Production, "1.0.1", Actor, cancellationToken: Token);

        Assert.Equal(VersionStatus.Production, promoted.Status);
        Assert.Equal([Label.Production], promoted.Labels);
        var first = await _registry.GetVersionAsync("support", "1.0.0", Token);
        Assert.Equal(VersionStatus.Deprecated, first.Status);
        Assert.Empty(first.Labels);
    }

    [Fact]
    public async Task MoveLabelAsync_ArchivedVersion_Refused()
    {
        await CreateSupportPromptAsync();
        await _registry.ChangeStatusAsync("support", "1.0.0", VersionStatus.Archived, Actor, cancellationToken: Token);

        var error = await Assert.ThrowsAsync<ConflictException>(() => _registry.MoveLabelAsync("support", "staging", "1.0.0", Actor, cancellationToken: Token));

        Assert.Equal("version_archived", error.Code);
    }

    [Fact]
    public async Task ChangeStatusAsync_DraftToApproved_RefusedListingAllowedMoves()
    {
        await CreateSupportPromptAsync();

        var error = await Assert.ThrowsAsync<ConflictException>(() => _registry.ChangeStatusAsync("support", "1.0.0", VersionStatus.Approved, Actor, cancellationToken: Token));

        Assert.Equal("invalid_transition", error.Code);
        Assert.Contains("review", error.Message, StringComparison.Ordinal);
    }

    /// <summary>1.0.0 was in production; 1.0.1, a broken one, is.</summary>
    private async Task SupportWithBrokenVersionInProductionAsync()
    {
        await CreateSupportPromptAsync();
        await _registry.MoveLabelAsync("support", Label.Production, "1.0.0", Actor, cancellationToken: Token);
        await _registry.CreateVersionAsync("support", new CreateVersionRequest("Broken {{company_name}}", ChangeDescription: "oops"), Actor, Token);
        await _registry.MoveLabelAsync("support", Label.Production, "1.0.1", Actor, cancellationToken: Token);
    }

    [Fact]
    public async Task RollbackAsync_EarlierVersion_CreatesPromotedCopy()
    {
        await SupportWithBrokenVersionInProductionAsync();

        var rolledBack = await _registry.RollbackAsync("support", "1.0.0", "bad replies", Actor, cancellationToken: Token);

        Assert.Equal("1.0.2", rolledBack.Version);
        Assert.Equal("You help {{company_name}}.", rolledBack.Content);
        Assert.Equal("Rollback to version 1.0.0", rolledBack.ChangeDescription);
        Assert.Equal(VersionStatus.Production, rolledBack.Status);
        Assert.Equal(VersionStatus.Deprecated, (await _registry.GetVersionAsync("support", "1.0.1", Token)).Status);
        Assert.Equal(3, (await _registry.ListVersionsAsync("support", PageRequest.All, Token)).Versions.Count);
    }

    [Fact]
    public async Task RollbackAsync_TwiceToTheSameVersion_SecondIsRefused_NoIdenticalCopyNorAuditEntries()
    {
        await SupportWithBrokenVersionInProductionAsync();
        await _registry.RollbackAsync("support", "1.0.0", "bad replies", Actor, cancellationToken: Token);

        var error = await Assert.ThrowsAsync<ConflictException>(() => _registry.RollbackAsync("support", "1.0.0", "bad replies", Actor, cancellationToken: Token));

        Assert.Equal("already_in_production", error.Code);
        Assert.Contains("as version 1.0.2", error.Message, StringComparison.Ordinal);
        Assert.Equal(3, (await _registry.ListVersionsAsync("support", PageRequest.All, Token)).Versions.Count);
        var entries = (await _registry.ListAuditAsync(new AuditQuery("support"), Token)).Entries;
        Assert.Single(entries, e => e.Action == AuditActions.RolledBack);
        Assert.Equal(3, entries.Count(e => e.Action == AuditActions.VersionCreated)); // 1.0.0, 1.0.1 and the rollback's 1.0.2
    }

    [Fact]
    public async Task RenderAsync_ProductionLabel_RendersPromotedVersion()
    {
        await CreateSupportPromptAsync();
        await _registry.MoveLabelAsync("support", Label.Production, "1.0.0", Actor, cancellationToken: Token);

        var rendered = await _registry.RenderAsync("support", new RenderRequest(Inputs(("company_name", "\"Acme\""))), Token);

        Assert.Equal("You help Acme.", rendered.Content);
        Assert.Equal("1.0.0", rendered.Version);
    }

    [Fact]
    public async Task RenderAsync_NoProductionVersion_NotFound()
    {
        await CreateSupportPromptAsync();

        var error = await Assert.ThrowsAsync<NotFoundException>(() => _registry.RenderAsync("support", new RenderRequest(Inputs(("company_name", "\"Acme\""))), Token));

        Assert.Equal("label_not_found", error.Code);
    }

    [Fact]
    public async Task CompareAsync_TwoVersions_DiffsContent()
    {
        await CreateSupportPromptAsync();
        await _registry.CreateVersionAsync("support", new CreateVersionRequest("You gladly help {{company_name}}.", ChangeDescription: "Glad"), Actor, Token);

        var comparison = await _registry.CompareAsync("support", "1.0.0", "1.0.1", Token);

        Assert.Equal(["You help {{company_name}}."], comparison.ContentDiff.Removed);
        Assert.Equal(["You gladly help {{company_name}}."], comparison.ContentDiff.Added);
    }

    [Fact]
    public async Task ListAuditAsync_AfterCreateAndPromote_RecordsEachChange()
    {
        await CreateSupportPromptAsync();
        await _registry.MoveLabelAsync("support", Label.Production, "1.0.0", Actor, cancellationToken: Token);

        var entries = (await _registry.ListAuditAsync(new AuditQuery("support"), Token)).Entries;

        Assert.Equal([AuditActions.Promoted, AuditActions.VersionCreated, AuditActions.PromptCreated], entries.Select(e => e.Action));
        Assert.All(entries, e => Assert.Equal(Actor, e.Actor));
    }
}
