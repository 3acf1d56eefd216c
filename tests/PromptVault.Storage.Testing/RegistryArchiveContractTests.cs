using PromptVault.Core;
using PromptVault.Core.Audit;
using PromptVault.Core.Auth;
using PromptVault.Core.Prompts;
using PromptVault.Core.Experiments;
using PromptVault.Core.Storage;
using PromptVault.Core.Versioning;
using PromptVault.Core.Webhooks;
using static PromptVault.Storage.Testing.Samples;

namespace PromptVault.Storage.Testing;

/// <summary>
/// What every <see cref="IRegistryArchiveStore"/> must do: move a registry whole, refuse to import over one that holds
/// data, merge by prompt name, and write nothing when a row is refused. Each provider inherits this suite.
/// </summary>
public abstract class RegistryArchiveContractTests
{
    protected static CancellationToken Cancel => TestContext.Current.CancellationToken;

    /// <summary>A new, empty, migrated store, another one at each call; the three interfaces may be the same object.</summary>
    protected abstract Task<(IPromptStore Prompts, IApiKeyStore Keys, IRegistryArchiveStore Archive)> CreateStoreAsync();

    [Fact]
    public async Task ImportAsync_ExportIntoANewStore_ExportsTheSameAndNumbersLaterAuditAfterIt()
    {
        var (source, sourceKeys, sourceArchive) = await CreateStoreAsync();
        await SeedAsync(source, sourceKeys, "alpha", "beta");
        var exported = await ArchiveCollector.ExportAsync(sourceArchive, Cancel);
        var (target, targetKeys, targetArchive) = await CreateStoreAsync();
        await targetKeys.CreateKeyAsync(Key("setup"), "hash-setup", Audit(AuditActions.ApiKeyCreated, null, "setup"), Cancel);

        var report = await targetArchive.ImportAsync(exported, merge: false, checks: null, Imported, Cancel);

        Assert.Equal((1, 1), (report.ReplacedKeys, report.ReplacedAuditEntries));
        Assert.Equal(["alpha", "beta"], report.AddedPrompts);
        Assert.Equal(Rows(exported), Rows(ArchiveCollector.WithoutImportEntries(await ArchiveCollector.ExportAsync(targetArchive, Cancel))));
        var imported = await target.ListAuditAsync(new AuditQuery(), Cancel);
        // The document's history replaces the target's own, and the import's entry comes after it, naming who imported and how much.
        Assert.Equal((AuditActions.RegistryImported, "importer"), (imported[0].Action, imported[0].Actor));
        Assert.Equal("prompts=2,versions=4,labels=2,audit=7,apiKeys=1", imported[0].After!["counts"]);
        var importedIds = imported.Select(e => e.Id).ToList();
        var prompt = (await target.FindPromptAsync("alpha", Cancel))!;
        await target.SaveAsync(new PromptChanges { NewVersion = Version(prompt, 3), Audit = [Audit(AuditActions.VersionCreated, "alpha", "1.0.2")] }, Cancel);
        Assert.True((await target.ListAuditAsync(new AuditQuery(), Cancel))[0].Id > importedIds.Max());
    }

    [Fact]
    public async Task ImportAsync_ChatVersion_KeepsItsMessages()
    {
        var (source, _, sourceArchive) = await CreateStoreAsync();
        var prompt = Prompt("assistant", PromptType.Chat);
        PromptMessage[] messages = [new(MessageRole.System, "Be brief."), new(MessageRole.Placeholder, "history")];
        var chat = Version(prompt, 1) with { Content = "", Messages = messages };
        await source.SaveAsync(Created(prompt, chat), Cancel);
        var (target, _, targetArchive) = await CreateStoreAsync();

        await targetArchive.ImportAsync(await ArchiveCollector.ExportAsync(sourceArchive, Cancel), merge: false, checks: null, Imported, Cancel);

        Assert.Equal(messages, (await target.FindVersionByIdAsync(prompt.Id, chat.Id, Cancel))!.Messages);
    }

    [Fact]
    public async Task ImportAsync_KeepsWhatAVersionDeclared_AndAVersionWithoutItStaysWithout()
    {
        var (source, _, sourceArchive) = await CreateStoreAsync();
        var prompt = Prompt("includer");
        var declared = Version(prompt, 1) with
        {
            Variables = [new VariableDefinition("name"), new VariableDefinition("policy", Required: true)],
            DeclaredVariables = [new VariableDefinition("name")],
        };
        var unmarked = Version(prompt, 2, new SemanticVersion(1, 0, 1));
        await source.SaveAsync(Created(prompt, declared), Cancel);
        await source.SaveAsync(new PromptChanges { NewVersion = unmarked }, Cancel);
        var (target, _, targetArchive) = await CreateStoreAsync();

        await targetArchive.ImportAsync(await ArchiveCollector.ExportAsync(sourceArchive, Cancel), merge: false, checks: null, Imported, Cancel);

        Assert.Equal(["name"], (await target.FindVersionByIdAsync(prompt.Id, declared.Id, Cancel))!.DeclaredVariables!.Select(v => v.Name));
        Assert.Null((await target.FindVersionByIdAsync(prompt.Id, unmarked.Id, Cancel))!.DeclaredVariables);
    }

    [Fact]
    public async Task ImportAsync_FullIntoStoreWithAPrompt_RefusedAsNotEmptyAndWritesNothing()
    {
        var (source, sourceKeys, sourceArchive) = await CreateStoreAsync();
        await SeedAsync(source, sourceKeys, "alpha");
        var exported = await ArchiveCollector.ExportAsync(sourceArchive, Cancel);
        var (target, targetKeys, targetArchive) = await CreateStoreAsync();
        await SeedAsync(target, targetKeys, "kept");
        var before = Rows(await ArchiveCollector.ExportAsync(targetArchive, Cancel));

        var error = await Assert.ThrowsAsync<ConflictException>(() => targetArchive.ImportAsync(exported, merge: false, checks: null, Imported, Cancel));

        Assert.Equal("registry_not_empty", error.Code);
        Assert.Contains("1 prompt(s)", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, Rows(await ArchiveCollector.ExportAsync(targetArchive, Cancel)));
    }

    [Fact]
    public async Task ImportAsync_MergeIntoStoreWithOneOfTheNames_KeepsItsOwnAndAddsTheOthers()
    {
        var (source, sourceKeys, sourceArchive) = await CreateStoreAsync();
        await SeedAsync(source, sourceKeys, "shared", "fresh");
        var exported = await ArchiveCollector.ExportAsync(sourceArchive, Cancel);
        var (target, targetKeys, targetArchive) = await CreateStoreAsync();
        await SeedAsync(target, targetKeys, "shared");
        var ownShared = (await target.FindPromptAsync("shared", Cancel))!;
        var ownAudit = await target.ListAuditAsync(new AuditQuery(), Cancel);

        var report = await targetArchive.ImportAsync(exported, merge: true, checks: null, Imported, Cancel);

        Assert.Equal(["fresh"], report.AddedPrompts);
        Assert.Equal(["shared"], report.SkippedPrompts);
        Assert.Equal(Json(ownShared), Json(await target.FindPromptAsync("shared", Cancel)));
        var fresh = (await target.FindPromptAsync("fresh", Cancel))!;
        Assert.Equal([2, 1], (await target.ListVersionsAsync(fresh.Id, Cancel)).Select(v => v.Sequence));
        Assert.Equal("production", Assert.Single(await target.ListLabelsAsync(fresh.Id, Cancel)).Name);
        var audit = await target.ListAuditAsync(new AuditQuery(), Cancel);
        Assert.Equal(audit.Count, audit.Select(e => e.Id).Distinct().Count());
        Assert.All(audit.Where(e => e.PromptName == "fresh"), e => Assert.True(e.Id > ownAudit.Max(o => o.Id)));
    }

    [Fact]
    public async Task ImportAsync_MergeOfMoreNamesThanOneReadIntoAFullStore_SkipsExactlyTheTakenNames()
    {
        // The merge looks up the document's names in reads of 500 (one parameter each on SQLite): 510 names, 10 of them taken.
        var (source, _, sourceArchive) = await CreateStoreAsync();
        var documentNames = Enumerable.Range(0, 500).Select(i => $"fresh/{i:D3}").Concat(Enumerable.Range(0, 10).Select(i => $"own/{i:D3}")).ToList();
        foreach (var name in documentNames)
        {
            var prompt = Prompt(name);
            await source.SaveAsync(Created(prompt, Version(prompt, 1)), Cancel);
        }
        var exported = await ArchiveCollector.ExportAsync(sourceArchive, Cancel);
        var (target, _, targetArchive) = await CreateStoreAsync();
        foreach (var name in Enumerable.Range(0, 300).Select(i => $"own/{i:D3}"))
        {
            var prompt = Prompt(name);
            await target.SaveAsync(Created(prompt, Version(prompt, 1)), Cancel);
        }

        var report = await targetArchive.ImportAsync(exported, merge: true, checks: null, Imported, Cancel);

        Assert.Equal(documentNames.Take(500), report.AddedPrompts);
        Assert.Equal(documentNames.Skip(500), report.SkippedPrompts);
        Assert.Equal(800, (await target.ListPromptsAsync(new PromptFilter(Page: new PageRequest(1, 0)), Cancel)).Total);
    }

    [Fact]
    public async Task ImportAsync_MergeOfMoreKeysThanOneRead_SkipsExactlyTheKeysWhoseIdOrHashIsTaken()
    {
        // The merge looks up the document's key ids and hashes in reads of 500: 505 keys, one past the first read taken by id, one by hash.
        var (_, sourceKeys, sourceArchive) = await CreateStoreAsync();
        var documentKeys = Enumerable.Range(0, 505).Select(i => Key($"doc-{i:D3}")).ToList();
        foreach (var key in documentKeys)
            await sourceKeys.CreateKeyAsync(key, $"hash-{key.Name}", Audit(AuditActions.ApiKeyCreated, null, key.Name), Cancel);
        var exported = await ArchiveCollector.ExportAsync(sourceArchive, Cancel);
        var (_, targetKeys, targetArchive) = await CreateStoreAsync();
        await targetKeys.CreateKeyAsync(documentKeys[502] with { Name = "own-same-id" }, "hash-own-same-id", Audit(AuditActions.ApiKeyCreated, null, "own"), Cancel);
        await targetKeys.CreateKeyAsync(Key("own-same-hash"), "hash-doc-503", Audit(AuditActions.ApiKeyCreated, null, "own"), Cancel);
        await targetKeys.CreateKeyAsync(Key("own-other"), "hash-own-other", Audit(AuditActions.ApiKeyCreated, null, "own"), Cancel);

        var report = await targetArchive.ImportAsync(exported, merge: true, checks: null, Imported, Cancel);

        Assert.Equal(new[] { documentKeys[502].Id, documentKeys[503].Id }.Order(StringComparer.Ordinal), report.SkippedKeys.Order(StringComparer.Ordinal));
        Assert.Equal(503 + 3, (await ArchiveCollector.ExportAsync(targetArchive, Cancel))[RegistryArchiveSchema.ApiKeys].Count);
    }

    [Fact]
    public async Task ImportAsync_Merge_AuditsWhoAddedWhichPromptsAndKeys_AndQueuesTheAddedLabelsAsMoves()
    {
        var (source, sourceKeys, sourceArchive) = await CreateStoreAsync();
        await SeedAsync(source, sourceKeys, "shared", "fresh");
        var exported = await ArchiveCollector.ExportAsync(sourceArchive, Cancel);
        var (target, targetKeys, targetArchive) = await CreateStoreAsync();
        await SeedAsync(target, targetKeys, "shared");
        var webhooks = await SubscribeToLabelMovesAsync(targetArchive);
        var addedKey = (string)exported[RegistryArchiveSchema.ApiKeys].Single()[RegistryArchiveSchema.ApiKeys.IndexOf("id")]!;

        await targetArchive.ImportAsync(exported, merge: true, checks: null,
            Imported with { After = new Dictionary<string, string?> { ["merge"] = "true" } }, Cancel);

        var entry = Assert.Single(await target.ListAuditAsync(new AuditQuery(Action: AuditActions.RegistryImported), Cancel));
        Assert.Equal("importer", entry.Actor);
        Assert.Equal(new Dictionary<string, string?>
        {
            ["merge"] = "true", ["prompts"] = "fresh", ["apiKeys"] = addedKey,
            // The shared prompt and its entries were skipped; the target's own key creation is not the document's.
            ["counts"] = "prompts=1,versions=2,labels=1,audit=3,apiKeys=1",
        }, entry.After);
        var delivery = Assert.Single(await webhooks.ClaimDeliveriesAsync("test", DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddMinutes(1), 10, 100, Cancel));
        Assert.Equal(WebhookEvents.LabelMoved, delivery.Event);
        Assert.Contains("\"prompt\":\"fresh\",\"label\":\"production\",\"version\":\"1.0.1\"", delivery.Payload, StringComparison.Ordinal);
        Assert.DoesNotContain("previousVersion", delivery.Payload, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ImportAsync_Merge_QueuesALabelMovedForEachLabelOfTheAddedPromptsOnly_ByPromptThenLabel()
    {
        var (source, sourceKeys, sourceArchive) = await CreateStoreAsync();
        await SeedAsync(source, sourceKeys, "zeta", "shared", "alpha");
        var alpha = (await source.FindPromptAsync("alpha", Cancel))!;
        var alphaFirst = (await source.ListVersionsAsync(alpha.Id, Cancel)).Single(v => v.Sequence == 1);
        await source.SaveAsync(new PromptChanges
        {
            LabelChanges = [Label(alpha, "staging", null, alphaFirst.Id)], Audit = [Audit(AuditActions.LabelMoved, "alpha", "staging")],
        }, Cancel);
        var exported = await ArchiveCollector.ExportAsync(sourceArchive, Cancel);
        var (target, targetKeys, targetArchive) = await CreateStoreAsync();
        await SeedAsync(target, targetKeys, "shared");
        var webhooks = await SubscribeToLabelMovesAsync(targetArchive);

        await targetArchive.ImportAsync(exported, merge: true, checks: null, Imported, Cancel);

        var moves = (await webhooks.ClaimDeliveriesAsync("test", DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddMinutes(1), 10, 100, Cancel))
            .Select(d => System.Text.Json.JsonDocument.Parse(d.Payload).RootElement)
            .Select(p => (p.GetProperty("prompt").GetString(), p.GetProperty("label").GetString(), p.GetProperty("version").GetString()));
        Assert.Equal([("alpha", "production", "1.0.1"), ("alpha", "staging", "1.0.0"), ("zeta", "production", "1.0.1")], moves);
    }

    [Fact]
    public async Task ImportAsync_StaleIncludeGeneration_ThrowsConcurrentWriteAndWritesNothing_ACurrentOneIsAdvanced()
    {
        var (source, sourceKeys, sourceArchive) = await CreateStoreAsync();
        await SeedAsync(source, sourceKeys, "fresh");
        var exported = await ArchiveCollector.ExportAsync(sourceArchive, Cancel);
        var (target, _, targetArchive) = await CreateStoreAsync();
        var read = await target.ReadIncludeGenerationAsync(Cancel);
        // A write that makes a version with includes serve lands after the import's checks read the generation.
        await target.SaveAsync(new PromptChanges { IncludeGeneration = read }, Cancel);

        await Assert.ThrowsAsync<ConcurrentWriteException>(() => targetArchive.ImportAsync(exported, merge: true, checks: new ImportChecks(read, Names("fresh")), Imported, Cancel));

        Assert.Null(await target.FindPromptAsync("fresh", Cancel));
        await targetArchive.ImportAsync(exported, merge: true, checks: new ImportChecks(read + 1, Names("fresh")), Imported, Cancel);
        Assert.NotNull(await target.FindPromptAsync("fresh", Cancel));
        Assert.Equal(read + 2, await target.ReadIncludeGenerationAsync(Cancel));
    }

    [Fact]
    public async Task ImportAsync_MergeAddingFewerPromptsThanItsChecksAssumed_ThrowsConcurrentWriteAndWritesNothing()
    {
        var (source, sourceKeys, sourceArchive) = await CreateStoreAsync();
        await SeedAsync(source, sourceKeys, "shared", "fresh");
        var exported = await ArchiveCollector.ExportAsync(sourceArchive, Cancel);
        var (target, targetKeys, targetArchive) = await CreateStoreAsync();
        var read = await target.ReadIncludeGenerationAsync(Cancel);
        // The checks read no 'shared' and took the merge to add it; it is created before the import, which would now skip it.
        await SeedAsync(target, targetKeys, "shared");
        var before = Rows(await ArchiveCollector.ExportAsync(targetArchive, Cancel));

        await Assert.ThrowsAsync<ConcurrentWriteException>(() =>
            targetArchive.ImportAsync(exported, merge: true, checks: new ImportChecks(read, Names("shared", "fresh")), Imported, Cancel));

        Assert.Equal(before, Rows(await ArchiveCollector.ExportAsync(targetArchive, Cancel)));
        Assert.Equal(read, await target.ReadIncludeGenerationAsync(Cancel));
        var report = await targetArchive.ImportAsync(exported, merge: true, checks: new ImportChecks(read, Names("fresh")), Imported, Cancel);
        Assert.Equal(["fresh"], report.AddedPrompts);
    }

    [Fact]
    public async Task ImportAsync_MergedRowCollidingWithAStoredId_RefusedAsConflictAndWritesNothing()
    {
        var (source, sourceKeys, sourceArchive) = await CreateStoreAsync();
        await SeedAsync(source, sourceKeys, "alpha");
        var exported = await ArchiveCollector.ExportAsync(sourceArchive, Cancel);
        var (target, _, targetArchive) = await CreateStoreAsync();
        await targetArchive.ImportAsync(exported, merge: false, checks: null, Imported, Cancel);
        var before = Rows(await ArchiveCollector.ExportAsync(targetArchive, Cancel));
        // The same prompt id under another name: merged as a new prompt, it collides with the stored row.
        var renamed = WithColumn(exported, RegistryArchiveSchema.Prompts, "name", "alpha-copy");

        var error = await Assert.ThrowsAsync<ConflictException>(() => targetArchive.ImportAsync(renamed, merge: true, checks: null, Imported, Cancel));

        Assert.Equal(("import_conflict", "$.prompts[0].id"), (error.Code, error.Field));
        Assert.Equal(before, Rows(await ArchiveCollector.ExportAsync(targetArchive, Cancel)));
        Assert.Null(await target.FindPromptAsync("alpha-copy", Cancel));
    }

    [Fact]
    public async Task ImportAsync_LabelOfAVersionNeitherImportedNorStored_RefusedAsInvalidReference()
    {
        var (source, sourceKeys, sourceArchive) = await CreateStoreAsync();
        await SeedAsync(source, sourceKeys, "alpha");
        var exported = WithColumn(await ArchiveCollector.ExportAsync(sourceArchive, Cancel), RegistryArchiveSchema.Labels, "versionId", "no-such-version");
        var (target, _, targetArchive) = await CreateStoreAsync();

        var error = await Assert.ThrowsAsync<InvalidInputException>(() => targetArchive.ImportAsync(exported, merge: false, checks: null, Imported, Cancel));

        Assert.Equal(("import_invalid_reference", "$.labels[0]"), (error.Code, error.Field));
        Assert.Null(await target.FindPromptAsync("alpha", Cancel));
    }

    [Fact]
    public async Task ImportAsync_UnitExposedTwiceInAnExperiment_RefusedAsConflictAndWritesNothing()
    {
        var (source, _, sourceArchive) = await CreateStoreAsync();
        var (prompt, first, second) = await SeedPromptAsync(source, "exposed");
        var experiment = Experiment(prompt, first, second, status: ExperimentStatus.Running);
        var experiments = (IExperimentStore)source;
        await experiments.CreateExperimentAsync(experiment, [], Cancel);
        foreach (var unit in new[] { "ann", "bob" })
            await experiments.RecordExposureAsync(Exposure(experiment, unit), Cancel);
        // Both rows name one unit: the experiment would count it twice.
        var twice = WithColumn(await ArchiveCollector.ExportAsync(sourceArchive, Cancel), RegistryArchiveSchema.Exposures, "unitId", "ann");
        var (target, _, targetArchive) = await CreateStoreAsync();

        var error = await Assert.ThrowsAsync<ConflictException>(() => targetArchive.ImportAsync(twice, merge: false, checks: null, Imported, Cancel));

        Assert.Equal(("import_conflict", "$.exposures[1]"), (error.Code, error.Field));
        Assert.Null(await target.FindPromptAsync("exposed", Cancel));
    }

    [Theory]
    [InlineData("a label of no version", typeof(InvalidInputException), "import_invalid_reference", "$.labels[1]")]
    [InlineData("a label given twice", typeof(ConflictException), "import_conflict", "$.labels[2]")]
    public async Task ImportAsync_MergeWithASkippedPromptFirst_ARefusedLabelIsNamedWhereTheDocumentHasIt(string problem, Type refusal, string code, string field)
    {
        var (source, sourceKeys, sourceArchive) = await CreateStoreAsync();
        await SeedAsync(source, sourceKeys, "shared", "fresh");
        var fresh = (await source.FindPromptAsync("fresh", Cancel))!.Id;
        var labels = RegistryArchiveSchema.Labels;
        // The skipped prompt's label comes first, so the refused row's index in what the merge writes is not its index in the document.
        var document = WithRows(await ArchiveCollector.ExportAsync(sourceArchive, Cancel), labels, rows =>
        {
            var ordered = rows.OrderBy(r => (string)r[labels.IndexOf("promptId")]! == fresh).ToList();
            return problem == "a label given twice" ? ordered.Append(ordered[^1]) : ordered.SkipLast(1).Append(With(ordered[^1], labels, "versionId", "no-such-version"));
        });
        var (target, targetKeys, targetArchive) = await CreateStoreAsync();
        await SeedAsync(target, targetKeys, "shared");
        var before = Rows(await ArchiveCollector.ExportAsync(targetArchive, Cancel));

        var error = await Assert.ThrowsAnyAsync<PromptVaultException>(() => targetArchive.ImportAsync(document, merge: true, checks: null, Imported, Cancel));

        Assert.Equal((refusal, code, field), (error.GetType(), error.Code, error.Field));
        Assert.Equal(before, Rows(await ArchiveCollector.ExportAsync(targetArchive, Cancel)));
    }

    [Fact]
    public async Task ImportAsync_MergeWithASkippedPromptFirst_RepeatedExposureNamesTheRowWhereTheDocumentHasIt()
    {
        var (source, _, sourceArchive) = await CreateStoreAsync();
        var experiments = (IExperimentStore)source;
        var ids = new List<string>();
        foreach (var name in new[] { "shared", "fresh" })
        {
            var (prompt, first, second) = await SeedPromptAsync(source, name);
            var experiment = Experiment(prompt, first, second, status: ExperimentStatus.Running);
            await experiments.CreateExperimentAsync(experiment, [], Cancel);
            foreach (var unit in new[] { "ann", "bob" })
                await experiments.RecordExposureAsync(Exposure(experiment, unit), Cancel);
            ids.Add(experiment.Id);
        }
        var exposures = RegistryArchiveSchema.Exposures;
        int experimentId = exposures.IndexOf("experimentId"), unitId = exposures.IndexOf("unitId");
        // shared's exposures first, then fresh's, both of unit ann.
        var document = WithRows(await ArchiveCollector.ExportAsync(sourceArchive, Cancel), exposures, rows => rows
            .OrderBy(r => ids.IndexOf((string)r[experimentId]!)).ThenBy(r => (string)r[unitId]!, StringComparer.Ordinal)
            .Select(r => (string)r[experimentId]! == ids[1] ? With(r, exposures, "unitId", "ann") : r));
        var (target, _, targetArchive) = await CreateStoreAsync();
        await SeedPromptAsync(target, "shared");
        var before = Rows(await ArchiveCollector.ExportAsync(targetArchive, Cancel));

        var error = await Assert.ThrowsAsync<ConflictException>(() => targetArchive.ImportAsync(document, merge: true, checks: null, Imported, Cancel));

        Assert.Equal(("import_conflict", "$.exposures[3]"), (error.Code, error.Field));
        Assert.Equal(before, Rows(await ArchiveCollector.ExportAsync(targetArchive, Cancel)));
    }

    /// <summary>Each prompt with two versions (the second labelled production), an admin key, and the audit of it all.</summary>
    private static async Task SeedAsync(IPromptStore store, IApiKeyStore keys, params string[] names)
    {
        foreach (var name in names)
        {
            var (prompt, _, second) = await SeedPromptAsync(store, name);
            await store.SaveAsync(new PromptChanges
            {
                LabelChanges = [Label(prompt, "production", null, second.Id)],
                Audit = [Audit(AuditActions.LabelMoved, name, "production")],
            }, Cancel);
        }
        var admin = Key("admin-" + string.Join('-', names));
        await keys.CreateKeyAsync(admin, "hash-" + admin.Id, Audit(AuditActions.ApiKeyCreated, null, admin.Id), Cancel);
    }

    /// <summary>The store's webhooks, with one subscribed to <c>label.moved</c>.</summary>
    private static async Task<IWebhookStore> SubscribeToLabelMovesAsync(IRegistryArchiveStore archive)
    {
        var webhooks = (IWebhookStore)archive;
        var hook = new Webhook("labels", "http://127.0.0.1:1/labels", [WebhookEvents.LabelMoved], "whsec_test", Now, "carol");
        await webhooks.CreateWebhookAsync(hook, new AuditEntry(0, Now, "carol", AuditActions.WebhookCreated, null, hook.Id, null, null), Cancel);
        return webhooks;
    }

    private static HashSet<string> Names(params string[] names) => names.ToHashSet(StringComparer.Ordinal);

    private static ApiKey Key(string name) => new(NewId(), name, ApiKeyRole.Admin, "pv_" + name, Now, "setup", null);

    private static RegistryArchive WithColumn(RegistryArchive archive, ArchiveSection section, string column, string value) =>
        WithRows(archive, section, rows => rows.Select(r => With(r, section, column, value)));

    /// <summary>The archive with a section's rows edited.</summary>
    private static RegistryArchive WithRows(RegistryArchive archive, ArchiveSection section, Func<IReadOnlyList<object?[]>, IEnumerable<object?[]>> edit)
    {
        var rows = RegistryArchiveSchema.Sections.ToDictionary(s => s, s => archive[s]);
        rows[section] = edit(archive[section]).ToList();
        return new RegistryArchive(rows);
    }

    /// <summary>A copy of the row with one column's value replaced.</summary>
    private static object?[] With(object?[] row, ArchiveSection section, string column, string value)
    {
        var copy = (object?[])row.Clone();
        copy[section.IndexOf(column)] = value;
        return copy;
    }

    /// <summary>Every section's rows as JSON, to compare two registries.</summary>
    private static List<string> Rows(RegistryArchive archive) =>
        RegistryArchiveSchema.Sections.Select(s => s.Name + ": " + Json(archive[s])).ToList();
}
