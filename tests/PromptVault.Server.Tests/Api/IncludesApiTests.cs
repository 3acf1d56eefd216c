using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using PromptVault.Core.Storage;
using PromptVault.Storage.Sqlite;
using static PromptVault.Server.Tests.ApiCalls;

namespace PromptVault.Server.Tests.Api;

/// <summary>Prompts that include other prompts (SPEC §7, issue 13) through the HTTP API of a real server.</summary>
public sealed class IncludesApiTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private readonly HttpClient _client = fixture.Server.CreateClient();

    private static readonly object Policy = new { name = "policy", type = "string", required = true, description = "The refund policy" };

    /// <summary>Creates a prompt (unique name from <paramref name="prefix"/>) with one version and returns its name.</summary>
    private Task<string> CreateAsync(string prefix, string content, params object[] variables) => CreateAsync(_client, prefix, content, variables);

    private static async Task<string> CreateAsync(HttpClient client, string prefix, string content, params object[] variables)
    {
        var name = UniqueName(prefix);
        var (status, body) = await PostAsync(client, "/api/prompts", new { name, description = "", type = "system", content, variables });
        Assert.True(status == HttpStatusCode.Created, body?.ToJsonString());
        return name;
    }

    private Task LabelAsync(string name, string label, string version) => LabelAsync(_client, name, label, version);

    private static async Task LabelAsync(HttpClient client, string name, string label, string version)
    {
        var (status, body) = await PutAsync(client, $"/api/prompts/{name}/labels/{label}", new { version });
        Assert.True(status == HttpStatusCode.OK, body?.ToJsonString());
    }

    private async Task<JsonNode> RenderAsync(string name, object variables)
    {
        var (status, body) = await PostAsync(_client, $"/api/prompts/{name}/render", new { variables, version = "latest" });
        Assert.True(status == HttpStatusCode.OK, body?.ToJsonString());
        return body!;
    }

    /// <summary>A guard prompt with a required <c>policy</c> variable, its 1.0.0 in production.</summary>
    private async Task<string> CreateGuardAsync()
    {
        var guard = await CreateAsync("guard", "Follow the policy: {{policy}}.", Policy);
        await LabelAsync(guard, "production", "1.0.0");
        return guard;
    }

    [Fact]
    public async Task CreatePrompt_IncludesMissingPrompt_Returns400NamingIt()
    {
        var missing = UniqueName("nobody");

        var (status, body) = await PostAsync(_client, "/api/prompts",
            new { name = UniqueName("includer"), type = "system", content = $"Hi. {{{{> {missing}}}}}", variables = Array.Empty<object>() });

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("reference_not_found", body.Str("code"));
        Assert.Contains($"no prompt '{missing}'", body.Str("detail"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("staging", "a version labelled 'staging'")]
    [InlineData("4.0.0", "a version 4.0.0")]
    public async Task CreateVersion_IncludesMissingLabelOrVersion_Returns400NamingIt(string selector, string missing)
    {
        var guard = await CreateGuardAsync();
        var includer = await CreateAsync("includer", "Hello.");

        var (status, body) = await PostAsync(_client, $"/api/prompts/{includer}/versions",
            new { content = $"Hello. {{{{> {guard}@{selector}}}}}", changeDescription = "include the guard" });

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("reference_not_found", body.Str("code"));
        Assert.Contains($"{{{{> {guard}@{selector}}}}}", body.Str("detail"), StringComparison.Ordinal);
        Assert.Contains(missing, body.Str("detail"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateVersion_ClosesACycle_Returns409NamingTheChain()
    {
        var guard = await CreateGuardAsync();
        var includer = await CreateAsync("includer", $"Hello. {{{{> {guard}}}}}");
        await LabelAsync(includer, "production", "1.0.0");

        var (status, body) = await PostAsync(_client, $"/api/prompts/{guard}/versions",
            new { content = $"Policy {{{{policy}}}}. {{{{> {includer}@1.0.0}}}}", changeDescription = "include the includer" });

        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal("reference_cycle", body.Str("code"));
        Assert.Contains($"{guard} → {includer} → {guard}", body.Str("detail"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task MoveLabel_WouldCloseACycleThroughLabels_Returns409AndLeavesTheLabel()
    {
        // b 1.0.1 includes a@staging, which holds a plain a 1.0.0 when it is saved; a 1.0.1 includes b (production: a plain 1.0.0).
        var a = await CreateAsync("a", "plain a");
        var b = await CreateAsync("b", "plain b");
        await LabelAsync(a, "staging", "1.0.0");
        await LabelAsync(b, "production", "1.0.0");
        await NewVersionAsync(_client, b, new { content = $"b with {{{{> {a}@staging}}}}", changeDescription = "include a" });
        await NewVersionAsync(_client, a, new { content = $"a with {{{{> {b}}}}}", changeDescription = "include b" });
        await LabelAsync(a, "staging", "1.0.1");

        var (status, body) = await PutAsync(_client, $"/api/prompts/{b}/labels/production", new { version = "1.0.1" });

        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal("reference_cycle", body.Str("code"));
        Assert.Contains($"{b} → {a} → {b}", body.Str("detail"), StringComparison.Ordinal);
        Assert.Equal("plain b", (await RenderProductionAsync(b)).Str("content"));
    }

    [Fact]
    public async Task MoveLabel_AnotherLabelsVersionIncludesThePromptThroughALabelTheMoveDoesNotTouch_IsAllowed()
    {
        // b's preview (1.0.0) includes a@staging (a plain 1.0.0); a 1.0.1 includes b (production: a plain b 1.0.1). Moving a's
        // production to 1.0.1 leaves every render without a cycle: b@preview still reaches only the plain a@staging.
        var a = await CreateAsync("a", "plain a");
        await LabelAsync(a, "staging", "1.0.0");
        await LabelAsync(a, "production", "1.0.0");
        var b = await CreateAsync("b", $"b with {{{{> {a}@staging}}}}");
        await LabelAsync(b, "preview", "1.0.0");
        await NewVersionAsync(_client, b, new { content = "plain b", changeDescription = "plain" });
        await LabelAsync(b, "production", "1.0.1");
        await NewVersionAsync(_client, a, new { content = $"a with {{{{> {b}}}}}", changeDescription = "include b" });

        await LabelAsync(a, "production", "1.0.1");

        Assert.Equal("a with plain b", (await RenderProductionAsync(a)).Str("content"));
        var (status, preview) = await PostAsync(_client, $"/api/prompts/{b}/render", new { variables = new { }, label = "preview" });
        Assert.True(status == HttpStatusCode.OK, preview?.ToJsonString());
        Assert.Equal("b with plain a", preview.Str("content"));
    }

    [Fact]
    public async Task MoveLabel_AVersionThatServesWouldReachThePromptTwiceThroughTheMovedLabel_Returns409NamingIt()
    {
        // b's preview (1.0.0) includes a (production); a 1.0.1 includes b (production: a plain b 1.0.1). Moving a's production
        // to 1.0.1 would make b@preview render b → a → b.
        var a = await CreateAsync("a", "plain a");
        await LabelAsync(a, "production", "1.0.0");
        var b = await CreateAsync("b", $"b with {{{{> {a}}}}}");
        await LabelAsync(b, "preview", "1.0.0");
        await NewVersionAsync(_client, b, new { content = "plain b", changeDescription = "plain" });
        await LabelAsync(b, "production", "1.0.1");
        await NewVersionAsync(_client, a, new { content = $"a with {{{{> {b}}}}}", changeDescription = "include b" });

        var (status, body) = await PutAsync(_client, $"/api/prompts/{a}/labels/production", new { version = "1.0.1" });

        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal("reference_cycle", body.Str("code"));
        Assert.Contains($"'{b}' 1.0.0 (preview)", body.Str("detail"), StringComparison.Ordinal);
        Assert.Contains($"{b} → {a} → {b}", body.Str("detail"), StringComparison.Ordinal);
        Assert.Equal("plain a", (await RenderProductionAsync(a)).Str("content"));
    }

    [Fact]
    public async Task MoveLabel_ThatMakesAnotherServingVersionsChainTooDeep_Returns400NamingIt_AndItStillRenders()
    {
        // c1 → c2 → … → c9 by production labels: eight includes, the most a chain may hold. c9 1.0.1 includes x, so moving
        // c9's production to it would make c1's chain nine deep.
        var x = await CreateAsync("x", "plain x");
        await LabelAsync(x, "production", "1.0.0");
        var chain = new List<string> { await CreateAsync("c9", "end") };
        await LabelAsync(chain[0], "production", "1.0.0");
        for (var i = 8; i >= 1; i--)
        {
            chain.Insert(0, await CreateAsync($"c{i}", $"c{i} {{{{> {chain[0]}}}}}"));
            await LabelAsync(chain[0], "production", "1.0.0");
        }
        await NewVersionAsync(_client, chain[^1], new { content = $"end {{{{> {x}}}}}", changeDescription = "include x" });

        var (status, body) = await PutAsync(_client, $"/api/prompts/{chain[^1]}/labels/production", new { version = "1.0.1" });

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("template_too_deep", body.Str("code"));
        Assert.Contains($"'{chain[0]}' 1.0.0 (production)", body.Str("detail"), StringComparison.Ordinal);
        Assert.EndsWith("end", (await RenderProductionAsync(chain[0])).Str("content"), StringComparison.Ordinal);
        await LabelAsync(chain[^1], "staging", "1.0.1"); // a label nothing includes may move
    }

    /// <summary>A server whose prompt store counts the calls made to it.</summary>
    private static async Task<(RunningServer Server, CountingProxy<IPromptStore> Counter)> StartWithCountedStoreAsync()
    {
        CountingProxy<IPromptStore> counter = null!;
        var server = await RunningServer.StartAsync(new ServerSetup([], builder => builder.Services.AddSingleton(services =>
        {
            var (store, counting) = CountingProxy<IPromptStore>.Wrap(services.GetRequiredService<SqlitePromptStore>());
            counter = counting;
            return store;
        })), TestContext.Current.CancellationToken);
        return (server, counter);
    }

    [Fact]
    public async Task MoveLabel_ResolvesOnlyTheServingVersionsWhoseIncludesLeadToThePrompt()
    {
        // The store is counted: moving p's staging resolves r (it includes p@staging) from the store, and not the includers of
        // an unrelated w, however many there are.
        var (server, counter) = await StartWithCountedStoreAsync();
        await using var _ = server;
        using var client = server.CreateClient();
        var x = await CreateAsync(client, "x", "plain x");
        await LabelAsync(client, x, "production", "1.0.0");
        var p = await CreateAsync(client, "p", "plain p");
        await LabelAsync(client, p, "staging", "1.0.0");
        await NewVersionAsync(client, p, new { content = $"p {{{{> {x}}}}}", changeDescription = "include x" });
        await NewVersionAsync(client, p, new { content = $"p again {{{{> {x}}}}}", changeDescription = "include x again" });
        var r = await CreateAsync(client, "r", $"r {{{{> {p}@staging}}}}");
        await LabelAsync(client, r, "production", "1.0.0");
        var w = await CreateAsync(client, "w", "plain w");
        await LabelAsync(client, w, "production", "1.0.0");

        int ResolvingReads() => counter.Calls.GetValueOrDefault("FindPromptAsync") + counter.Calls.GetValueOrDefault("FindLabelledVersionAsync");
        var before = ResolvingReads();
        await LabelAsync(client, p, "staging", "1.0.1");
        var withoutUnrelated = ResolvingReads() - before;
        for (var i = 0; i < 5; i++)
            await LabelAsync(client, await CreateAsync(client, "u", $"u {{{{> {w}}}}}"), "production", "1.0.0");
        before = ResolvingReads();
        await LabelAsync(client, p, "staging", "1.0.2");

        Assert.Equal(withoutUnrelated, ResolvingReads() - before);
        var (status, rendered) = await PostAsync(client, $"/api/prompts/{r}/render", new { variables = new { }, label = "production" });
        Assert.True(status == HttpStatusCode.OK, rendered?.ToJsonString());
        Assert.Equal("r p again plain x", rendered.Str("content"));
    }

    [Fact]
    public async Task RemoveLabel_ReadsThePromptsAndVersionsServingVersionsPinInOneReadEach_HoweverManyPins()
    {
        // Each pinned include ({{> name@1.0.0}}) of a serving version was read with its own FindPromptAsync at every check of the includers,
        // and its version, when the cache did not hold it, with its own FindVersionAsync.
        var (server, counter) = await StartWithCountedStoreAsync();
        await using var _ = server;
        using var client = server.CreateClient();
        var x = await CreateAsync(client, "x", "plain x");
        await LabelAsync(client, await CreateAsync(client, "one-pin", $"one {{{{> {x}@1.0.0}}}}"), "production", "1.0.0");
        var z = await CreateAsync(client, "z", "plain z");
        await LabelAsync(client, z, "staging", "1.0.0");
        await LabelAsync(client, z, "qa", "1.0.0");
        (int Prompts, int Versions) Reads() => (counter.Calls.GetValueOrDefault("FindPromptAsync") + counter.Calls.GetValueOrDefault("FindPromptsAsync"),
            counter.Calls.GetValueOrDefault("FindVersionAsync") + counter.Calls.GetValueOrDefault("FindVersionsAsync"));
        // A new version of a pinned prompt drops its cached versions, so the removal reads the pinned one from the store.
        async Task NewVersionOfAsync(string name) => await NewVersionAsync(client, name, new { content = "later", changeDescription = "later" });

        // Removing a label reads every serving version's includes, to refuse it if one includes the label.
        await NewVersionOfAsync(x);
        var before = Reads();
        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(client, HttpMethod.Delete, $"/api/prompts/{z}/labels/staging")).Status);
        var withOnePin = (Reads().Prompts - before.Prompts, Reads().Versions - before.Versions);
        var pinned = new List<string>();
        for (var i = 0; i < 5; i++)
            pinned.Add(await CreateAsync(client, "pinned", $"pinned {i}"));
        var many = await CreateAsync(client, "many-pins", string.Join(" ", pinned.Select(p => $"{{{{> {p}@1.0.0}}}}")));
        await LabelAsync(client, many, "production", "1.0.0");
        foreach (var name in pinned)
            await NewVersionOfAsync(name);
        before = Reads();
        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(client, HttpMethod.Delete, $"/api/prompts/{z}/labels/qa")).Status);

        Assert.Equal(withOnePin, (Reads().Prompts - before.Prompts, Reads().Versions - before.Versions));
        var (status, rendered) = await PostAsync(client, $"/api/prompts/{many}/render", new { variables = new { } });
        Assert.True(status == HttpStatusCode.OK, rendered?.ToJsonString());
        Assert.Equal("pinned 0 pinned 1 pinned 2 pinned 3 pinned 4", rendered.Str("content"));
    }

    /// <summary>Prompts a and b, each with a plain 1.0.0 in production, and a draft experiment on a whose variant a 1.0.1 includes b.</summary>
    private async Task<(string A, string B, string ExperimentId)> ExperimentWithAVariantIncludingAnotherPromptAsync()
    {
        var (a, b) = (await CreateAsync("a", "plain a"), await CreateAsync("b", "plain b"));
        await LabelAsync(a, "production", "1.0.0");
        await LabelAsync(b, "production", "1.0.0");
        var (_, control) = await GetAsync(_client, $"/api/prompts/{a}/versions/1.0.0");
        var variant = await NewVersionAsync(_client, a, new { content = $"a with {{{{> {b}}}}}", changeDescription = "include b" });
        var experiment = await Experiments.CreateAsync(_client, new
        {
            name = UniqueName("cycle"), prompt = a,
            variants = new object[] { new { name = "control", versionId = control.Str("id"), weight = 50 }, new { name = "with-b", versionId = variant.Str("id"), weight = 50 } },
        });
        return (a, b, experiment.Str("id"));
    }

    [Fact]
    public async Task Promote_ClosingACycleThroughARunningExperimentsVariant_Returns409AndItsUnitsStillRender()
    {
        // b 1.0.1 includes a, whose production (plain) includes nothing, but whose running variant includes b.
        var (a, b, experimentId) = await ExperimentWithAVariantIncludingAnotherPromptAsync();
        await Experiments.MoveAsync(_client, experimentId, "start");
        await NewVersionAsync(_client, b, new { content = $"b with {{{{> {a}}}}}", changeDescription = "include a" });

        var (status, body) = await PutAsync(_client, $"/api/prompts/{b}/labels/production", new { version = "1.0.1" });
        var renders = new List<HttpStatusCode>();
        for (var unit = 0; unit < 20; unit++)
            renders.Add((await PostAsync(_client, $"/api/prompts/{a}/render", new { variables = new { }, unitId = $"user-{unit}" })).Status);

        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal("reference_cycle", body.Str("code"));
        Assert.Contains($"'{a}' 1.0.1 (variant 'with-b' of experiment", body.Str("detail"), StringComparison.Ordinal);
        Assert.Contains($"{a} → {b} → {a}", body.Str("detail"), StringComparison.Ordinal);
        Assert.All(renders, render => Assert.Equal(HttpStatusCode.OK, render));
        Assert.Equal("plain b", (await RenderProductionAsync(b)).Str("content"));
    }

    [Fact]
    public async Task StartExperiment_AVariantClosingACycle_Returns409AndStaysDraft()
    {
        // b's production, promoted while the experiment was a draft, includes a; the variant includes b.
        var (a, b, experimentId) = await ExperimentWithAVariantIncludingAnotherPromptAsync();
        await NewVersionAsync(_client, b, new { content = $"b with {{{{> {a}}}}}", changeDescription = "include a" });
        await LabelAsync(b, "production", "1.0.1");

        var (status, body) = await PostAsync(_client, $"/api/experiments/{experimentId}/start", null);
        var (_, after) = await GetAsync(_client, $"/api/experiments/{experimentId}");

        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal("reference_cycle", body.Str("code"));
        Assert.Contains($"{a} → {b} → {a}", body.Str("detail"), StringComparison.Ordinal);
        Assert.Equal("draft", after.Str("status"));
    }

    private async Task<JsonNode> RenderProductionAsync(string name, object? variables = null)
    {
        var (status, body) = await PostAsync(_client, $"/api/prompts/{name}/render", new { variables = variables ?? new { } });
        Assert.True(status == HttpStatusCode.OK, body?.ToJsonString());
        return body!;
    }

    [Fact]
    public async Task CreateVersion_IncludingARequiredVariable_JoinsTheContractWithAMajorBump()
    {
        var guard = await CreateGuardAsync();
        var includer = await CreateAsync("includer", "Hello {{name}}.", new { name = "name", type = "string" });

        var version = await NewVersionAsync(_client, includer, new { content = $"Hello {{{{name}}}}.\n{{{{> {guard}}}}}", changeDescription = "include the guard" });

        Assert.Equal("2.0.0", version.Str("version"));
        Assert.Equal(["name", "policy"], version["variables"]!.AsArray().Select(v => v.Str("name")));
        Assert.True(version["variables"]![1]!["required"]!.GetValue<bool>());
    }

    [Fact]
    public async Task CreateVersion_WithoutVariables_InheritsTheDeclaredOnes_AndRejoinsWhatTheIncludesNeedNow()
    {
        // The includer declared `name`; `policy` joined from the guard. The guard then stops needing `policy`: a new version of
        // the includer that sends no variables inherits what was declared, not what was joined, and joins the guard's contract as it is now.
        var guard = await CreateGuardAsync();
        var includer = await CreateAsync("includer", $"Hello {{{{name}}}}.\n{{{{> {guard}}}}}", new { name = "name", type = "string", required = true });
        await NewVersionAsync(_client, guard, new { content = "Be safe.", variables = Array.Empty<object>(), changeDescription = "no policy" });
        await LabelAsync(guard, "production", "2.0.0");

        var version = await NewVersionAsync(_client, includer, new { content = $"Hi {{{{name}}}}.\n{{{{> {guard}}}}}", changeDescription = "say hi" });
        var (status, body) = await PostAsync(_client, $"/api/prompts/{includer}/render", new { variables = new { name = "Ada" }, version = "latest" });

        Assert.Equal(["name"], version["variables"]!.AsArray().Select(v => v.Str("name")));
        Assert.Equal("2.0.0", version.Str("version")); // a variable removed from the contract
        Assert.True(status == HttpStatusCode.OK, body?.ToJsonString());
        Assert.Equal("Hi Ada.\nBe safe.", body.Str("content"));
    }

    [Fact]
    public async Task CreateVersion_OnlyWhatItDeclaresChanged_IsSaved_AndNoLongerCarriesWhatTheIncludeDrops()
    {
        // 1.0.0 declared policy itself (as a version saved before declared variables were kept reads); the guard joins the same
        // policy, so leaving it to the guard keeps the joined contract but changes what is declared: a new version, not 409.
        var guard = await CreateGuardAsync();
        var content = $"Hello {{{{name}}}}.\n{{{{> {guard}}}}}";
        var includer = await CreateAsync("includer", content, new { name = "name", type = "string", required = true }, Policy);

        var (status, body) = await PostAsync(_client, $"/api/prompts/{includer}/versions",
            new { content, variables = new[] { new { name = "name", type = "string", required = true } }, changeDescription = "leave policy to the guard" });

        Assert.True(status == HttpStatusCode.Created, body?.ToJsonString());
        Assert.Equal(["name", "policy"], body!["variables"]!.AsArray().Select(v => v.Str("name")));
        await NewVersionAsync(_client, guard, new { content = "Be safe.", variables = Array.Empty<object>(), changeDescription = "no policy" });
        await LabelAsync(guard, "production", "2.0.0");
        var next = await NewVersionAsync(_client, includer, new { content = $"Hi {{{{name}}}}.\n{{{{> {guard}}}}}", changeDescription = "say hi" });
        Assert.Equal(["name"], next["variables"]!.AsArray().Select(v => v.Str("name")));
    }

    [Fact]
    public async Task Render_Includes_RendersThemAndListsTheVersionsUsed()
    {
        var guard = await CreateGuardAsync();
        var includer = await CreateAsync("includer", $"Hello {{{{name}}}}.\n{{{{> {guard}}}}}", new { name = "name", type = "string" });
        var guardVersion = (await GetAsync(_client, $"/api/prompts/{guard}/versions/1.0.0")).Body.Str("id");

        var rendered = await RenderAsync(includer, new { name = "Ada", policy = "30 days" });

        Assert.Equal("Hello Ada.\nFollow the policy: 30 days.", rendered.Str("content"));
        var reference = Assert.Single(rendered["references"]!.AsArray());
        Assert.Equal((guard, "1.0.0", guardVersion), (reference.Str("name"), reference.Str("version"), reference.Str("versionId")));
    }

    /// <summary>Creates a chat prompt (unique name from <paramref name="prefix"/>) and returns the answer.</summary>
    private async Task<(HttpStatusCode Status, JsonNode? Body, string Name)> CreateChatAsync(string prefix, object[] messages, params object[] variables)
    {
        var name = UniqueName(prefix);
        var (status, body) = await PostAsync(_client, "/api/prompts", new { name, description = "", type = "chat", messages, variables });
        return (status, body, name);
    }

    [Fact]
    public async Task Playground_ChatDraftIncludingAPrompt_RendersWhatTheIncludeHoldsNow()
    {
        // The draft adds an include to a chat prompt that has none: its render resolves it as a render of the saved draft would.
        var guard = await CreateGuardAsync();
        var (_, _, chat) = await CreateChatAsync("chat", [new { role = "user", content = "{{question}}" }], new { name = "question", type = "string", required = true });

        var (status, body) = await PostAsync(_client, "/api/playground", new
        {
            prompt = chat,
            drafts = new object[] { new { messages = new object[] { new { role = "system", content = $"Be nice. {{{{> {guard}}}}}" }, new { role = "user", content = "{{question}}" } } } },
            variables = new { question = "Q?", policy = "30 days" },
        });

        Assert.True(status == HttpStatusCode.OK, body?.ToJsonString());
        Assert.Contains("Be nice. Follow the policy: 30 days.", body!["results"]![0].Str("render"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Playground_DraftIncludingALabelMovedThroughAnotherServer_RendersWhatASaveWouldInclude()
    {
        // The label moves in the store without this server's change feed (as through another server), so its cache still holds
        // 1.0.0: a save of the draft would include 1.0.1, and the playground renders that.
        var cancellationToken = TestContext.Current.CancellationToken;
        var guard = await CreateGuardAsync();
        await NewVersionAsync(_client, guard, new { content = "Never promise more than {{policy}}.", changeDescription = "stricter" });
        var includer = await CreateAsync("includer", $"Rules: {{{{> {guard}}}}}");
        await LabelAsync(includer, "production", "1.0.0");
        var variables = new { policy = "30 days" };
        Assert.Equal("Rules: Follow the policy: 30 days.", (await RenderProductionAsync(includer, variables)).Str("content"));
        var store = fixture.Server.Services.GetRequiredService<IPromptStore>();
        var guardPrompt = (await store.FindPromptAsync(guard, cancellationToken))!;
        var from = (await store.FindLabelledVersionAsync(guardPrompt.Id, "production", cancellationToken))!;
        var to = (await store.FindLatestVersionAsync(guardPrompt.Id, cancellationToken))!;
        await store.SaveAsync(new PromptChanges
        {
            LabelChanges = [new LabelChange(guardPrompt.Id, "production", from.Id, to.Id, DateTimeOffset.UtcNow, "another-server")],
        }, cancellationToken);

        var (status, body) = await PostAsync(_client, "/api/playground", new
        {
            prompt = includer,
            drafts = new object[] { new { content = $"Rules now: {{{{> {guard}}}}}" } },
            variables,
        });

        Assert.True(status == HttpStatusCode.OK, body?.ToJsonString());
        Assert.Equal("Rules now: Never promise more than 30 days.", body!["results"]![0].Str("render"));
    }

    [Fact]
    public async Task Playground_SecondDraftIncludingItsOwnPrompt_Returns409NamingThatDraft()
    {
        var includer = await CreateAsync("includer", "Plain.");

        var (status, body) = await PostAsync(_client, "/api/playground", new
        {
            prompt = includer,
            drafts = new object[] { new { content = "Still plain." }, new { content = $"Loop: {{{{> {includer}}}}}" } },
            variables = new { },
        });

        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal("reference_cycle", body.Str("code"));
        Assert.Equal("drafts[1].content", body.Str("field"));
        Assert.StartsWith("drafts[1]: ", body.Str("detail"));
    }

    [Fact]
    public async Task ChatPrompt_MessagesIncludePrompts_ContractJoinsAndRenderListsTheVersions()
    {
        var guard = await CreateGuardAsync();
        var (status, created, chat) = await CreateChatAsync("chat",
            [new { role = "system", content = $"Be kind. {{{{> {guard}}}}}" }, new { role = "user", content = "{{question}}" }],
            new { name = "question", type = "string", required = true });
        Assert.True(status == HttpStatusCode.Created, created?.ToJsonString());

        var rendered = await RenderAsync(chat, new { question = "Can I return it?", policy = "30 days" });

        Assert.Equal(["question", "policy"], created!["latestVersion"]!["variables"]!.AsArray().Select(v => v.Str("name")));
        Assert.Equal(["Be kind. Follow the policy: 30 days.", "Can I return it?"], rendered["messages"]!.AsArray().Select(m => m.Str("content")));
        Assert.Equal(guard, Assert.Single(rendered["references"]!.AsArray()).Str("name"));
    }

    [Fact]
    public async Task ChatPrompt_MessageIncludesMissingPromptOrItself_RefusedNamingTheMessage_AndTextCannotIncludeChat()
    {
        var missing = UniqueName("nobody");
        var (status, body, _) = await CreateChatAsync("chat", [new { role = "system", content = "Hi." }, new { role = "user", content = $"{{{{> {missing}}}}}" }]);
        var guard = await CreateGuardAsync();
        var (_, _, chat) = await CreateChatAsync("chat", [new { role = "system", content = $"{{{{> {guard}}}}}" }]);
        await LabelAsync(chat, "production", "1.0.0");
        var (cycle, cycleBody) = await PostAsync(_client, $"/api/prompts/{guard}/versions",
            new { content = $"{{{{policy}}}} {{{{> {chat}}}}}", changeDescription = "loop" });
        var (selfCycle, selfBody) = await PostAsync(_client, $"/api/prompts/{chat}/versions",
            new { messages = new[] { new { role = "system", content = "ok" }, new { role = "assistant", content = $"{{{{> {chat}@1.0.0}}}}" } }, changeDescription = "loop" });

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("reference_not_found", body.Str("code"));
        Assert.StartsWith("messages[1].content", body.Str("detail"), StringComparison.Ordinal);
        Assert.Contains(missing, body.Str("detail"), StringComparison.Ordinal);
        // A chat prompt's messages cannot stand inside a text, so no chain can come back to one.
        Assert.True(cycle == HttpStatusCode.BadRequest, cycleBody?.ToJsonString());
        Assert.Equal("invalid_reference", cycleBody.Str("code"));
        Assert.Contains($"'{chat}' is a chat prompt", cycleBody.Str("detail"), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Conflict, selfCycle);
        Assert.Equal("reference_cycle", selfBody.Str("code"));
        Assert.StartsWith("messages[1].content", selfBody.Str("detail"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task NewVersion_IncludesAnArchivedVersion_Returns409NamingTheIncludeAndTheField_InTextAndChat()
    {
        var guard = await CreateGuardAsync();
        await NewVersionAsync(_client, guard, new { content = "Newer: {{policy}}.", changeDescription = "newer" });
        await LabelAsync(guard, "production", "1.0.1");
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(_client, $"/api/prompts/{guard}/versions/1.0.0/status", new { status = "archived" })).Status);
        var text = await CreateAsync("includer", "Hello.");
        var (_, _, chat) = await CreateChatAsync("chat", [new { role = "system", content = "Hi." }]);

        var (status, body) = await PostAsync(_client, $"/api/prompts/{text}/versions",
            new { content = $"Hello. {{{{> {guard}@1.0.0}}}}", changeDescription = "guarded" });
        var (chatStatus, chatBody) = await PostAsync(_client, $"/api/prompts/{chat}/versions",
            new { messages = new[] { new { role = "system", content = "Hi." }, new { role = "user", content = $"{{{{> {guard}@1.0.0}}}}" } }, changeDescription = "guarded" });

        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal(("version_archived", "content"), (body.Str("code"), body.Str("field")));
        Assert.Equal($"content includes {{{{> {guard}@1.0.0}}}}, but version 1.0.0 of '{guard}' is archived and can never serve traffic.", body.Str("detail"));
        Assert.Equal(HttpStatusCode.Conflict, chatStatus);
        Assert.Equal(("version_archived", "messages[1].content"), (chatBody.Str("code"), chatBody.Str("field")));
        Assert.StartsWith("messages[1].content: content includes", chatBody.Str("detail"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ChatPrompt_TwoMessagesIncludeOneVariableWithTwoTypes_ConflictNamesBothIncludedVersions()
    {
        var guard = await CreateGuardAsync();
        var limits = await CreateAsync("limits", "At most {{policy}} items.", new { name = "policy", type = "number", required = true });
        await LabelAsync(limits, "production", "1.0.0");

        var (status, body, _) = await CreateChatAsync("chat",
            [new { role = "system", content = $"{{{{> {guard}}}}}" }, new { role = "user", content = $"{{{{> {limits}}}}}" }]);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("variable_conflict", body.Str("code"));
        // The string `policy` came from the guard, included by the first message; the chat prompt declared nothing.
        Assert.Contains($"is string in the included '{guard}' 1.0.0 but number in the included '{limits}' 1.0.0", body.Str("detail"), StringComparison.Ordinal);
        Assert.DoesNotContain("this version", body.Str("detail"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Render_IncludedVariableMissing_Returns400NamingIt()
    {
        var guard = await CreateGuardAsync();
        var includer = await CreateAsync("includer", $"{{{{> {guard}}}}}");

        var (status, body) = await PostAsync(_client, $"/api/prompts/{includer}/render", new { variables = new { }, version = "latest" });

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("missing_variable", body.Str("code"));
        Assert.Contains("'policy'", body.Str("detail"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Contract_IncluderDeclaresAnIncludedRequiredVariable_SaysWhatRenderingAccepts()
    {
        var guard = await CreateGuardAsync();
        // Declared optional without a default: the guard still needs it, so the saved contract says required.
        var optional = await CreateAsync("optional", $"{{{{> {guard}}}}}", new { name = "policy", type = "string", required = false });
        // Declared with a default: the guard renders with it, so nothing is required.
        var defaulted = await CreateAsync("defaulted", $"{{{{> {guard}}}}}", new { name = "policy", type = "string", required = false, defaultValue = "14 days" });

        var optionalPolicy = (await GetAsync(_client, $"/api/prompts/{optional}/versions/1.0.0")).Body!["variables"]![0]!;
        var defaultedPolicy = (await GetAsync(_client, $"/api/prompts/{defaulted}/versions/1.0.0")).Body!["variables"]![0]!;
        var (status, body) = await PostAsync(_client, $"/api/prompts/{optional}/render", new { variables = new { }, version = "latest" });
        var rendered = await RenderAsync(defaulted, new { });

        Assert.True(optionalPolicy["required"]!.GetValue<bool>());
        Assert.Equal((HttpStatusCode.BadRequest, "missing_variable", "variables.policy"), (status, body.Str("code"), body.Str("field")));
        Assert.False(defaultedPolicy["required"]!.GetValue<bool>());
        Assert.Equal("Follow the policy: 14 days.", rendered.Str("content"));
    }

    [Fact]
    public async Task Render_WithoutIncludes_ListsNoReferences()
    {
        var plain = await CreateAsync("plain", "Just text.");

        var rendered = await RenderAsync(plain, new { });

        Assert.Empty(rendered["references"]!.AsArray());
    }

    [Fact]
    public async Task MoveLabel_OnTheIncludedPrompt_ChangesTheIncludersRenderAndSnapshotAtOnce()
    {
        var guard = await CreateGuardAsync();
        var includer = await CreateAsync("includer", $"Rules: {{{{> {guard}}}}}");
        await LabelAsync(includer, "production", "1.0.0");
        var variables = new { policy = "30 days" };
        Assert.Equal("Rules: Follow the policy: 30 days.", (await RenderProductionAsync(includer, variables)).Str("content"));
        var (_, before) = await SdkSnapshotTests.GetSnapshotAsync(_client);
        await NewVersionAsync(_client, guard, new { content = "Never promise more than {{policy}}.", changeDescription = "stricter" });

        await LabelAsync(guard, "production", "1.0.1");

        var rendered = await RenderProductionAsync(includer, variables);
        Assert.Equal("Rules: Never promise more than 30 days.", rendered.Str("content"));
        Assert.Equal("1.0.1", Assert.Single(rendered["references"]!.AsArray()).Str("version"));
        var (snapshot, after) = await SdkSnapshotTests.GetSnapshotAsync(_client);
        Assert.NotEqual(before.Tag, after.Tag);
        var carried = Assert.Single(snapshot.Prompts, p => p.Name == guard);
        Assert.Equal("1.0.1", carried.Versions.Single(v => v.Id == carried.Labels["production"]).Version);
    }

    /// <summary>A new version of the guard in which <c>policy</c> is a number, not the string its includers were saved with.</summary>
    private async Task<string> RetypePolicyAsync(string guard) =>
        (await NewVersionAsync(_client, guard, new
        {
            content = "At most {{policy}} days.",
            variables = new[] { new { name = "policy", type = "number", required = true } },
            changeDescription = "a number of days",
        })).Str("version");

    [Fact]
    public async Task MoveLabel_PartialVersionRetypesAnIncludersVariable_Returns409NamingTheIncluderAndKeepsTheLabel()
    {
        var guard = await CreateGuardAsync();
        var includer = await CreateAsync("includer", $"Rules: {{{{> {guard}}}}}");
        await LabelAsync(includer, "production", "1.0.0");
        var retyped = await RetypePolicyAsync(guard);

        var (status, body) = await PutAsync(_client, $"/api/prompts/{guard}/labels/production", new { version = retyped });

        Assert.Equal((HttpStatusCode.Conflict, "variable_conflict", "version"), (status, body.Str("code"), body.Str("field")));
        Assert.Contains($"'{includer}' 1.0.0 (production) includes '{guard}' production", body.Str("detail"), StringComparison.Ordinal);
        Assert.Contains($"variable 'policy' is string in this version but number in the included '{guard}' {retyped}", body.Str("detail"), StringComparison.Ordinal);
        var rendered = await RenderProductionAsync(includer, new { policy = "30 days" });
        Assert.Equal("Rules: Follow the policy: 30 days.", rendered.Str("content"));
        // A label no includer follows may move to it.
        Assert.Equal(HttpStatusCode.OK, (await PutAsync(_client, $"/api/prompts/{guard}/labels/staging", new { version = retyped })).Status);
    }

    [Fact]
    public async Task Promote_IncluderWhoseIncludedLabelMovedToAConflictingVersion_Returns409NamingTheVariable()
    {
        var guard = await CreateGuardAsync();
        await LabelAsync(guard, "staging", "1.0.0");
        var includer = await CreateAsync("includer", $"Rules: {{{{> {guard}@staging}}}}");
        var retyped = await RetypePolicyAsync(guard);
        // No version of the includer serves yet, so nothing stops the label.
        await LabelAsync(guard, "staging", retyped);

        var (status, body) = await PutAsync(_client, $"/api/prompts/{includer}/labels/production", new { version = "1.0.0" });

        Assert.Equal((HttpStatusCode.Conflict, "variable_conflict", "version"), (status, body.Str("code"), body.Str("field")));
        Assert.Contains($"version 1.0.0 of '{includer}' cannot serve with what it includes now: variable 'policy' is string", body.Str("detail"), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await PostAsync(_client, $"/api/prompts/{includer}/render", new { variables = new { policy = 30 } })).Status);
    }

    [Fact]
    public async Task Snapshot_VersionIncludedByNumber_IsCarried()
    {
        var guard = await CreateGuardAsync();
        await NewVersionAsync(_client, guard, new { content = "v2 {{policy}}", changeDescription = "two" });
        await NewVersionAsync(_client, guard, new { content = "v3 {{policy}}", changeDescription = "three" });
        var includer = await CreateAsync("includer", $"{{{{> {guard}@1.0.1}}}}");
        await LabelAsync(includer, "production", "1.0.0");

        var (snapshot, _) = await SdkSnapshotTests.GetSnapshotAsync(_client);

        var carried = Assert.Single(snapshot.Prompts, p => p.Name == guard);
        Assert.Equal(["1.0.0", "1.0.1", "1.0.2"], carried.Versions.Select(v => v.Version).Order());
    }
    [Fact]
    public async Task ManyPrompts_IncludedByAndLabelRemoval_FindTheIncludersAmongThem()
    {
        var guard = await CreateGuardAsync();
        await LabelAsync(guard, "strict", "1.0.0");
        await LabelAsync(guard, "spare", "1.0.0");
        var other = await CreateAsync("other", "Other.");
        await LabelAsync(other, "production", "1.0.0");
        // Hundreds of prompts that include another, or name the guard without including it: read past, not found.
        for (var i = 0; i < 300; i++)
            await CreateAsync("filler", i % 2 == 0 ? $"Uses {{{{> {other}}}}}." : $"Mentions {guard} but includes nothing.");
        var labelled = await CreateAsync("labelled", $"Hi {{{{> {guard}@strict}}}}", Policy);
        await LabelAsync(labelled, "staging", "1.0.0");
        var unlabelled = await CreateAsync("unlabelled", $"Hi {{{{> {guard}@1.0.0}}}}", Policy);
        var experimented = await CreateAsync("experimented", "Plain {{policy}}.", Policy);
        var (_, control) = await GetAsync(_client, $"/api/prompts/{experimented}/versions/1.0.0");
        var variant = await NewVersionAsync(_client, experimented, new { content = $"With {{{{> {guard}@strict}}}}", changeDescription = "include the guard" });
        var experiment = await Experiments.CreateAsync(_client, new
        {
            name = UniqueName("guarded"), prompt = experimented,
            variants = new object[] { new { name = "control", versionId = control.Str("id"), weight = 50 }, new { name = "guarded", versionId = variant.Str("id"), weight = 50 } },
        });
        await Experiments.MoveAsync(_client, experiment.Str("id"), "start");
        var registry = fixture.Server.Services.GetRequiredService<PromptVault.Core.Registry.PromptRegistry>();

        var graph = await registry.ReadIncludesAsync(guard, TestContext.Current.CancellationToken);
        var (removed, removal) = await SendAsync(_client, HttpMethod.Delete, $"/api/prompts/{guard}/labels/strict");
        var (unused, unusedBody) = await SendAsync(_client, HttpMethod.Delete, $"/api/prompts/{guard}/labels/spare");

        Assert.Equal([(experimented, "1.0.1"), (labelled, "1.0.0"), (unlabelled, "1.0.0")],
            graph.IncludedBy.Select(l => (l.Prompt, l.Version)).Order());
        Assert.Equal(HttpStatusCode.Conflict, removed);
        Assert.Equal("label_included", removal.Str("code"));
        Assert.Contains($"'{labelled}' 1.0.0 (staging)", removal.Str("detail"), StringComparison.Ordinal);
        Assert.Contains($"'{experimented}' 1.0.1 (variant 'guarded' of experiment", removal.Str("detail"), StringComparison.Ordinal);
        Assert.DoesNotContain(unlabelled, removal.Str("detail"), StringComparison.Ordinal);
        Assert.True(unused == HttpStatusCode.NoContent, unusedBody?.ToJsonString());
    }

    [Fact]
    public async Task Archive_AVersionAServedIncluderPins_Returns409NamingTheIncluder_AndItStillRenders()
    {
        var guard = await CreateGuardAsync();
        await NewVersionAsync(_client, guard, new { content = "Newer: {{policy}}.", changeDescription = "newer" });
        await LabelAsync(guard, "production", "1.0.1");
        var includer = await CreateAsync("includer", $"Hello. {{{{> {guard}@1.0.0}}}}", Policy);
        await LabelAsync(includer, "production", "1.0.0");

        var (status, body) = await PostAsync(_client, $"/api/prompts/{guard}/versions/1.0.0/status", new { status = "archived" });
        var (rendered, render) = await PostAsync(_client, $"/api/prompts/{includer}/render", new { variables = new { policy = "30 days" } });

        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal("version_included", body.Str("code"));
        Assert.Contains($"'{includer}' 1.0.0 (production)", body.Str("detail"), StringComparison.Ordinal);
        Assert.True(rendered == HttpStatusCode.OK, render?.ToJsonString());
        Assert.Equal("Hello. Follow the policy: 30 days.", render.Str("content"));
    }

    [Fact]
    public async Task Archive_AVersionPinnedThroughAnUnlabelledPinnedVersion_Returns409NamingTheChain()
    {
        var guard = await CreateGuardAsync();
        var middle = await CreateAsync("middle", $"Mid. {{{{> {guard}@1.0.0}}}}", Policy);
        await NewVersionAsync(_client, middle, new { content = "Mid without the guard.", variables = Array.Empty<object>(), changeDescription = "drop" });
        var includer = await CreateAsync("includer", $"Hello. {{{{> {middle}@1.0.0}}}}", Policy);
        await LabelAsync(includer, "production", "1.0.0");
        await NewVersionAsync(_client, guard, new { content = "Newer: {{policy}}.", changeDescription = "newer" });
        await LabelAsync(guard, "production", "1.0.1");

        var (status, body) = await PostAsync(_client, $"/api/prompts/{guard}/versions/1.0.0/status", new { status = "archived" });

        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal("version_included", body.Str("code"));
        Assert.Contains($"'{middle}' 1.0.0 (through '{includer}' 1.0.0, production)", body.Str("detail"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Archive_AVersionOnlyAnUnservedVersionPins_IsAllowed()
    {
        var guard = await CreateGuardAsync();
        await NewVersionAsync(_client, guard, new { content = "Newer: {{policy}}.", changeDescription = "newer" });
        await LabelAsync(guard, "production", "1.0.1");
        await CreateAsync("includer", $"Hello. {{{{> {guard}@1.0.0}}}}", Policy);

        var (status, body) = await PostAsync(_client, $"/api/prompts/{guard}/versions/1.0.0/status", new { status = "archived" });

        Assert.True(status == HttpStatusCode.OK, body?.ToJsonString());
    }

    [Fact]
    public async Task RemoveLabel_AServedIncluderResolvesThrough_Returns409NamingTheIncluder_AndItStillRenders()
    {
        var guard = await CreateGuardAsync();
        await LabelAsync(guard, "strict", "1.0.0");
        var includer = await CreateAsync("includer", $"Hello. {{{{> {guard}@strict}}}}", Policy);
        await LabelAsync(includer, "staging", "1.0.0");

        var (status, body) = await SendAsync(_client, HttpMethod.Delete, $"/api/prompts/{guard}/labels/strict");
        var (rendered, render) = await PostAsync(_client, $"/api/prompts/{includer}/render", new { variables = new { policy = "30 days" }, label = "staging" });

        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal("label_included", body.Str("code"));
        Assert.Contains($"'{includer}' 1.0.0 (staging)", body.Str("detail"), StringComparison.Ordinal);
        Assert.True(rendered == HttpStatusCode.OK, render?.ToJsonString());
    }

    [Fact]
    public async Task RemoveLabel_OnlyAnUnservedVersionResolvesThrough_IsAllowed()
    {
        var guard = await CreateGuardAsync();
        await LabelAsync(guard, "strict", "1.0.0");
        await CreateAsync("includer", $"Hello. {{{{> {guard}@strict}}}}", Policy);

        var (status, body) = await SendAsync(_client, HttpMethod.Delete, $"/api/prompts/{guard}/labels/strict");

        Assert.True(status == HttpStatusCode.NoContent, body?.ToJsonString());
    }
}
