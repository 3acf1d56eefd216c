using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using PromptVault.Core.Contracts;
using PromptVault.Core.Prompts;
using PromptVault.Core.Storage;
using PromptVault.Server.Tests;

namespace PromptVault.Dashboard.Tests;

/// <summary>The playground page: pick a prompt and two versions, fill the variables, run, and read the answers side by side.</summary>
public sealed class PlaygroundPageTests(DashboardFixture fixture, PlaygroundPageTests.CountedServer counted) : DashboardTest, IClassFixture<PlaygroundPageTests.CountedServer>
{
    /// <summary>
    /// The class's one server for the tests that count: its model is the fake provider and its prompt store (the real SQLite one)
    /// counts the calls made to it. A class's tests run one after another, so each counts from what it finds at its start.
    /// </summary>
    public sealed class CountedServer : IAsyncLifetime
    {
        public FakeModelServer Model { get; private set; } = null!;

        public RunningServer Server { get; private set; } = null!;

        public CountingProxy<IPromptStore> Store { get; private set; } = null!;

        public async ValueTask InitializeAsync()
        {
            var cancel = TestContext.Current.CancellationToken;
            Model = await FakeModelServer.StartAsync(cancel);
            (Server, Store) = await DashboardFixture.StartCountedServerAsync<IPromptStore>(
                [$"--PromptVault:Models:default:Endpoint={Model.Endpoint}", "--PromptVault:Models:default:Model=gpt-4o-mini"]);
        }

        /// <summary>The model answering as it does by default (a test before may have scripted it); returns its requests so far.</summary>
        public int ResetModel()
        {
            Model.Status = (int)HttpStatusCode.OK;
            Model.Script = null;
            return Model.Requests.Count;
        }

        public async ValueTask DisposeAsync()
        {
            if (Server is not null) await Server.DisposeAsync();
            if (Model is not null) await Model.DisposeAsync();
        }
    }

    [Fact]
    public async Task Playground_TwoVersions_ShowsEachRenderAndAnswerSideBySide()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        var (model, server, before) = (counted.Model, counted.Server, counted.ResetModel());
        using (var api = server.CreateClient())
        {
            var variables = new[] { new VariableDefinition("customer", VariableType.String, Required: true) };
            (await api.PostAsJsonAsync("/api/prompts", new CreatePromptRequest("greeting", Content: "Hello {{customer}}!", Variables: variables),
                PromptVaultJson.Options, cancellationToken)).EnsureSuccessStatusCode();
            (await api.PostAsJsonAsync("/api/prompts/greeting/versions", new CreateVersionRequest("Hi {{customer}}, how can I help?",
                Metadata: new PromptMetadata { Model = "gpt-4o" }, ChangeDescription: "Offer help"), PromptVaultJson.Options, cancellationToken)).EnsureSuccessStatusCode();
        }
        var page = await fixture.OpenAsync(server.AdminKey, server: server);

        await page.GotoAsync("/prompts/greeting");
        await page.GetByRole(AriaRole.Link, new() { Name = "Try in playground" }).ClickAsync();
        // The prompt page has an interactive part too, so it is the playground's own part that is awaited.
        await page.Locator("[data-interactive=yes]:has(#prompt)").WaitForAsync();
        await Assertions.Expect(page.GetByLabel("Prompt", new() { Exact = true })).ToHaveValueAsync("greeting");
        await Assertions.Expect(page.GetByLabel("Version A")).ToHaveValueAsync("1.0.0");
        await Assertions.Expect(page.GetByLabel("Version B")).ToHaveValueAsync("1.0.1");
        await page.GetByLabel("customer (string, required)").FillAsync("Ada");
        await page.GetByRole(AriaRole.Button, new() { Name = "Run" }).ClickAsync();

        var results = page.GetByTestId("result");
        await Assertions.Expect(results).ToHaveCountAsync(2);
        await Assertions.Expect(results.Nth(0).GetByTestId("render")).ToHaveTextAsync("Hello Ada!");
        await Assertions.Expect(results.Nth(0).GetByTestId("output")).ToHaveTextAsync("answer to: Hello Ada!");
        await Assertions.Expect(results.Nth(1).GetByTestId("output")).ToHaveTextAsync("answer to: Hi Ada, how can I help?");
        await Assertions.Expect(results.Nth(1)).ToContainTextAsync("Answer from gpt-4o");
        await Assertions.Expect(results.Nth(0)).ToContainTextAsync("120 / 30");
        Assert.Equal(["gpt-4o", "gpt-4o-mini"], model.Requests.Skip(before).Select(r => (string)r["model"]!).Order());
        // The answers arriving are announced in one short polite line (the cards are not read again).
        var status = page.GetByRole(AriaRole.Status);
        await Assertions.Expect(status).ToHaveTextAsync("2 answers received.");
        await Assertions.Expect(status).ToHaveAttributeAsync("data-testid", "run-status");
        await DashboardFixture.ScreenshotAsync(page, "playground");
        Assert.Empty(await fixture.AccessibilityViolationsAsync(page));

        // A missing required variable is refused, naming it, and costs no call. The refusal is announced once each time it is
        // shown (it was also focused and in a live region: announced up to three times), as FormError does for the forms.
        var error = page.GetByTestId("run-error");
        await page.GetByLabel("customer (string, required)").FillAsync("");
        await DashboardFixture.CountInsertionsAsync(page, "[data-testid=run-error]");
        foreach (var runs in new[] { 1, 2 })
        {
            await page.GetByRole(AriaRole.Button, new() { Name = "Run" }).FocusAsync();
            await page.Keyboard.PressAsync("Enter");
            await DashboardFixture.ExpectInsertionsAsync(page, runs);
            await DashboardFixture.ExpectAnnouncedOnceAsync(page, error, "customer");
        }
        Assert.Equal(before + 2, model.Requests.Count);

        // So does a run every call of which the provider failed.
        model.Status = (int)HttpStatusCode.BadRequest; // not retried
        await page.GetByLabel("customer (string, required)").FillAsync("Ada");
        await page.GetByRole(AriaRole.Button, new() { Name = "Run" }).FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        await DashboardFixture.ExpectAnnouncedOnceAsync(page, error, "failed: ");
        await Assertions.Expect(results).ToHaveCountAsync(0);

        // One version's call failing among answers is its card's error: announced once, as the run's is, each run, the same
        // failure again too.
        model.Status = (int)HttpStatusCode.OK;
        model.Script = request => request["messages"]!.ToJsonString().Contains("Hi Ada", StringComparison.Ordinal)
            ? new FakeReply("", (int)HttpStatusCode.BadRequest)
            : new FakeReply("answer to: " + request["messages"]!.AsArray().Last()!["content"]);
        var failed = results.Nth(1).GetByTestId("output-error");
        await DashboardFixture.CountInsertionsAsync(page, "[data-testid=output-error]");
        foreach (var runs in new[] { 1, 2 })
        {
            await page.GetByRole(AriaRole.Button, new() { Name = "Run" }).FocusAsync();
            await page.Keyboard.PressAsync("Enter");
            await DashboardFixture.ExpectInsertionsAsync(page, runs);
            await Assertions.Expect(results.Nth(0).GetByTestId("output")).ToHaveTextAsync("answer to: Hello Ada!");
            await DashboardFixture.ExpectAnnouncedOnceAsync(page, failed, "failed: ");
            await Assertions.Expect(status).ToHaveTextAsync("1 answer received; B (1.0.1) failed.");
        }
    }

    [Fact]
    public async Task Playground_EditedVersionAndSaveAsTestCase_RunsTheDraftUnsavedAndAppendsTheCase()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        var (model, server, before) = (counted.Model, counted.Server, counted.ResetModel());
        using var api = server.CreateClient();
        var variables = new[] { new VariableDefinition("customer", VariableType.String, Required: true) };
        (await api.PostAsJsonAsync("/api/prompts", new CreatePromptRequest("greeting-draft", Content: "Hello {{customer}}!", Variables: variables),
            PromptVaultJson.Options, cancellationToken)).EnsureSuccessStatusCode();
        (await api.PostAsJsonAsync("/api/prompts/greeting-draft/versions", new CreateVersionRequest("Hi {{customer}}!", ChangeDescription: "Shorter"),
            PromptVaultJson.Options, cancellationToken)).EnsureSuccessStatusCode();
        var page = await fixture.OpenAsync(server.AdminKey, server: server);

        await page.GotoAsync("/playground?prompt=greeting-draft");
        await page.Locator("[data-interactive=yes]").WaitForAsync();
        await Assertions.Expect(page.GetByLabel("Version B")).ToHaveValueAsync("1.0.1");
        await page.GetByRole(AriaRole.Button, new() { Name = "Edit B" }).ClickAsync();
        var draft = page.GetByLabel("Edited template of version B");
        await Assertions.Expect(draft).ToHaveValueAsync("Hi {{customer}}!");
        await draft.FillAsync("Hey {{customer}}, edited!");
        await page.GetByLabel("customer (string, required)").FillAsync("Ada");
        await page.GetByRole(AriaRole.Button, new() { Name = "Run" }).ClickAsync();

        var results = page.GetByTestId("result");
        await Assertions.Expect(results).ToHaveCountAsync(2);
        await Assertions.Expect(results.Nth(0).GetByTestId("render")).ToHaveTextAsync("Hello Ada!");
        await Assertions.Expect(results.Nth(1).GetByRole(AriaRole.Heading, new() { Name = "1.0.1 (edited)" })).ToBeVisibleAsync();
        await Assertions.Expect(results.Nth(1).GetByTestId("output")).ToHaveTextAsync("answer to: Hey Ada, edited!");
        var history = await api.GetFromJsonAsync<JsonNode>("/api/prompts/greeting-draft/versions", cancellationToken);
        Assert.Equal(2, history!["versions"]!.AsArray().Count);

        // An edit that a save would refuse is refused the same way, naming the edits it is about (the request's drafts[0] is B's
        // here, A being run as saved: the page names A's or B's edits, not the request's field), and costs no call.
        await draft.FillAsync("Hey {{stranger}}!");
        await page.GetByRole(AriaRole.Button, new() { Name = "Run" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("Edits of version B (1.0.1): content references 'stranger'");
        Assert.Equal(before + 2, model.Requests.Count);

        // Save the variables, with a check, as a test case of 1.0.0.
        await SaveGreetsAdaAsync(page);
        await Assertions.Expect(page.GetByTestId("case-saved")).ToContainTextAsync("Saved case 'greets Ada' to 1.0.0: it has 1 test case.");
        var tests = await api.GetFromJsonAsync<JsonNode>("/api/prompts/greeting-draft/versions/1.0.0/tests", cancellationToken);
        var saved = Assert.Single(tests!["tests"]!.AsArray())!;
        Assert.Equal("Ada", (string?)saved["variables"]!["customer"]);
        Assert.Equal("Hello Ada", (string?)saved["expect"]![0]!["value"]);
        Assert.Empty(await fixture.AccessibilityViolationsAsync(page));

        // The same name again is refused, naming the field.
        await page.GetByRole(AriaRole.Button, new() { Name = "Save as test case" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("case-error")).ToContainTextAsync("tests[1].name 'greets Ada' is used by another case");
    }

    /// <summary>
    /// An edit that adds an include whose prompt requires a variable: the playground offered inputs for the versions' variables only,
    /// so the included one could not be filled in and every run was refused. The edit's contract (with its includes') now gives the
    /// inputs, and the run renders the included prompt with the value typed.
    /// </summary>
    /// <remarks>A chat prompt's edit (a message including the prompt) learns its contract as a template's does.</remarks>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Playground_EditAddsAnIncludeThatNeedsAVariable_OffersItsInput(bool chat)
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        var name = "play-include-" + Guid.NewGuid().ToString("N")[..8];
        using var api = fixture.Server.CreateClient();
        var policy = await CreatePolicyAsync(api);
        var created = chat
            ? new CreatePromptRequest(name, Type: PromptType.Chat, Messages: [new PromptMessage(MessageRole.User, "Hello!")])
            : new CreatePromptRequest(name, Content: "Hello!");
        (await api.PostAsJsonAsync("/api/prompts", created, PromptVaultJson.Options, cancellationToken)).EnsureSuccessStatusCode();
        var page = await fixture.OpenAsync(fixture.WriterKey);

        await page.GotoAsync($"/playground?prompt={name}");
        await page.Locator("[data-interactive=yes]").WaitForAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Edit B" }).ClickAsync();
        await page.GetByLabel($"Edited {(chat ? "messages" : "template")} of version B").FillAsync($"{(chat ? "## user\n\n" : "")}Hello! {{{{> {policy}}}}}");
        await page.GetByLabel("policy (string, required)").FillAsync("the refund rules");
        await page.GetByRole(AriaRole.Button, new() { Name = "Run" }).ClickAsync();

        var results = page.GetByTestId("result");
        await Assertions.Expect(results).ToHaveCountAsync(2);
        await Assertions.Expect(results.Nth(1).GetByTestId("render")).ToContainTextAsync("Hello! Follow the refund rules.");

        // Discarding the edit takes its variable away again.
        await page.GetByRole(AriaRole.Button, new() { Name = "Discard edits of B" }).ClickAsync();
        await Assertions.Expect(page.GetByLabel("policy (string, required)")).ToHaveCountAsync(0);
    }

    /// <summary>
    /// Save as test case kept every filled variable row, those only the other version has too, so the saved case gave its version a
    /// variable it lacks and its runs failed. It now keeps the variables of the version it is saved to, those of its includes with them.
    /// </summary>
    [Fact]
    public async Task Playground_SaveAsTestCase_KeepsOnlyTheChosenVersionsVariables()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        var name = "play-case-" + Guid.NewGuid().ToString("N")[..8];
        using var api = fixture.Server.CreateClient();
        var policy = await CreatePolicyAsync(api);
        (await api.PostAsJsonAsync("/api/prompts", new CreatePromptRequest(name, Content: $"Hello {{{{customer}}}}! {{{{> {policy}}}}}",
            Variables: [new VariableDefinition("customer", VariableType.String, Required: true)]), PromptVaultJson.Options, cancellationToken)).EnsureSuccessStatusCode();
        (await api.PostAsJsonAsync($"/api/prompts/{name}/versions", new CreateVersionRequest("Hi {{customer}}, {{tone}}",
            [new VariableDefinition("customer", VariableType.String, Required: true), new VariableDefinition("tone", VariableType.String, Required: true)],
            ChangeDescription: "Tone"), PromptVaultJson.Options, cancellationToken)).EnsureSuccessStatusCode();
        var page = await fixture.OpenAsync(fixture.WriterKey);

        await page.GotoAsync($"/playground?prompt={name}");
        await page.Locator("[data-interactive=yes]").WaitForAsync();
        await Assertions.Expect(page.GetByLabel("Version A")).ToHaveValueAsync("1.0.0");
        await page.GetByLabel("customer (string, required)").FillAsync("Ada");
        await page.GetByLabel("policy (string, required)").FillAsync("the refund rules");
        await page.GetByLabel("tone (string, required)").FillAsync("warmly");
        await SaveGreetsAdaAsync(page);

        await Assertions.Expect(page.GetByTestId("case-saved")).ToContainTextAsync("Saved case 'greets Ada' to 1.0.0");
        var tests = await api.GetFromJsonAsync<JsonNode>($"/api/prompts/{name}/versions/1.0.0/tests", cancellationToken);
        var saved = Assert.Single(tests!["tests"]!.AsArray())!;
        Assert.Equal(["customer", "policy"], saved["variables"]!.AsObject().Select(v => v.Key).Order());
    }

    /// <summary>
    /// A chat prompt's edit with text outside a message was refused by the page's own reading of it, before the service's, so the
    /// error did not say whether A's or B's edit was wrong. Its refusal now names the draft's place as the service's do, and the
    /// one rule that turns that place into A or B names it.
    /// </summary>
    [Fact]
    public async Task Playground_ChatEditOfBHasTextOutsideAMessage_TheErrorNamesB()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        var name = "play-chat-" + Guid.NewGuid().ToString("N")[..8];
        using var api = fixture.Server.CreateClient();
        (await api.PostAsJsonAsync("/api/prompts", new CreatePromptRequest(name, Type: PromptType.Chat, Messages: [new PromptMessage(MessageRole.User, "Hello!")]),
            PromptVaultJson.Options, cancellationToken)).EnsureSuccessStatusCode();
        (await api.PostAsJsonAsync($"/api/prompts/{name}/versions", new { messages = new[] { new { role = "user", content = "Hi!" } }, changeDescription = "Hi" },
            cancellationToken)).EnsureSuccessStatusCode();
        var page = await fixture.OpenAsync(fixture.WriterKey);

        await page.GotoAsync($"/playground?prompt={name}");
        await page.Locator("[data-interactive=yes]").WaitForAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Edit A" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Edit B" }).ClickAsync();
        await page.GetByLabel("Edited messages of version B").FillAsync("Hi outside!\n\n## user\n\nHi!");
        await page.GetByRole(AriaRole.Button, new() { Name = "Run" }).ClickAsync();

        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("Edits of version B (1.0.1): line 1: text outside a message");
    }

    /// <summary>
    /// Saving a case to a version that is neither A nor B kept only the variables with a row on screen (A's and B's), so a variable
    /// only that version declares was silently left out. It is now refused, naming the variable, until that version is A or B.
    /// </summary>
    [Fact]
    public async Task Playground_SaveAsTestCaseToAVersionNeitherAnorB_NamesItsVariablesWithNoField()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        var name = "play-other-" + Guid.NewGuid().ToString("N")[..8];
        using var api = fixture.Server.CreateClient();
        (await api.PostAsJsonAsync("/api/prompts", new CreatePromptRequest(name, Content: "Hello {{customer}} in {{region}}",
            Variables: [new VariableDefinition("customer", VariableType.String, Required: true), new VariableDefinition("region", VariableType.String)]),
            PromptVaultJson.Options, cancellationToken)).EnsureSuccessStatusCode();
        foreach (var change in new[] { "One", "Two" })
            (await api.PostAsJsonAsync($"/api/prompts/{name}/versions", new CreateVersionRequest($"{change}: hi {{{{customer}}}}",
                [new VariableDefinition("customer", VariableType.String, Required: true)], ChangeDescription: change),
                PromptVaultJson.Options, cancellationToken)).EnsureSuccessStatusCode();
        var page = await fixture.OpenAsync(fixture.WriterKey);

        await page.GotoAsync($"/playground?prompt={name}");
        await page.Locator("[data-interactive=yes]").WaitForAsync();
        await Assertions.Expect(page.GetByLabel("Version A")).ToHaveValueAsync("2.0.0"); // dropping region was a breaking change
        await page.GetByLabel("customer (string, required)").FillAsync("Ada");
        await SaveGreetsAdaAsync(page);

        await Assertions.Expect(page.GetByTestId("case-error")).ToContainTextAsync("Version 1.0.0 declares region, with no field above");
        await Assertions.Expect(page.GetByTestId("case-saved")).ToHaveCountAsync(0);
        var none = await api.GetFromJsonAsync<JsonNode>($"/api/prompts/{name}/versions/1.0.0/tests", cancellationToken);
        Assert.Empty(none!["tests"]!.AsArray());

        await page.GetByLabel("Version A").FillAsync("1.0.0");
        await page.GetByLabel("Version A").BlurAsync();
        await page.GetByLabel("region (string)").FillAsync("Paris");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save as test case" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("case-saved")).ToContainTextAsync("Saved case 'greets Ada' to 1.0.0");
        var tests = await api.GetFromJsonAsync<JsonNode>($"/api/prompts/{name}/versions/1.0.0/tests", cancellationToken);
        Assert.Equal(["customer", "region"], Assert.Single(tests!["tests"]!.AsArray())!["variables"]!.AsObject().Select(v => v.Key).Order());
    }

    /// <summary>
    /// Typed test values, a case being written and an edited version were lost without a word when a link left the playground.
    /// It now asks while it holds any of them, and not once they are saved as a test case and the edit is discarded.
    /// </summary>
    [Fact]
    public async Task Playground_AsksBeforeLeavingTypedWork_NotOnceItIsSavedOrDiscarded()
    {
        using var api = fixture.Server.CreateClient();
        var variables = new[] { new VariableDefinition("customer", VariableType.String) };
        (await api.PostAsJsonAsync("/api/prompts", new CreatePromptRequest("leave-playground-check", Content: "Hello {{customer}}!", Variables: variables),
            PromptVaultJson.Options, TestContext.Current.CancellationToken)).EnsureSuccessStatusCode();
        var page = await fixture.OpenAsync(fixture.WriterKey);
        var dialogs = DashboardFixture.DismissDialogs(page);
        var panel = page.Locator("[data-interactive=yes]");

        await page.GotoAsync("/playground?prompt=leave-playground-check");
        await panel.WaitForAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Edit B" }).ClickAsync();
        await Assertions.Expect(page.GetByLabel("Edited template of version B")).ToHaveValueAsync("Hello {{customer}}!");
        await Assertions.Expect(panel).Not.ToHaveAttributeAsync("data-unsaved", "yes"); // opened, not changed
        await page.GetByLabel("Edited template of version B").FillAsync("Hey {{customer}}!");
        await page.GetByLabel("customer (string)").FillAsync("Ada");
        await Assertions.Expect(panel).ToHaveAttributeAsync("data-unsaved", "yes"); // the circuit has what was typed
        await DashboardFixture.ClickExperimentsAsync(page);
        Assert.Equal(["confirm"], dialogs);
        await Assertions.Expect(page.GetByLabel("customer (string)")).ToHaveValueAsync("Ada");

        await page.GetByRole(AriaRole.Button, new() { Name = "Discard edits of B" }).ClickAsync();
        await Assertions.Expect(panel).ToHaveAttributeAsync("data-unsaved", "yes"); // the value typed is still unsaved
        await page.GetByLabel("Case name").FillAsync("greets Ada");
        await page.GetByLabel("Expected value").FillAsync("Hello Ada");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save as test case" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("case-saved")).ToBeVisibleAsync();
        await Assertions.Expect(panel).Not.ToHaveAttributeAsync("data-unsaved", "yes");
        await DashboardFixture.ClickExperimentsAsync(page);
        await fixture.WaitForPageAsync(page, "/experiments");
        Assert.Equal(["confirm"], dialogs);
    }

    /// <summary>
    /// The playground read every version of its prompt into both version selectors and the save-as-test-case one: thousands
    /// made it slow and huge. It now suggests the newest and labelled ones and runs any other typed; a missing one is named.
    /// </summary>
    [Fact]
    public async Task Playground_300Versions_SuggestsTheNewest_RunsAFarBackOneTyped_AndNamesAMissingOne()
    {
        using var api = fixture.Server.CreateClient();
        var name = await DashboardFixture.CreateVersionsAsync(fixture.Server, "play-long-", 300);
        (await api.PutAsJsonAsync($"/api/prompts/{name}/labels/staging", new { version = "1.0.7" }, TestContext.Current.CancellationToken)).EnsureSuccessStatusCode();
        var page = await fixture.OpenAsync(fixture.WriterKey);

        await page.GotoAsync($"/playground?prompt={name}");
        await page.Locator("[data-interactive=yes]:has(#prompt)").WaitForAsync();
        await Assertions.Expect(page.GetByLabel("Version A")).ToHaveValueAsync("1.0.298");
        await Assertions.Expect(page.Locator("#version-a-suggested option")).ToHaveCountAsync(PageRequest.DefaultLimit + 1); // and staging's 1.0.7
        Assert.DoesNotContain("\"1.0.5\"", await page.ContentAsync());

        await page.GetByLabel("Version A").FillAsync("1.0.5");
        await page.GetByLabel("Version A").BlurAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Run" }).ClickAsync();
        var results = page.GetByTestId("result");
        await Assertions.Expect(results.Nth(0).GetByTestId("render")).ToHaveTextAsync("v5");
        await Assertions.Expect(results.Nth(1).GetByTestId("render")).ToHaveTextAsync("v299");

        // A label typed is the version it points at (the suggestions show labels as the text of their versions).
        await page.GetByLabel("Version A").FillAsync("staging");
        await page.GetByLabel("Version A").BlurAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Run" }).ClickAsync();
        await Assertions.Expect(results.Nth(0).GetByTestId("render")).ToHaveTextAsync("v7");

        await page.GetByLabel("Version B").FillAsync("9.9.9");
        await page.GetByLabel("Version B").BlurAsync();
        await Assertions.Expect(page.Locator("#version-b-error")).ToContainTextAsync("9.9.9");
        await page.GetByRole(AriaRole.Button, new() { Name = "Run" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Alert).First).ToContainTextAsync("9.9.9");
        await Assertions.Expect(results).ToHaveCountAsync(0);
    }

    /// <summary>
    /// A version not among those suggested is read when typed. Another typed while that read was out was replaced when the read
    /// returned: the field showed the later version, and Run ran the earlier one. The late answer is dropped.
    /// </summary>
    [Fact]
    public async Task Playground_AVersionReadReturningAfterALaterChoice_RunsTheLaterOne()
    {
        var (server, store) = (counted.Server, counted.Store);
        counted.ResetModel();
        var name = await DashboardFixture.CreateVersionsAsync(server, "play-late-", PageRequest.DefaultLimit + 1); // 1.0.0 is not suggested
        var page = await fixture.OpenAsync(server.AdminKey, server: server);
        await page.GotoAsync($"/playground?prompt={name}");
        await page.Locator("[data-interactive=yes]:has(#prompt)").WaitForAsync();
        var versionA = page.GetByLabel("Version A");
        await Assertions.Expect(versionA).ToHaveValueAsync("1.0.99");
        var held = store.Hold(nameof(IPromptStore.FindVersionAsync), args => args[1]?.ToString() == "1.0.0");

        await versionA.FillAsync("1.0.0");
        await versionA.BlurAsync();
        await held.Arrived.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        // The render that says so shows 1.0.0 in the field: typed over before it arrives, it would set the field back.
        await Assertions.Expect(versionA).ToHaveAttributeAsync("aria-busy", "true");
        await versionA.FillAsync("1.0.98");
        await versionA.BlurAsync();
        held.Release();
        await Assertions.Expect(versionA).Not.ToHaveAttributeAsync("aria-busy", "true"); // the late answer has come back
        await page.GetByRole(AriaRole.Button, new() { Name = "Run" }).ClickAsync();

        await Assertions.Expect(page.GetByTestId("result").Nth(0).GetByTestId("render")).ToHaveTextAsync("v98");
        await Assertions.Expect(versionA).ToHaveValueAsync("1.0.98");
    }

    /// <summary>
    /// A first load of /playground?prompt=X read the prompt three times: the page (for its 404), then the panel's prerender and
    /// its circuit, each reading it again for the versions after finding it among the suggested prompts. The panel now uses the
    /// prompt it found; the store's latest-version reads (made by each read of a prompt, and by nothing else on this page) are counted.
    /// </summary>
    [Fact]
    public async Task Playground_FirstLoad_ReadsThePromptOnce()
    {
        var cancel = TestContext.Current.CancellationToken;
        var (server, counter) = (counted.Server, counted.Store);
        using (var api = server.CreateClient())
        {
            (await api.PostAsJsonAsync("/api/prompts", new CreatePromptRequest("once", Content: "v0"), PromptVaultJson.Options, cancel)).EnsureSuccessStatusCode();
            (await api.PostAsJsonAsync("/api/prompts/once/versions", new CreateVersionRequest("v1", ChangeDescription: "Second"), PromptVaultJson.Options, cancel)).EnsureSuccessStatusCode();
        }
        var page = await fixture.OpenAsync(server.AdminKey, server: server);
        var (before, looked) = (counter.Calls.GetValueOrDefault("FindLatestVersionAsync"), counter.Calls.GetValueOrDefault("FindPromptAsync"));

        await page.GotoAsync("/playground?prompt=once");
        // The interactive panel shows the versions only once its circuit's load is done.
        await page.Locator("[data-interactive=yes]:has(#prompt)").WaitForAsync();
        await Assertions.Expect(page.GetByLabel("Version A")).ToHaveValueAsync("1.0.0");
        await Assertions.Expect(page.GetByLabel("Version B")).ToHaveValueAsync("1.0.1");

        Assert.Equal(before + 1, counter.Calls.GetValueOrDefault("FindLatestVersionAsync"));
        // Nor is it looked up again for its versions' list.
        Assert.Equal(looked + 1, counter.Calls.GetValueOrDefault("FindPromptAsync"));
    }

    [Fact]
    public async Task Playground_PromptPastTheFirstHundredByName_IsReadOnce()
    {
        var cancel = TestContext.Current.CancellationToken;
        var (server, counter) = (counted.Server, counted.Store);
        using (var api = server.CreateClient())
        {
            // The suggestions hold the first 100 by name: "z-late" comes after these hundred, so the panel cannot find it among them.
            // ("y" and not "a": the class's other prompts, FirstLoad's "once" among them, stay in the first hundred.)
            for (var i = 0; i < 100; i++)
                (await api.PostAsJsonAsync("/api/prompts", new CreatePromptRequest($"y{i:000}", Content: "v0"), PromptVaultJson.Options, cancel)).EnsureSuccessStatusCode();
            (await api.PostAsJsonAsync("/api/prompts", new CreatePromptRequest("z-late", Content: "v0"), PromptVaultJson.Options, cancel)).EnsureSuccessStatusCode();
        }
        var page = await fixture.OpenAsync(server.AdminKey, server: server);
        var (before, looked) = (counter.Calls.GetValueOrDefault("FindLatestVersionAsync"), counter.Calls.GetValueOrDefault("FindPromptAsync"));

        await page.GotoAsync("/playground?prompt=z-late");
        await page.Locator("[data-interactive=yes]:has(#prompt)").WaitForAsync();
        await Assertions.Expect(page.GetByLabel("Version B")).ToHaveValueAsync("1.0.0");

        // The page reads it (for a missing prompt's 404) and hands it to the panel, prerendered and interactive.
        Assert.Equal(before + 1, counter.Calls.GetValueOrDefault("FindLatestVersionAsync"));
        // Nor is it looked up again for its versions' list.
        Assert.Equal(looked + 1, counter.Calls.GetValueOrDefault("FindPromptAsync"));
    }

    [Fact]
    public async Task Playground_Reader_HasNoLinkAndIsRefused()
    {
        var page = await fixture.OpenAsync(fixture.ReaderKey);

        Assert.Equal(0, await page.GetByRole(AriaRole.Link, new() { Name = "Playground", Exact = true }).CountAsync());
        var forced = await page.GotoAsync("/playground");

        Assert.Equal((int)HttpStatusCode.Forbidden, forced!.Status);
    }

    /// <summary>Creates a prompt "Follow {{policy}}." (a required string), labelled production so another can include it; returns its name.</summary>
    private static async Task<string> CreatePolicyAsync(HttpClient api)
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        var policy = "shared/policy-" + Guid.NewGuid().ToString("N")[..8];
        var required = new[] { new VariableDefinition("policy", VariableType.String, Required: true) };
        (await api.PostAsJsonAsync("/api/prompts", new CreatePromptRequest(policy, Content: "Follow {{policy}}.", Variables: required),
            PromptVaultJson.Options, cancellationToken)).EnsureSuccessStatusCode();
        (await api.PutAsJsonAsync($"/api/prompts/{Uri.EscapeDataString(policy)}/labels/production", new { version = "1.0.0" }, cancellationToken)).EnsureSuccessStatusCode();
        return policy;
    }

    /// <summary>Saves the playground's variables as case "greets Ada" of 1.0.0, with one check: contains "Hello Ada".</summary>
    private static async Task SaveGreetsAdaAsync(IPage page)
    {
        await page.GetByLabel("Case name").FillAsync("greets Ada");
        await page.GetByLabel("Save to version").FillAsync("1.0.0");
        await page.GetByLabel("Save to version").BlurAsync();
        await page.GetByLabel("Expected check").SelectOptionAsync("contains");
        await page.GetByLabel("Expected value").FillAsync("Hello Ada");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save as test case" }).ClickAsync();
    }
}
