using PromptVault.Core;
using PromptVault.Core.Audit;
using PromptVault.Core.Auth;
using PromptVault.Core.Prompts;
using PromptVault.Core.Storage;
using PromptVault.Core.Versioning;
using static PromptVault.Storage.Testing.Samples;

namespace PromptVault.Storage.Testing;

/// <summary>
/// What every <see cref="IPromptStore"/> and <see cref="IApiKeyStore"/> must do. Each provider inherits this suite and
/// supplies a new, empty, migrated store; a provider difference is an override with a comment.
/// </summary>
public abstract class PromptStoreContractTests
{
    protected static CancellationToken Cancel => TestContext.Current.CancellationToken;

    /// <summary>A new, empty store; both interfaces may be the same object.</summary>
    protected abstract Task<(IPromptStore Prompts, IApiKeyStore Keys)> CreateStoreAsync();

    [Fact]
    public async Task SaveAsync_NewPromptWithVersion_RoundTripsEveryField()
    {
        var (store, _) = await CreateStoreAsync();
        var prompt = Prompt("support/reply-v2.x", PromptType.FewShot, "support", "support", "email");
        var version = Version(prompt, 1);

        await store.SaveAsync(Created(prompt, version), Cancel);

        Assert.Equal(Json(prompt), Json(await store.FindPromptAsync(prompt.Name, Cancel)));
        Assert.Equal(Json(version), Json(await store.FindVersionAsync(prompt.Id, version.Version, Cancel)));
        Assert.Equal(Json(version), Json(await store.FindVersionByIdAsync(prompt.Id, version.Id, Cancel)));
        var latest = await store.FindLatestVersionAsync(prompt.Id, Cancel);
        Assert.Equal(Json(version), Json(latest));
        Assert.Null(latest!.Variables[0].DefaultValue);
        Assert.Equal("0.70", latest.Variables[2].DefaultValue!.Value.GetRawText());
        Assert.Equal(Json(Metadata), Json(latest.Metadata));
    }

    [Fact]
    public async Task SaveAsync_ChatVersion_RoundTripsItsMessages()
    {
        var (store, _) = await CreateStoreAsync();
        var prompt = Prompt("assistant", PromptType.Chat);
        PromptMessage[] messages =
        [
            new(MessageRole.System, "You help {{company}}.\n\"Quotes\", unicode é and \\ stay."),
            new(MessageRole.Placeholder, "history"),
            new(MessageRole.User, "{{question}}"),
        ];
        var chat = Version(prompt, 1) with { Content = "", Messages = messages };
        var text = Version(prompt, 2, new SemanticVersion(1, 0, 1));

        await store.SaveAsync(Created(prompt, chat), Cancel);
        await store.SaveAsync(new PromptChanges { NewVersion = text }, Cancel);

        Assert.Equal(messages, (await store.FindVersionByIdAsync(prompt.Id, chat.Id, Cancel))!.Messages);
        Assert.Equal(messages, (await store.FindVersionAsync(prompt.Id, chat.Version, Cancel))!.Messages);
        var listed = (await store.ListVersionsAsync(prompt.Id, Cancel)).ToList();
        Assert.Null(listed[0].Messages);
        Assert.Equal(messages, listed[1].Messages);
        Assert.Equal(PromptType.Chat, (await store.FindPromptAsync(prompt.Name, Cancel))!.Type);
    }

    [Fact]
    public async Task SaveAsync_DeclaredVariables_RoundTrip_AndAVersionSavedWithoutThemReadsNull()
    {
        var (store, _) = await CreateStoreAsync();
        var prompt = Prompt("includer");
        var declared = Version(prompt, 1) with
        {
            Variables = [new VariableDefinition("name", Required: true), new VariableDefinition("policy", Required: true)],
            DeclaredVariables = [new VariableDefinition("name", Required: true)],
        };
        var unmarked = Version(prompt, 2, new SemanticVersion(1, 0, 1));

        await store.SaveAsync(Created(prompt, declared), Cancel);
        await store.SaveAsync(new PromptChanges { NewVersion = unmarked }, Cancel);

        var listed = (await store.ListVersionsAsync(prompt.Id, Cancel)).ToList();
        Assert.Null(listed[0].DeclaredVariables);
        Assert.Equal(["name"], listed[1].DeclaredVariables!.Select(v => v.Name));
        Assert.Equal(["name", "policy"], listed[1].Variables.Select(v => v.Name));
        Assert.Equal(["name"], (await store.FindVersionByIdAsync(prompt.Id, declared.Id, Cancel))!.Declared.Select(v => v.Name));
    }

    [Fact]
    public async Task FindAsync_UnknownPromptOrVersion_ReturnsNullOrEmpty()
    {
        var (store, _) = await CreateStoreAsync();
        var prompt = Prompt("known");
        await store.SaveAsync(Created(prompt, Version(prompt, 1)), Cancel);

        Assert.Null(await store.FindPromptAsync("unknown", Cancel));
        Assert.Null(await store.FindVersionAsync(prompt.Id, new SemanticVersion(9, 9, 9), Cancel));
        Assert.Null(await store.FindVersionByIdAsync(prompt.Id, "unknown", Cancel));
        Assert.Null(await store.FindLatestVersionAsync("unknown", Cancel));
        Assert.Empty(await store.ListVersionsAsync("unknown", Cancel));
        Assert.Empty(await store.ListLabelsAsync(prompt.Id, Cancel));
    }

    [Fact]
    public async Task FindVersionByIdAsync_VersionOfAnotherPrompt_ReturnsNull()
    {
        var (store, _) = await CreateStoreAsync();
        var first = Prompt("first");
        var second = Prompt("second");
        var secondVersion = Version(second, 1);
        await store.SaveAsync(Created(first, Version(first, 1)), Cancel);
        await store.SaveAsync(Created(second, secondVersion), Cancel);

        var found = await store.FindVersionByIdAsync(first.Id, secondVersion.Id, Cancel);

        Assert.Null(found);
        Assert.Equal(Json(secondVersion), Json(await store.FindAnyVersionAsync(secondVersion.Id, Cancel)));
        Assert.Null(await store.FindAnyVersionAsync("unknown", Cancel));
    }

    [Fact]
    public async Task ListVersionsAsync_SeveralVersions_NewestFirst()
    {
        var (store, _) = await CreateStoreAsync();
        var prompt = Prompt("history");
        await store.SaveAsync(Created(prompt, Version(prompt, 1)), Cancel);
        await store.SaveAsync(new PromptChanges { NewVersion = Version(prompt, 2, new SemanticVersion(2, 0, 0)) }, Cancel);
        await store.SaveAsync(new PromptChanges { NewVersion = Version(prompt, 3, new SemanticVersion(2, 0, 1)) }, Cancel);

        var versions = await store.ListVersionsAsync(prompt.Id, Cancel);
        var latest = await store.FindLatestVersionAsync(prompt.Id, Cancel);

        Assert.Equal(["2.0.1", "2.0.0", "1.0.0"], versions.Select(v => v.Version.ToString()));
        Assert.Equal(3, latest!.Sequence);
    }

    [Fact]
    public async Task SaveAsync_TouchedPrompt_UpdatesOnlyUpdatedAtAndBy()
    {
        var (store, _) = await CreateStoreAsync();
        var prompt = Prompt("touched");
        await store.SaveAsync(Created(prompt, Version(prompt, 1)), Cancel);
        var touched = prompt with { UpdatedAt = Now.AddHours(1), UpdatedBy = "dave", Description = "not stored by a touch" };

        await store.SaveAsync(new PromptChanges { TouchedPrompt = touched }, Cancel);

        var found = await store.FindPromptAsync(prompt.Name, Cancel);
        Assert.Equal(Json(prompt with { UpdatedAt = touched.UpdatedAt, UpdatedBy = "dave" }), Json(found));
    }

    [Fact]
    public async Task SaveAsync_StatusChange_MovesStatus()
    {
        var (store, _) = await CreateStoreAsync();
        var prompt = Prompt("reviewed");
        var version = Version(prompt, 1);
        await store.SaveAsync(Created(prompt, version), Cancel);

        await store.SaveAsync(new PromptChanges { StatusChanges = [new StatusChange(version.Id, VersionStatus.Draft, VersionStatus.Review)] }, Cancel);

        var found = await store.FindVersionByIdAsync(prompt.Id, version.Id, Cancel);
        Assert.Equal(VersionStatus.Review, found!.Status);
    }

    [Fact]
    public async Task SaveAsync_LabelChanges_InsertMoveAndRemove()
    {
        var (store, _) = await CreateStoreAsync();
        var prompt = Prompt("labelled");
        var v1 = Version(prompt, 1);
        var v2 = Version(prompt, 2);
        await store.SaveAsync(Created(prompt, v1), Cancel);
        await store.SaveAsync(new PromptChanges { NewVersion = v2 }, Cancel);

        await store.SaveAsync(new PromptChanges { LabelChanges = [Label(prompt, "staging", null, v1.Id), Label(prompt, "production", null, v1.Id)] }, Cancel);
        var inserted = await store.ListLabelsAsync(prompt.Id, Cancel);
        await store.SaveAsync(new PromptChanges { LabelChanges = [Label(prompt, "staging", v1.Id, v2.Id)] }, Cancel);
        var moved = await store.ListLabelsAsync(prompt.Id, Cancel);
        await store.SaveAsync(new PromptChanges { LabelChanges = [Label(prompt, "production", v1.Id, null)] }, Cancel);
        var removed = await store.ListLabelsAsync(prompt.Id, Cancel);

        Assert.Equal(
            [new Label(prompt.Id, "production", v1.Id, v1.Version, Now, "carol"), new Label(prompt.Id, "staging", v1.Id, v1.Version, Now, "carol")],
            inserted);
        Assert.Equal(new Label(prompt.Id, "staging", v2.Id, v2.Version, Now, "carol"), moved[1]);
        Assert.Equal([new Label(prompt.Id, "staging", v2.Id, v2.Version, Now, "carol")], removed);
    }

    [Fact]
    public async Task FindLabelledVersionAsync_FollowsTheLabelAndIgnoresOtherPrompts()
    {
        var (store, _) = await CreateStoreAsync();
        var prompt = Prompt("pointed");
        var other = Prompt("other");
        var v1 = Version(prompt, 1);
        var v2 = Version(prompt, 2);
        var otherV1 = Version(other, 1);
        await store.SaveAsync(Created(prompt, v1), Cancel);
        await store.SaveAsync(new PromptChanges { NewVersion = v2 }, Cancel);
        await store.SaveAsync(Created(other, otherV1), Cancel);
        await store.SaveAsync(new PromptChanges { LabelChanges = [Label(prompt, "staging", null, v2.Id), Label(other, "production", null, otherV1.Id)] }, Cancel);

        var staging = await store.FindLabelledVersionAsync(prompt.Id, "staging", Cancel);
        var production = await store.FindLabelledVersionAsync(prompt.Id, "production", Cancel);

        Assert.Equal(v2.Id, staging?.Id);
        Assert.Null(production);
    }

    [Fact]
    public async Task ListAuditAsync_AfterSaves_NewestFirstWithStateFilterAndLimit()
    {
        var (store, _) = await CreateStoreAsync();
        var first = Prompt("first");
        var second = Prompt("second");
        await store.SaveAsync(Created(first, Version(first, 1)), Cancel);
        await store.SaveAsync(Created(second, Version(second, 1)), Cancel);

        var all = await store.ListAuditAsync(new AuditQuery(), Cancel);
        var ofFirst = await store.ListAuditAsync(new AuditQuery("first"), Cancel);
        var newest = await store.ListAuditAsync(new AuditQuery(Page: new PageRequest(1)), Cancel);
        var secondPage = await store.ListAuditAsync(new AuditQuery(Page: new PageRequest(2, 2)), Cancel);
        var created = await store.ListAuditAsync(new AuditQuery(Action: AuditActions.PromptCreated, Actor: all[0].Actor), Cancel);

        Assert.Equal(["second", "second", "first", "first"], all.Select(e => e.PromptName));
        Assert.Equal(all.Select(e => e.Id).OrderDescending(), all.Select(e => e.Id));
        Assert.All(all, e => Assert.True(e.Id > 0));
        var expected = Audit(AuditActions.VersionCreated, "second", "1.0.0");
        Assert.Equal(Json(expected with { Id = all[0].Id }), Json(all[0]));
        Assert.Equal([AuditActions.VersionCreated, AuditActions.PromptCreated], ofFirst.Select(e => e.Action));
        Assert.Equal([all[0].Id], newest.Select(e => e.Id));
        Assert.Equal(4, newest.Total);
        Assert.Equal(all.Skip(2).Select(e => e.Id), secondPage.Select(e => e.Id));
        Assert.Equal(["second", "first"], created.Select(e => e.PromptName));
        Assert.Equal(2, created.Total);
    }

    /// <summary>An entry found by what it acted on (an experiment's name), among more entries of the prompt and action than a page holds.</summary>
    [Fact]
    public async Task ListAuditAsync_BySubject_OnlyThatSubjectsEntries()
    {
        var (store, _) = await CreateStoreAsync();
        var prompt = Prompt("subjects");
        await store.SaveAsync(Created(prompt, Version(prompt, 1)), Cancel);
        await store.SaveAsync(new PromptChanges { Audit = [.. Enumerable.Range(0, 5).Select(i => Audit(AuditActions.ExperimentCancelled, prompt.Name, $"experiment-{i}"))] }, Cancel);

        var second = await store.ListAuditAsync(new AuditQuery(prompt.Name, Action: AuditActions.ExperimentCancelled, Page: new PageRequest(2), Subject: "experiment-1"), Cancel);
        var none = await store.ListAuditAsync(new AuditQuery(prompt.Name, Subject: "experiment-9"), Cancel);

        var entry = Assert.Single(second);
        Assert.Equal(("experiment-1", 1), (entry.Subject, second.Total));
        Assert.Equal(0, none.Total);
    }

    [Fact]
    public async Task ListPromptsAsync_Page_ReturnsTheSliceByNameAndTheTotal()
    {
        var (store, _) = await CreateStoreAsync();
        foreach (var name in new[] { "c", "a", "b" })
        {
            var prompt = Prompt(name);
            await store.SaveAsync(Created(prompt, Version(prompt, 1)), Cancel);
        }

        var page = await store.ListPromptsAsync(new PromptFilter(Page: new PageRequest(1, 1)), Cancel);
        var beyond = await store.ListPromptsAsync(new PromptFilter(Page: new PageRequest(10, 5)), Cancel);

        Assert.Equal(["b"], page.Select(l => l.Prompt.Name));
        Assert.Equal(3, page.Total);
        Assert.Empty(beyond);
        Assert.Equal(3, beyond.Total);
    }

    [Fact]
    public async Task FindVersionsAsync_MorePinsThanOneRead_AnswerExactlyThoseStored()
    {
        var (store, _) = await CreateStoreAsync();
        var stored = new List<PromptVersion>();
        foreach (var name in Enumerable.Range(0, 140).Select(i => $"pinned/{i:D3}"))
        {
            var prompt = Prompt(name);
            var version = Version(prompt, 1);
            await store.SaveAsync(Created(prompt, version), Cancel);
            stored.Add(version);
        }
        (string, SemanticVersion)[] pins =
        [
            .. stored.Select(v => (v.PromptId, v.Version)),
            .. stored.Take(20).Select(v => (v.PromptId, new SemanticVersion(1, 0, 1))),
            ("no-such-prompt", new SemanticVersion(1, 0, 0)),
            (stored[0].PromptId, stored[0].Version),
        ];

        var found = await store.FindVersionsAsync(pins, Cancel);
        var none = await store.FindVersionsAsync([], Cancel);

        Assert.Equal(stored.Select(v => v.Id).Order(StringComparer.Ordinal), found.Select(v => v.Id).Order(StringComparer.Ordinal));
        Assert.Empty(none);
    }

    [Fact]
    public async Task FindPromptNamesAndPromptsAsync_MoreNamesThanOneRead_AnswerExactlyThoseStored()
    {
        var (store, _) = await CreateStoreAsync();
        var stored = new List<Prompt>();
        foreach (var name in Enumerable.Range(0, 520).Select(i => $"stored/{i:D3}"))
        {
            var prompt = Prompt(name);
            await store.SaveAsync(Created(prompt, Version(prompt, 1)), Cancel);
            stored.Add(prompt);
        }
        var asked = stored.Where((_, i) => i % 2 == 0).ToList();
        string[] names = [.. Enumerable.Range(0, 600).Select(i => $"missing/{i:D3}"), .. asked.Select(p => p.Name), "Stored/000", asked[^1].Name];

        var found = await store.FindPromptNamesAsync(names, Cancel);
        var prompts = await store.FindPromptsAsync(names, Cancel);
        var none = await store.FindPromptNamesAsync([], Cancel);
        var noPrompts = await store.FindPromptsAsync([], Cancel);

        Assert.Equal(asked.Select(p => p.Name), found.Order(StringComparer.Ordinal));
        Assert.Equal(asked.Select(p => (p.Id, p.Name)), prompts.Select(p => (p.Id, p.Name)).OrderBy(p => p.Name, StringComparer.Ordinal));
        Assert.Empty(none);
        Assert.Empty(noPrompts);
    }

    [Fact]
    public async Task ListPromptsAsync_MayInclude_AmongHundredsKeepsThePromptsWhoseLatestOrALabelledVersionIncludes()
    {
        var (store, _) = await CreateStoreAsync();
        for (var i = 0; i < 300; i++)
        {
            var filler = Prompt($"filler/{i:D3}");
            // Some fillers include another prompt; "guard" appears in the text of others without an include tag.
            var content = i % 3 == 0 ? "Use {{> other}} here." : i % 3 == 1 ? "The guard says {{customer}}." : "Plain {{customer}}.";
            await store.SaveAsync(Created(filler, Version(filler, 1) with { Content = content }), Cancel);
        }
        await SaveAsync("text", latest: "Hi {{> guard@strict}}");
        await SaveAsync("chat", latest: null, messages: [new(MessageRole.System, "Be {{>guard}}.")]);
        await SaveAsync("labelled-older", latest: "Plain.", labelled: "Hi {{> guard@1.0.0}}");
        await SaveAsync("older-only", latest: "Plain.", older: "Hi {{> guard}}");

        var guard = await store.ListPromptsAsync(new PromptFilter(MayInclude: "guard"), Cancel);
        var any = await store.ListPromptsAsync(new PromptFilter(MayInclude: ""), Cancel);

        Assert.Equal(["chat", "labelled-older", "text"], guard.Select(l => l.Prompt.Name));
        Assert.Equal(3, guard.Total);
        Assert.Equal("production", Assert.Single(guard[1].Labels).Name);
        Assert.Equal(103, any.Total);
        Assert.DoesNotContain("older-only", any.Select(l => l.Prompt.Name));

        async Task SaveAsync(string name, string? latest, PromptMessage[]? messages = null, string? labelled = null, string? older = null)
        {
            var prompt = Prompt(name, messages is null ? PromptType.Template : PromptType.Chat);
            var first = Version(prompt, 1) with { Content = labelled ?? older ?? latest ?? "", Messages = (labelled ?? older) is null ? messages : null };
            await store.SaveAsync(Created(prompt, first), Cancel);
            if (labelled is not null)
                await store.SaveAsync(new PromptChanges { LabelChanges = [Label(prompt, "production", null, first.Id)] }, Cancel);
            if ((labelled ?? older) is not null)
                await store.SaveAsync(new PromptChanges { NewVersion = Version(prompt, 2) with { Content = latest! } }, Cancel);
        }
    }

    [Fact]
    public async Task ListPromptsAsync_NoFilter_ByNameWithLatestVersionAndLabels()
    {
        var (store, _) = await CreateStoreAsync();
        var (alpha, alphaV1, alphaV2) = await SeedListingAsync(store);

        var listings = await store.ListPromptsAsync(new PromptFilter(), Cancel);

        Assert.Equal(["alpha", "beta", "gamma"], listings.Select(l => l.Prompt.Name));
        Assert.Equal(Json(alpha), Json(listings[0].Prompt));
        Assert.Equal(Json(alphaV2), Json(listings[0].Latest));
        Assert.Equal(
            [new Label(alpha.Id, "production", alphaV1.Id, alphaV1.Version, Now, "carol"), new Label(alpha.Id, "staging", alphaV2.Id, alphaV2.Version, Now, "carol")],
            listings[0].Labels);
        Assert.Empty(listings[1].Labels);
        Assert.Equal(1, listings[1].Latest.Sequence);
    }

    [Fact]
    public async Task ListLabelledPromptsAsync_ByNameWithTheVersionTheLabelPointsAt_NotTheLatest()
    {
        var (store, _) = await CreateStoreAsync();
        var (alpha, alphaV1, alphaV2) = await SeedListingAsync(store);
        var gamma = await store.FindPromptAsync("gamma", Cancel);
        var gammaV1 = await store.FindLatestVersionAsync(gamma!.Id, Cancel);
        await store.SaveAsync(new PromptChanges { LabelChanges = [Label(gamma, "production", null, gammaV1!.Id)] }, Cancel);

        var production = await store.ListLabelledPromptsAsync("production", Cancel);
        var staging = await store.ListLabelledPromptsAsync("staging", Cancel);
        var canary = await store.ListLabelledPromptsAsync("canary", Cancel);

        Assert.Equal(["alpha", "gamma"], production.Select(p => p.Prompt.Name));
        Assert.Equal(Json(alpha), Json(production[0].Prompt));
        Assert.Equal(Json(alphaV1), Json(production[0].Version));
        Assert.Equal(Json(gammaV1), Json(production[1].Version));
        Assert.Equal(Json(alphaV2), Json(Assert.Single(staging).Version));
        Assert.Empty(canary);
    }

    [Theory]
    [InlineData(null, null, null, "alpha,beta,gamma")]
    [InlineData("few-shot", null, null, "gamma")]
    [InlineData(null, "support", null, "alpha")]
    [InlineData(null, null, "email", "alpha,gamma")]
    [InlineData(null, null, "mail", "")]
    [InlineData("system", null, "email", "alpha")]
    [InlineData("user", "support", null, "")]
    public async Task ListPromptsAsync_Filter_ReturnsMatchingPrompts(string? type, string? category, string? tag, string expected)
    {
        var (store, _) = await CreateStoreAsync();
        await SeedListingAsync(store);
        PromptType? promptType = Names.TryParse(type, out PromptType parsed) ? parsed : null;

        var listings = await store.ListPromptsAsync(new PromptFilter(promptType, category, tag), Cancel);

        Assert.Equal(expected, string.Join(",", listings.Select(l => l.Prompt.Name)));
    }

    /// <summary>The dashboard's prompts page searched names in memory, after reading every prompt; the store now matches them, so the page reads one page.</summary>
    [Theory]
    [InlineData("ha", "alpha")]
    [InlineData("AL", "alpha")]
    [InlineData("_", "my_prompt")]
    [InlineData("%", "")]
    [InlineData("\\", "")]
    [InlineData("y_p", "my_prompt")]
    public async Task ListPromptsAsync_NameContains_MatchesThatTextIgnoringCase_WildcardsAsThemselves(string part, string expected)
    {
        var (store, _) = await CreateStoreAsync();
        foreach (var name in new[] { "alpha", "my_prompt", "myxprompt" })
        {
            var prompt = Prompt(name);
            await store.SaveAsync(Created(prompt, Version(prompt, 1)), Cancel);
        }

        var listings = await store.ListPromptsAsync(new PromptFilter(NameContains: part, Page: new PageRequest(10)), Cancel);

        Assert.Equal(expected, string.Join(",", listings.Select(l => l.Prompt.Name)));
        Assert.Equal(listings.Count, listings.Total);
    }

    [Fact]
    public async Task SaveAsync_DuplicatePromptName_ThrowsPromptExistsAndWritesNothing()
    {
        var (store, _) = await CreateStoreAsync();
        var original = Prompt("taken");
        await store.SaveAsync(Created(original, Version(original, 1)), Cancel);
        var duplicate = Prompt("taken");
        var duplicateVersion = Version(duplicate, 1);

        var error = await Assert.ThrowsAsync<ConflictException>(() => store.SaveAsync(Created(duplicate, duplicateVersion), Cancel));

        Assert.Equal("prompt_exists", error.Code);
        Assert.Null(await store.FindVersionByIdAsync(duplicate.Id, duplicateVersion.Id, Cancel));
        Assert.Equal(2, (await store.ListAuditAsync(new AuditQuery(), Cancel)).Count);
    }

    [Fact]
    public async Task SaveAsync_DuplicateSequence_ThrowsConcurrentWrite()
    {
        var (store, _) = await CreateStoreAsync();
        var prompt = Prompt("raced");
        await store.SaveAsync(Created(prompt, Version(prompt, 1)), Cancel);
        await store.SaveAsync(new PromptChanges { NewVersion = Version(prompt, 2, new SemanticVersion(1, 0, 1)) }, Cancel);

        await Assert.ThrowsAsync<ConcurrentWriteException>(() =>
            store.SaveAsync(new PromptChanges { NewVersion = Version(prompt, 2, new SemanticVersion(1, 1, 0)) }, Cancel));

        Assert.Equal(2, (await store.ListVersionsAsync(prompt.Id, Cancel)).Count);
    }

    [Fact]
    public async Task SaveAsync_DuplicateVersionNumber_ThrowsConcurrentWrite()
    {
        var (store, _) = await CreateStoreAsync();
        var prompt = Prompt("raced");
        await store.SaveAsync(Created(prompt, Version(prompt, 1)), Cancel);

        await Assert.ThrowsAsync<ConcurrentWriteException>(() =>
            store.SaveAsync(new PromptChanges { NewVersion = Version(prompt, 2, SemanticVersion.Initial) }, Cancel));

        Assert.Single(await store.ListVersionsAsync(prompt.Id, Cancel));
    }

    [Fact]
    public async Task SaveAsync_GatesAndApproval_RoundTrip_ApprovalKeptThroughPromoteAndDroppedBackInReview()
    {
        var (store, _) = await CreateStoreAsync();
        var prompt = Prompt("gated") with { RequireApproval = true };
        var version = Version(prompt, 1) with { Status = VersionStatus.Review };
        var approval = new Approval("reviewer", new DateTimeOffset(2026, 12, 1, 9, 30, 0, TimeSpan.Zero));
        await store.SaveAsync(Created(prompt, version), Cancel);

        await store.SaveAsync(new PromptChanges
        {
            UpdatedPrompt = new PromptUpdate(prompt, prompt with { Description = "changed", Tags = ["x"], Category = null, RequireTests = true }),
            StatusChanges = [StatusChange.Of(version, VersionStatus.Approved, approval)],
        }, Cancel);
        var approved = (await store.FindVersionByIdAsync(prompt.Id, version.Id, Cancel))!;
        await store.SaveAsync(new PromptChanges { StatusChanges = [StatusChange.Of(approved, VersionStatus.Production)] }, Cancel);
        var promoted = (await store.FindVersionByIdAsync(prompt.Id, version.Id, Cancel))!;
        var updated = (await store.FindPromptAsync(prompt.Name, Cancel))!;

        Assert.Equal(approval, approved.Approval);
        Assert.Equal(VersionStatus.Production, promoted.Status);
        Assert.Equal(approval, promoted.Approval);
        Assert.True(updated.RequireApproval);
        Assert.True(updated.RequireTests);
        Assert.Equal("changed", updated.Description);
        Assert.Equal(["x"], updated.Tags);
        Assert.Null(updated.Category);

        var second = Version(prompt, 2) with { Status = VersionStatus.Approved, Approval = approval };
        await store.SaveAsync(new PromptChanges { NewVersion = second }, Cancel);
        await store.SaveAsync(new PromptChanges { StatusChanges = [StatusChange.Of(second, VersionStatus.Review)] }, Cancel);
        Assert.Null((await store.FindVersionByIdAsync(prompt.Id, second.Id, Cancel))!.Approval);
    }

    [Fact]
    public async Task SaveAsync_PromptUpdateAfterAnotherWrite_ThrowsConcurrentWriteAndKeepsTheOther()
    {
        var (store, _) = await CreateStoreAsync();
        var prompt = Prompt("patched");
        await store.SaveAsync(Created(prompt, Version(prompt, 1)), Cancel);
        var gated = prompt with { RequireApproval = true, UpdatedAt = Now.AddMinutes(1), UpdatedBy = "dave" };
        await store.SaveAsync(new PromptChanges { UpdatedPrompt = new PromptUpdate(prompt, gated) }, Cancel);

        var stale = new PromptUpdate(prompt, prompt with { Description = "described", UpdatedAt = Now.AddMinutes(2), UpdatedBy = "erin" });
        await Assert.ThrowsAsync<ConcurrentWriteException>(() => store.SaveAsync(new PromptChanges { UpdatedPrompt = stale }, Cancel));

        Assert.Equal(Json(gated), Json(await store.FindPromptAsync(prompt.Name, Cancel)));
    }

    [Fact]
    public async Task SaveAsync_PromoteReadBeforeAGateWasTurnedOn_ThrowsConcurrentWriteAndWritesNothing()
    {
        var (store, _) = await CreateStoreAsync();
        var (prompt, v1, _) = await SeedPromptAsync(store, "gate-raced");
        // An admin turns requireApproval on between the promote's read of the prompt (no gate) and its write.
        var gated = prompt with { RequireApproval = true, UpdatedAt = Now.AddMinutes(1), UpdatedBy = "admin" };
        await store.SaveAsync(new PromptChanges { UpdatedPrompt = new PromptUpdate(prompt, gated) }, Cancel);

        await Assert.ThrowsAsync<ConcurrentWriteException>(() => store.SaveAsync(new PromptChanges
        {
            TouchedPrompt = prompt with { UpdatedAt = Now.AddMinutes(2), UpdatedBy = "ci" },
            StatusChanges = [StatusChange.Of(v1, VersionStatus.Production)],
            LabelChanges = [Label(prompt, "production", null, v1.Id)],
        }, Cancel));

        Assert.Empty(await store.ListLabelsAsync(prompt.Id, Cancel));
        Assert.Equal(v1.Status, (await store.FindVersionByIdAsync(prompt.Id, v1.Id, Cancel))!.Status);
        Assert.Equal(Json(gated), Json(await store.FindPromptAsync(prompt.Name, Cancel)));
    }

    [Fact]
    public async Task SaveAsync_IncludeGeneration_AdvancesIt_AndAStaleOneThrowsConcurrentWriteAndWritesNothing()
    {
        var (store, _) = await CreateStoreAsync();
        var (prompt, v1, v2) = await SeedPromptAsync(store, "including");
        var read = await store.ReadIncludeGenerationAsync(Cancel);

        await store.SaveAsync(new PromptChanges { LabelChanges = [Label(prompt, "production", null, v1.Id)], IncludeGeneration = read }, Cancel);
        await Assert.ThrowsAsync<ConcurrentWriteException>(() => store.SaveAsync(
            new PromptChanges { LabelChanges = [Label(prompt, "staging", null, v2.Id)], IncludeGeneration = read }, Cancel));

        Assert.Equal(read + 1, await store.ReadIncludeGenerationAsync(Cancel));
        Assert.Equal(["production"], (await store.ListLabelsAsync(prompt.Id, Cancel)).Select(l => l.Name));
    }

    [Fact]
    public async Task ListArchivedVersionsAsync_EveryPromptsArchivedVersions_ByNumber_AndNoOther()
    {
        var (store, _) = await CreateStoreAsync();
        var (prompt, v1, v2) = await SeedPromptAsync(store, "archiving");
        var other = Prompt("other");
        var otherFirst = Version(other, 1, status: VersionStatus.Archived);
        await store.SaveAsync(Created(other, otherFirst), Cancel);
        Assert.Equal([new ArchivedVersion(other.Id, otherFirst.Id, otherFirst.Version)], await store.ListArchivedVersionsAsync(Cancel));

        await store.SaveAsync(new PromptChanges { StatusChanges = [StatusChange.Of(v2, VersionStatus.Archived)] }, Cancel);

        var archived = await store.ListArchivedVersionsAsync(Cancel);
        Assert.Equal(
            new[] { new ArchivedVersion(prompt.Id, v2.Id, v2.Version), new ArchivedVersion(other.Id, otherFirst.Id, otherFirst.Version) }.OrderBy(a => a.PromptId, StringComparer.Ordinal),
            archived);
        Assert.DoesNotContain(archived, a => a.Id == v1.Id);
    }

    [Theory]
    [InlineData("archive")]
    [InlineData("remove a label")]
    public async Task SaveAsync_ArchiveOrLabelRemovalWithAStaleIncludeGeneration_ThrowsConcurrentWriteAndWritesNothing(string write)
    {
        var (store, _) = await CreateStoreAsync();
        var (prompt, v1, v2) = await SeedPromptAsync(store, "included");
        await store.SaveAsync(new PromptChanges { LabelChanges = [Label(prompt, "strict", null, v1.Id)] }, Cancel);
        var read = await store.ReadIncludeGenerationAsync(Cancel);
        // Another write that makes a version with includes serve lands first.
        await store.SaveAsync(new PromptChanges { LabelChanges = [Label(prompt, "staging", null, v1.Id)], IncludeGeneration = read }, Cancel);

        await Assert.ThrowsAsync<ConcurrentWriteException>(() => store.SaveAsync(write == "archive"
            ? new PromptChanges { StatusChanges = [StatusChange.Of(v2, VersionStatus.Archived)], IncludeGeneration = read }
            : new PromptChanges { LabelChanges = [Label(prompt, "strict", v1.Id, null)], IncludeGeneration = read }, Cancel));

        Assert.Equal(v2.Status, (await store.FindVersionByIdAsync(prompt.Id, v2.Id, Cancel))!.Status);
        Assert.Equal(["staging", "strict"], (await store.ListLabelsAsync(prompt.Id, Cancel)).Select(l => l.Name));
    }

    [Fact]
    public async Task SaveAsync_StaleStatusExpectation_ThrowsConcurrentWrite()
    {
        var (store, _) = await CreateStoreAsync();
        var prompt = Prompt("stale");
        var version = Version(prompt, 1);
        await store.SaveAsync(Created(prompt, version), Cancel);

        await Assert.ThrowsAsync<ConcurrentWriteException>(() => store.SaveAsync(
            new PromptChanges { StatusChanges = [new StatusChange(version.Id, VersionStatus.Review, VersionStatus.Approved)] }, Cancel));

        Assert.Equal(VersionStatus.Draft, (await store.FindVersionByIdAsync(prompt.Id, version.Id, Cancel))!.Status);
    }

    [Theory]
    [InlineData("insert where one exists")]
    [InlineData("move from another version")]
    [InlineData("remove from another version")]
    [InlineData("expect none where one exists")]
    [InlineData("move a label that is not set")]
    [InlineData("remove a label that is not set")]
    public async Task SaveAsync_StaleLabelExpectation_ThrowsConcurrentWrite(string scenario)
    {
        var (store, _) = await CreateStoreAsync();
        var prompt = Prompt("stale");
        var v1 = Version(prompt, 1);
        var v2 = Version(prompt, 2);
        await store.SaveAsync(Created(prompt, v1), Cancel);
        await store.SaveAsync(new PromptChanges { NewVersion = v2, LabelChanges = [Label(prompt, "production", null, v1.Id)] }, Cancel);
        var change = scenario switch
        {
            "insert where one exists" => Label(prompt, "production", null, v2.Id),
            "move from another version" => Label(prompt, "production", v2.Id, v1.Id),
            "remove from another version" => Label(prompt, "production", v2.Id, null),
            "move a label that is not set" => Label(prompt, "staging", v1.Id, v2.Id),
            "remove a label that is not set" => Label(prompt, "staging", v1.Id, null),
            _ => Label(prompt, "production", null, null),
        };

        await Assert.ThrowsAsync<ConcurrentWriteException>(() => store.SaveAsync(new PromptChanges { LabelChanges = [change] }, Cancel));

        var label = Assert.Single(await store.ListLabelsAsync(prompt.Id, Cancel));
        Assert.Equal(v1.Id, label.VersionId);
    }

    [Theory]
    [InlineData("archive a labelled version")]
    [InlineData("insert a label on an archived version")]
    [InlineData("move a label to an archived version")]
    public async Task SaveAsync_LabelAndArchivedVersionTogether_ThrowsConcurrentWrite(string scenario)
    {
        var (store, _) = await CreateStoreAsync();
        var (prompt, v1, v2) = await SeedPromptAsync(store, "never-both");
        await store.SaveAsync(new PromptChanges { LabelChanges = [Label(prompt, "production", null, v1.Id)] }, Cancel);
        if (scenario != "archive a labelled version")
            await store.SaveAsync(new PromptChanges { StatusChanges = [StatusChange.Of(v2, VersionStatus.Archived)] }, Cancel);
        var change = scenario switch
        {
            "archive a labelled version" => new PromptChanges { StatusChanges = [StatusChange.Of(v1, VersionStatus.Archived)] },
            "insert a label on an archived version" => new PromptChanges { LabelChanges = [Label(prompt, "staging", null, v2.Id)] },
            _ => new PromptChanges { LabelChanges = [Label(prompt, "production", v1.Id, v2.Id)] },
        };

        await Assert.ThrowsAsync<ConcurrentWriteException>(() => store.SaveAsync(change, Cancel));

        Assert.Equal(v1.Id, Assert.Single(await store.ListLabelsAsync(prompt.Id, Cancel)).VersionId);
        Assert.Equal(VersionStatus.Draft, (await store.FindVersionByIdAsync(prompt.Id, v1.Id, Cancel))!.Status);
    }

    [Fact]
    public async Task SaveAsync_LabelConflictInChangeSet_WritesNothing()
    {
        var (store, _) = await CreateStoreAsync();
        var prompt = Prompt("atomic");
        var v1 = Version(prompt, 1);
        await store.SaveAsync(Created(prompt, v1), Cancel);
        await store.SaveAsync(new PromptChanges { LabelChanges = [Label(prompt, "production", null, v1.Id)] }, Cancel);
        var v2 = Version(prompt, 2) with { Status = VersionStatus.Production };

        await Assert.ThrowsAsync<ConcurrentWriteException>(() => store.SaveAsync(new PromptChanges
        {
            NewVersion = v2,
            TouchedPrompt = prompt with { UpdatedAt = Now.AddDays(1), UpdatedBy = "mallory" },
            StatusChanges = [new StatusChange(v1.Id, VersionStatus.Draft, VersionStatus.Deprecated)],
            LabelChanges = [Label(prompt, "production", "a-version-that-lost-the-label", v2.Id)],
            Audit = [Audit(AuditActions.Promoted, prompt.Name, "1.0.1")],
        }, Cancel));

        Assert.Equal([v1.Id], (await store.ListVersionsAsync(prompt.Id, Cancel)).Select(v => v.Id));
        Assert.Equal(VersionStatus.Draft, (await store.FindVersionByIdAsync(prompt.Id, v1.Id, Cancel))!.Status);
        Assert.Equal(v1.Id, Assert.Single(await store.ListLabelsAsync(prompt.Id, Cancel)).VersionId);
        Assert.Equal("alice", (await store.FindPromptAsync(prompt.Name, Cancel))!.UpdatedBy);
        Assert.Equal(2, (await store.ListAuditAsync(new AuditQuery(prompt.Name), Cancel)).Count);
    }

    [Fact]
    public async Task SaveAsync_FiftyParallelNewVersions_AllSucceed()
    {
        var (store, _) = await CreateStoreAsync();
        var prompt = Prompt("busy");
        await store.SaveAsync(Created(prompt, Version(prompt, 1)), Cancel);

        await Task.WhenAll(Enumerable.Range(2, 50).Select(sequence => Task.Run(() => store.SaveAsync(new PromptChanges
        {
            NewVersion = Version(prompt, sequence),
            TouchedPrompt = prompt with { UpdatedAt = Now.AddMinutes(sequence) },
            Audit = [Audit(AuditActions.VersionCreated, prompt.Name, $"1.0.{sequence - 1}")],
        }, Cancel), Cancel)));

        var versions = await store.ListVersionsAsync(prompt.Id, Cancel);
        Assert.Equal(Enumerable.Range(1, 51).Reverse(), versions.Select(v => v.Sequence));
        Assert.Equal(52, (await store.ListAuditAsync(new AuditQuery(prompt.Name), Cancel)).Count);
    }

    [Fact]
    public async Task SaveAsync_NonUtcTimestamps_ReturnSameInstants()
    {
        var (store, _) = await CreateStoreAsync();
        var local = new DateTimeOffset(2025, 6, 7, 8, 9, 10, TimeSpan.FromHours(5.5)).AddTicks(9_876_543);
        var prompt = Prompt("offset") with { CreatedAt = local, UpdatedAt = local };
        var version = Version(prompt, 1) with { CreatedAt = local };

        await store.SaveAsync(Created(prompt, version), Cancel);

        var found = await store.FindPromptAsync(prompt.Name, Cancel);
        var foundVersion = await store.FindLatestVersionAsync(prompt.Id, Cancel);
        Assert.Equal(local.UtcTicks, found!.CreatedAt.UtcTicks);
        Assert.Equal(local.UtcTicks, found.UpdatedAt.UtcTicks);
        Assert.Equal(local.UtcTicks, foundVersion!.CreatedAt.UtcTicks);
    }

    [Fact]
    public async Task AnyActiveAdminKeyAsync_EmptyStore_ReturnsFalse()
    {
        var (_, keys) = await CreateStoreAsync();

        var any = await keys.AnyActiveAdminKeyAsync(Cancel);

        Assert.False(any);
    }

    [Fact]
    public async Task AnyActiveAdminKeyAsync_OnlyRevokedAdminsOrOtherRoles_ReturnsFalse()
    {
        var (_, keys) = await CreateStoreAsync();
        var writer = new ApiKey(NewId(), "ci", ApiKeyRole.Writer, "pv_abcd", Now, "admin", null);
        var revokedAdmin = new ApiKey(NewId(), "old", ApiKeyRole.Admin, "pv_efgh", Now, "admin", Now.AddDays(1));
        await keys.CreateKeyAsync(writer, "hash-1", Audit(AuditActions.ApiKeyCreated, null, writer.Id), Cancel);
        await keys.CreateKeyAsync(revokedAdmin, "hash-2", Audit(AuditActions.ApiKeyCreated, null, revokedAdmin.Id), Cancel);

        var any = await keys.AnyActiveAdminKeyAsync(Cancel);

        Assert.False(any);
    }

    [Fact]
    public async Task CreateFirstAdminKeyAsync_CreatesOnlyWhileNoAdminKeyIsActive()
    {
        var (store, keys) = await CreateStoreAsync();
        var revokedAdmin = new ApiKey(NewId(), "old", ApiKeyRole.Admin, "pv_efgh", Now, "admin", Now);
        await keys.CreateKeyAsync(revokedAdmin, "hash-0", Audit(AuditActions.ApiKeyCreated, null, revokedAdmin.Id), Cancel);
        var first = new ApiKey(NewId(), "admin", ApiKeyRole.Admin, "pv_abcd", Now, "serve", null);
        var second = new ApiKey(NewId(), "admin", ApiKeyRole.Admin, "pv_ijkl", Now, "serve", null);

        Assert.True(await keys.CreateFirstAdminKeyAsync(first, "hash-1", Audit(AuditActions.ApiKeyCreated, null, first.Id), Cancel));
        Assert.False(await keys.CreateFirstAdminKeyAsync(second, "hash-2", Audit(AuditActions.ApiKeyCreated, null, second.Id), Cancel));

        Assert.Equal(first, await keys.FindActiveByHashAsync("hash-1", Cancel));
        Assert.Null(await keys.FindActiveByHashAsync("hash-2", Cancel));
        Assert.Equal(new[] { revokedAdmin.Id, first.Id }.Order(StringComparer.Ordinal),
            (await keys.ListKeysAsync(Cancel)).Select(k => k.Id).Order(StringComparer.Ordinal));
        Assert.Equal(2, (await store.ListAuditAsync(new AuditQuery(), Cancel)).Count);
    }

    [Fact]
    public async Task RevokeKeyAsync_LastActiveAdmin_ThrowsConflictAndChangesNothing()
    {
        var (store, keys) = await CreateStoreAsync();
        var admin = new ApiKey(NewId(), "root", ApiKeyRole.Admin, "pv_abcd", Now, "admin", null);
        var revokedAdmin = new ApiKey(NewId(), "old", ApiKeyRole.Admin, "pv_efgh", Now, "admin", Now);
        await keys.CreateKeyAsync(admin, "hash-1", Audit(AuditActions.ApiKeyCreated, null, admin.Id), Cancel);
        await keys.CreateKeyAsync(revokedAdmin, "hash-2", Audit(AuditActions.ApiKeyCreated, null, revokedAdmin.Id), Cancel);

        var error = await Assert.ThrowsAsync<ConflictException>(() =>
            keys.RevokeKeyAsync(admin.Id, Now.AddDays(1), Audit(AuditActions.ApiKeyRevoked, null, admin.Id), Cancel));

        Assert.Equal("last_admin_key", error.Code);
        Assert.Equal(admin, await keys.FindActiveByHashAsync("hash-1", Cancel));
        Assert.True(await keys.AnyActiveAdminKeyAsync(Cancel));
        Assert.Equal(2, (await store.ListAuditAsync(new AuditQuery(), Cancel)).Count);
    }

    [Fact]
    public async Task CreateKeyAsync_NewKey_FoundByHashListedAndAudited()
    {
        var (store, keys) = await CreateStoreAsync();
        var key = new ApiKey(NewId(), "ci", ApiKeyRole.Writer, "pv_abcd", Now, "admin", null);

        await keys.CreateKeyAsync(key, "hash-1", Audit(AuditActions.ApiKeyCreated, null, key.Id), Cancel);

        Assert.Equal(key, await keys.FindActiveByHashAsync("hash-1", Cancel));
        Assert.Null(await keys.FindActiveByHashAsync("hash-2", Cancel));
        Assert.Equal([key], await keys.ListKeysAsync(Cancel));
        var entry = Assert.Single(await store.ListAuditAsync(new AuditQuery(), Cancel));
        Assert.Equal((AuditActions.ApiKeyCreated, key.Id), (entry.Action, entry.Subject));
    }

    [Fact]
    public async Task RevokeKeyAsync_ActiveKey_RevokesAndAudits()
    {
        var (store, keys) = await CreateStoreAsync();
        var key = new ApiKey(NewId(), "ci", ApiKeyRole.Writer, "pv_abcd", Now, "admin", null);
        await keys.CreateKeyAsync(key, "hash-1", Audit(AuditActions.ApiKeyCreated, null, key.Id), Cancel);
        var at = Now.AddDays(1);

        var revoked = await keys.RevokeKeyAsync(key.Id, at, Audit(AuditActions.ApiKeyRevoked, null, key.Id), Cancel);

        Assert.True(revoked);
        Assert.Null(await keys.FindActiveByHashAsync("hash-1", Cancel));
        Assert.Equal([key with { RevokedAt = at }], await keys.ListKeysAsync(Cancel));
        Assert.Equal([AuditActions.ApiKeyRevoked, AuditActions.ApiKeyCreated], (await store.ListAuditAsync(new AuditQuery(), Cancel)).Select(e => e.Action));
    }

    [Fact]
    public async Task FindActiveByIdAsync_FindsAnActiveKey_NotARevokedOrUnknownOne()
    {
        var (_, keys) = await CreateStoreAsync();
        var active = new ApiKey(NewId(), "ci", ApiKeyRole.Writer, "pv_abcd", Now, "admin", null);
        var revoked = new ApiKey(NewId(), "old", ApiKeyRole.Reader, "pv_efgh", Now, "admin", null);
        await keys.CreateKeyAsync(active, "hash-1", Audit(AuditActions.ApiKeyCreated, null, active.Id), Cancel);
        await keys.CreateKeyAsync(revoked, "hash-2", Audit(AuditActions.ApiKeyCreated, null, revoked.Id), Cancel);
        await keys.RevokeKeyAsync(revoked.Id, Now.AddDays(1), Audit(AuditActions.ApiKeyRevoked, null, revoked.Id), Cancel);

        Assert.Equal(active, await keys.FindActiveByIdAsync(active.Id, Cancel));
        Assert.Null(await keys.FindActiveByIdAsync(revoked.Id, Cancel));
        Assert.Null(await keys.FindActiveByIdAsync(NewId(), Cancel));
    }

    [Fact]
    public async Task RevokeKeyAsync_UnknownOrRevokedKey_ReturnsFalseWithoutAudit()
    {
        var (store, keys) = await CreateStoreAsync();
        var key = new ApiKey(NewId(), "ci", ApiKeyRole.Reader, "pv_abcd", Now, "admin", null);
        await keys.CreateKeyAsync(key, "hash-1", Audit(AuditActions.ApiKeyCreated, null, key.Id), Cancel);
        await keys.RevokeKeyAsync(key.Id, Now.AddDays(1), Audit(AuditActions.ApiKeyRevoked, null, key.Id), Cancel);

        var unknown = await keys.RevokeKeyAsync("unknown", Now.AddDays(2), Audit(AuditActions.ApiKeyRevoked, null, "unknown"), Cancel);
        var again = await keys.RevokeKeyAsync(key.Id, Now.AddDays(2), Audit(AuditActions.ApiKeyRevoked, null, key.Id), Cancel);

        Assert.False(unknown);
        Assert.False(again);
        Assert.Equal(Now.AddDays(1), Assert.Single(await keys.ListKeysAsync(Cancel)).RevokedAt);
        Assert.Equal(2, (await store.ListAuditAsync(new AuditQuery(), Cancel)).Count);
    }

    /// <summary>alpha (system, support, tags support+email; 1.0.0 production, 1.1.0 staging), beta (user, sales), gamma (few-shot, tag email).</summary>
    private static async Task<(Prompt Alpha, PromptVersion V1, PromptVersion V2)> SeedListingAsync(IPromptStore store)
    {
        var gamma = Prompt("gamma", PromptType.FewShot, null, "email");
        var alpha = Prompt("alpha", PromptType.System, "support", "support", "email");
        var beta = Prompt("beta", PromptType.User, "sales", "sales");
        var alphaV1 = Version(alpha, 1);
        var alphaV2 = Version(alpha, 2, new SemanticVersion(1, 1, 0));
        await store.SaveAsync(Created(gamma, Version(gamma, 1)), Cancel);
        await store.SaveAsync(Created(alpha, alphaV1), Cancel);
        await store.SaveAsync(Created(beta, Version(beta, 1)), Cancel);
        await store.SaveAsync(new PromptChanges
        {
            NewVersion = alphaV2,
            LabelChanges = [Label(alpha, "production", null, alphaV1.Id), Label(alpha, "staging", null, alphaV2.Id)],
        }, Cancel);
        return (alpha, alphaV1, alphaV2);
    }
}
