using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using PromptVault.Core.Audit;
using PromptVault.Core.Prompts;
using PromptVault.Core.Storage;

namespace PromptVault.Dashboard.Tests;

/// <summary>The editor and the new-prompt form: live preview, conflicts, errors, leaving with unsaved changes, focus.</summary>
public sealed class PromptEditorTests(DashboardFixture fixture) : DashboardTest
{
    /// <summary>Two editors opened from 1.0.0: the second save made 1.0.2 of its draft, silently undoing the first editor's 1.0.1.</summary>
    [Fact]
    public async Task Edit_TwoEditorsFromTheSameVersion_TheSecondSaveIsRefusedAsAConflict()
    {
        using var api = fixture.Server.CreateClient();
        var first = await CreateAndEditAsync(api, """{"name":"two-editors","content":"Hi"}""");
        var second = await EditAsync("two-editors");
        foreach (var (page, text) in new[] { (first, "Hi from the first"), (second, "Hi from the second") })
        {
            await page.GetByLabel("Template", new() { Exact = true }).FillAsync(text);
            await page.GetByLabel("Change description").FillAsync(text);
        }

        await first.GetByRole(AriaRole.Button, new() { Name = "Save version" }).ClickAsync();
        await fixture.WaitForPageAsync(first, "/prompts/two-editors");
        await second.GetByRole(AriaRole.Button, new() { Name = "Save version" }).ClickAsync();

        await Assertions.Expect(second.GetByRole(AriaRole.Alert)).ToContainTextAsync("1.0.1");
        var versions = await api.GetFromJsonAsync<PromptVault.Core.Contracts.VersionListResponse>("/api/prompts/two-editors/versions",
            PromptVault.Core.Contracts.PromptVaultJson.Options, TestContext.Current.CancellationToken);
        Assert.Equal(2, versions!.Total);
        Assert.Equal("Hi from the second", await second.GetByLabel("Template", new() { Exact = true }).InputValueAsync());
    }

    /// <summary>
    /// The model settings' fields stepped by 0.1 (temperature) and 0.05 (top P), steps the server does not have: a temperature
    /// of 0.15, which a version pushed from a file may hold, showed as wrong. They mark invalid exactly what MetadataRules refuses.
    /// </summary>
    [Fact]
    public async Task Edit_ModelSettingsFields_MarkInvalidExactlyWhatTheServerRefuses()
    {
        using var api = fixture.Server.CreateClient();
        var page = await CreateAndEditAsync(api, """{"name":"settings-bounds","content":"Hi","metadata":{"temperature":0.15}}""");

        await DashboardFixture.ExpectValidAsTheServerSaysAsync(page, "temperature", ["-0.1", "0", "0.15", "2", "2.05"],
            temperature => MetadataRules.Validate(new PromptMetadata { Temperature = temperature }));
        await DashboardFixture.ExpectValidAsTheServerSaysAsync(page, "top-p", ["-0.01", "0", "0.93", "1", "1.01"],
            topP => MetadataRules.Validate(new PromptMetadata { TopP = topP }));
        await DashboardFixture.ExpectValidAsTheServerSaysAsync(page, "max-tokens", ["0", "1", "500"],
            maxTokens => MetadataRules.Validate(new PromptMetadata { MaxTokens = (int)maxTokens }));
    }

    /// <summary>Two variable rows with one name, each with a test value: the preview's dictionary of values threw and the circuit died, the draft with it.</summary>
    [Fact]
    public async Task Edit_TwoVariablesWithOneName_SaysSoAndKeepsTheEditorWorking()
    {
        using var api = fixture.Server.CreateClient();
        var page = await CreateAndEditAsync(api, """{"name":"twice-declared","content":"Hi {{x}}","variables":[{"name":"x","type":"string"}]}""");
        await page.GetByLabel("Test value for x (string)").FillAsync("a");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add variable" }).ClickAsync();
        await page.Locator("#var-1-name").FillAsync("x");
        await page.Locator("#var-1-name").PressAsync("Tab");
        await page.Locator("[id='test-x']").Nth(1).FillAsync("b");

        await Assertions.Expect(page.GetByTestId("template-error")).ToHaveTextAsync("variable 'x' is declared twice.");
        await page.GetByRole(AriaRole.Button, new() { Name = "Remove variable x" }).Nth(1).ClickAsync();
        await Assertions.Expect(page.GetByTestId("preview")).ToHaveTextAsync("Hi a");
    }

    /// <summary>
    /// A draft that includes a prompt requiring a variable (shared/policy requires policy): the editor offered test values only
    /// for the variables the draft declares, so its preview said "variable 'policy' is required." and nothing could fill it in.
    /// The included variables get test values too, in a chat prompt's messages as in a template.
    /// </summary>
    [Fact]
    public async Task Edit_IncludeRequiresAVariable_ItsTestValueCanBeTypedAndThePreviewRenders()
    {
        using var api = fixture.Server.CreateClient();
        var ct = TestContext.Current.CancellationToken;
        (await api.PostAsync("/api/prompts", new StringContent(
            """{"name":"shared/policy","content":"Follow {{policy}}.","variables":[{"name":"policy","type":"string","required":true}]}""",
            System.Text.Encoding.UTF8, "application/json"), ct)).EnsureSuccessStatusCode();
        (await api.PutAsJsonAsync("/api/prompts/shared%2Fpolicy/labels/production", new { version = "1.0.0" }, ct)).EnsureSuccessStatusCode();
        var page = await CreateAndEditAsync(api, """{"name":"policed","content":"Hi {{name}}. {{> shared/policy}}","variables":[{"name":"name","type":"string"}]}""");
        await page.GetByLabel("Test value for name (string)").FillAsync("Ann");

        await page.GetByLabel("Test value for policy (string, required, from an include)").FillAsync("the refund rules");

        await Assertions.Expect(page.GetByTestId("preview")).ToHaveTextAsync("Hi Ann. Follow the refund rules.");
        var chat = await CreateAndEditAsync(api, """{"name":"policed-chat","type":"chat","messages":[{"role":"system","content":"{{> shared/policy}}"}]}""");
        await chat.GetByLabel("Test value for policy (string, required, from an include)").FillAsync("the refund rules");
        await Assertions.Expect(chat.GetByTestId("preview")).ToContainTextAsync("Follow the refund rules.");
    }

    /// <summary>
    /// The preview is redone at each keystroke, and one whose draft includes a prompt not read yet awaits that read. The next
    /// keystroke's preview, done first, was overwritten by the earlier one when its read returned: the preview showed a draft no
    /// longer in the box. The earlier answer is now dropped.
    /// </summary>
    [Fact]
    public async Task Edit_APreviewReturningAfterALaterKeystroke_LeavesTheLaterOne()
    {
        var cancel = TestContext.Current.CancellationToken;
        var (server, store) = await DashboardFixture.StartCountedServerAsync<IPromptStore>();
        await using var _ = server;
        using var api = server.CreateClient();
        (await api.PostAsJsonAsync("/api/prompts", new { name = "late/part", content = "the part" }, cancel)).EnsureSuccessStatusCode();
        (await api.PutAsJsonAsync("/api/prompts/late%2Fpart/labels/production", new { version = "1.0.0" }, cancel)).EnsureSuccessStatusCode();
        (await api.PostAsJsonAsync("/api/prompts", new { name = "late/edited", content = "Hello" }, cancel)).EnsureSuccessStatusCode();
        var page = await fixture.OpenAsync(server.AdminKey, server: server);
        await page.GotoAsync("/prompts/late%2Fedited/edit");
        await page.Locator("[data-interactive=yes]").WaitForAsync();
        var (template, region) = (page.GetByLabel("Template", new() { Exact = true }), page.GetByTestId("preview-region"));
        var held = store.Hold(nameof(IPromptStore.FindPromptAsync), args => args[0] as string == "late/part");

        await template.FillAsync("Early: {{> late/part}}");
        await held.Arrived.Task.WaitAsync(TimeSpan.FromSeconds(30), cancel);
        // The render that says so holds the early draft in the box: typed over before it arrives, it would set the box back.
        await Assertions.Expect(region).ToHaveAttributeAsync("aria-busy", "true");
        await template.FillAsync("Later");
        await Assertions.Expect(page.GetByTestId("preview")).ToHaveTextAsync("Later");
        held.Release();
        await Assertions.Expect(region).Not.ToHaveAttributeAsync("aria-busy", "true"); // the early preview has come back

        await Assertions.Expect(page.GetByTestId("preview")).ToHaveTextAsync("Later");
        await Assertions.Expect(template).ToHaveValueAsync("Later");
    }

    /// <summary>
    /// A prompt with a required variable opened in the editor: its preview fails until a test value is typed ("variable 'who' is
    /// required."), and the editor then skipped comparing the draft with the latest version, so Save version stayed enabled for
    /// an unchanged draft (a save was refused as unchanged) and an edit showed no bump and no diff.
    /// </summary>
    [Fact]
    public async Task Edit_PreviewLacksARequiredTestValue_StillComparesTheDraftWithTheLatestVersion()
    {
        using var api = fixture.Server.CreateClient();
        var page = await CreateAndEditAsync(api, """{"name":"required-who","content":"Hi {{who}}","variables":[{"name":"who","type":"string","required":true}]}""");
        await Assertions.Expect(page.GetByTestId("render-error")).ToHaveTextAsync("variable 'who' is required.");

        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Save version" })).ToBeDisabledAsync();
        await page.GetByLabel("Template", new() { Exact = true }).FillAsync("Hello {{who}}");

        await Assertions.Expect(page.GetByTestId("bump")).ToHaveTextAsync("1.0.0 → 1.0.1 (patch)");
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Save version" })).ToBeEnabledAsync();
    }

    /// <summary>The edit page had two controls a screen reader (and <c>GetByLabel("Template")</c>) found as "Template": the template's
    /// text box and the list of the variables it reads ("Variables in the template"). The list is now named for what it lists.</summary>
    [Fact]
    public async Task Edit_TemplateNamesTheTextBoxOnly_TheVariablesListHasItsOwnName()
    {
        using var api = fixture.Server.CreateClient();
        var page = await CreateAndEditAsync(api, """{"name":"one-template-label","content":"Hi {{who}}","variables":[{"name":"who","type":"string"}]}""");

        var template = page.GetByLabel("Template");
        await Assertions.Expect(template).ToHaveCountAsync(1);
        await Assertions.Expect(template).ToHaveAttributeAsync("id", "template");
        await Assertions.Expect(page.GetByRole(AriaRole.List, new() { Name = "Variables the draft reads" })).ToContainTextAsync("who");
    }

    /// <summary>A save while another writer holds the SQLite database past the busy timeout: the store's "busy, retry" ended the circuit, the draft with it.</summary>
    [Fact]
    public async Task Edit_SaveWhileTheDatabaseIsLocked_SaysToRetryAndKeepsTheDraft()
    {
        using var api = fixture.Server.CreateClient();
        var page = await CreateAndEditAsync(api, """{"name":"locked-save","content":"Hi"}""");
        await page.GetByLabel("Template", new() { Exact = true }).FillAsync("Hi there");
        await page.GetByLabel("Change description").FillAsync("Warmer");

        await using (var other = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={fixture.Server.DatabasePath}"))
        {
            await other.OpenAsync(TestContext.Current.CancellationToken);
            using var writing = other.BeginTransaction(); // BEGIN IMMEDIATE: the server's writes wait, then give up
            await page.GetByRole(AriaRole.Button, new() { Name = "Save version" }).ClickAsync();
            await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("retry");
        }

        Assert.Equal("Hi there", await page.GetByLabel("Template", new() { Exact = true }).InputValueAsync());
        await page.GetByRole(AriaRole.Button, new() { Name = "Save version" }).ClickAsync();
        await fixture.WaitForPageAsync(page, "/prompts/locked-save");
        await Assertions.Expect(page.GetByRole(AriaRole.Cell, new() { Name = "Warmer" })).ToBeVisibleAsync();
    }

    /// <summary>The prompt page showed a chat prompt's messages but not a text prompt's template, which only Edit or Compare showed
    /// (a reader has no Edit). It shows the latest version's template, as text: markup in it is not HTML.</summary>
    [Fact]
    public async Task Prompt_TextPrompt_PageShowsTheLatestTemplateAsText()
    {
        using var api = fixture.Server.CreateClient();
        var ct = TestContext.Current.CancellationToken;
        (await api.PostAsync("/api/prompts", new StringContent("""{"name":"shown/template","content":"Hi <b>{{who}}</b>","variables":[{"name":"who","type":"string"}]}""",
            System.Text.Encoding.UTF8, "application/json"), ct)).EnsureSuccessStatusCode();
        (await api.PostAsJsonAsync("/api/prompts/shown%2Ftemplate/versions", new { content = "Hello <b>{{who}}</b>", changeDescription = "Greet" }, ct)).EnsureSuccessStatusCode();
        var page = await fixture.OpenAsync(fixture.ReaderKey);

        await page.GotoAsync("/prompts/shown%2Ftemplate");

        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Template of 1.0.1" })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("template")).ToHaveTextAsync("Hello <b>{{who}}</b>");
        Assert.Equal(0, await page.GetByTestId("template").Locator("b").CountAsync());
        Assert.Empty(await fixture.AccessibilityViolationsAsync(page));
    }

    /// <summary>A draft including a prompt that does not exist, or itself: the save would refuse the draft, but the editor showed
    /// the refusal under "Rendered output", where the test values' errors go. It is shown with the draft, and the preview says why it is empty.</summary>
    [Fact]
    public async Task Edit_DraftIncludesAMissingPromptOrItself_ErrorIsShownWithTheDraftNotTheTestValues()
    {
        using var api = fixture.Server.CreateClient();
        var page = await CreateAndEditAsync(api, """{"name":"includer","content":"Hi"}""");
        var template = page.GetByLabel("Template", new() { Exact = true });

        await template.FillAsync("Hi {{> nowhere/at-all}}");

        await Assertions.Expect(page.GetByTestId("template-error")).ToContainTextAsync("'includer' includes {{> nowhere/at-all@production}}, which names no version");
        await Assertions.Expect(page.GetByTestId("render-error")).ToHaveCountAsync(0);
        await template.FillAsync("Hi {{> includer}}");
        await Assertions.Expect(page.GetByTestId("template-error")).ToContainTextAsync("the includes form a cycle: includer → includer");
        await Assertions.Expect(page.GetByTestId("render-error")).ToHaveCountAsync(0);
        await Assertions.Expect(page.GetByText("No preview until the draft's error above is fixed.")).ToBeVisibleAsync();
        await template.FillAsync("Hi again");
        await Assertions.Expect(page.GetByTestId("preview")).ToHaveTextAsync("Hi again");
        await Assertions.Expect(page.GetByTestId("template-error")).ToHaveCountAsync(0);
    }

    /// <summary>A chat draft whose second message includes a prompt that does not exist: the live preview looked up all the messages'
    /// includes together, so its refusal named no message (field content), where a save names messages[1].content. It names the message.</summary>
    [Fact]
    public async Task Edit_ChatMessageIncludesAMissingPrompt_ErrorNamesThatMessage()
    {
        using var api = fixture.Server.CreateClient();
        var page = await CreateAndEditAsync(api, """{"name":"chat-includer","type":"chat","messages":[{"role":"system","content":"Be kind."}]}""");

        await page.GetByLabel("Messages", new() { Exact = true }).FillAsync("## system\n\nBe kind.\n\n## user\n\n{{> nowhere/chat}}");

        await Assertions.Expect(page.GetByTestId("template-error")).ToContainTextAsync("messages[1].content: 'chat-includer' includes {{> nowhere/chat@production}}, which names no version");
    }

    /// <summary>An unchanged draft edited into one that cannot be compiled (it includes a prompt that does not exist): "Before saving"
    /// kept the last comparison, "Nothing changed yet: the draft equals 1.0.0." with Save version disabled, for a draft that differs.</summary>
    [Fact]
    public async Task Edit_DraftWithAnError_ShowsNoStaleComparison()
    {
        using var api = fixture.Server.CreateClient();
        var page = await CreateAndEditAsync(api, """{"name":"stale-compare","content":"Hi"}""");
        await Assertions.Expect(page.GetByText("Nothing changed yet: the draft equals 1.0.0.")).ToBeVisibleAsync();

        await page.GetByLabel("Template", new() { Exact = true }).FillAsync("Hi {{> nowhere/stale}}");

        await Assertions.Expect(page.GetByText("The draft is compared with 1.0.0 once its error is fixed.")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByText("Nothing changed yet: the draft equals 1.0.0.")).ToHaveCountAsync(0);
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Save version" })).ToBeEnabledAsync();
        await page.GetByLabel("Change description").FillAsync("Include");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save version" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("names no version");
    }

    /// <summary>
    /// An editor's unsaved draft was lost without a word when a header link was clicked: the links are in the static layout,
    /// whose enhanced navigation no interactive component's NavigationLock sees. A changed draft now asks before a link or
    /// an unload leaves it, and staying keeps the draft; an unchanged one leaves without asking.
    /// </summary>
    [Fact]
    public async Task ChangedEditor_AsksBeforeALinkOrAnUnloadLeavesIt_AnUnchangedOneLeavesWithoutAsking()
    {
        await fixture.CreatePromptAsync("leave-check");
        var page = await fixture.OpenAsync(fixture.WriterKey);
        var dialogs = new List<string>();
        var accept = false;
        page.Dialog += async (_, dialog) =>
        {
            dialogs.Add(dialog.Type);
            if (accept) await dialog.AcceptAsync();
            else await dialog.DismissAsync();
        };
        var experiments = page.GetByRole(AriaRole.Navigation, new() { Name = "Main" }).GetByRole(AriaRole.Link, new() { Name = "Experiments" });
        var template = page.GetByLabel("Template", new() { Exact = true });

        await page.GotoAsync("/prompts/leave-check/edit");
        await page.Locator("[data-interactive=yes]").WaitForAsync();
        await experiments.ClickAsync();
        await fixture.WaitForPageAsync(page, "/experiments");
        Assert.Empty(dialogs);

        await page.GotoAsync("/prompts/leave-check/edit");
        await page.Locator("[data-interactive=yes]").WaitForAsync();
        await template.FillAsync("Hi there");
        await Assertions.Expect(page.GetByTestId("preview")).ToHaveTextAsync("Hi there"); // the circuit has the draft
        await experiments.ClickAsync();
        await Eventually(() => dialogs.Count >= 1);
        Assert.Equal(["confirm"], dialogs);
        Assert.EndsWith("/prompts/leave-check/edit", page.Url, StringComparison.Ordinal);
        await Assertions.Expect(template).ToHaveValueAsync("Hi there");

        await page.CloseAsync(new() { RunBeforeUnload = true });
        await Assertions.Expect(template).ToHaveValueAsync("Hi there");
        await Eventually(() => dialogs.Count >= 2);
        Assert.Equal(["confirm", "beforeunload"], dialogs);
        Assert.False(page.IsClosed);

        accept = true;
        await experiments.ClickAsync();
        await fixture.WaitForPageAsync(page, "/experiments");
        Assert.Equal(["confirm", "beforeunload", "confirm"], dialogs);
    }

    /// <summary>
    /// The new-prompt form lost what was typed without a word when a link or an unload left it. It now asks while a text field
    /// holds something, also after a refused create brings the typed form back, and not when it is empty or when Create sends it.
    /// </summary>
    [Fact]
    public async Task NewPromptForm_AsksBeforeLeavingWhatWasTyped_NotWhenEmptyOrWhenCreateSendsIt()
    {
        var page = await fixture.OpenAsync(fixture.WriterKey);
        var dialogs = DashboardFixture.DismissDialogs(page);
        var name = page.GetByLabel("Name", new() { Exact = true });
        var template = page.GetByLabel("Template");

        await page.GotoAsync("/new");
        await template.FillAsync("Hello {{who}}");
        await DashboardFixture.ClickExperimentsAsync(page);
        Assert.Equal(["confirm"], dialogs);
        Assert.EndsWith("/new", page.Url, StringComparison.Ordinal);
        await Assertions.Expect(template).ToHaveValueAsync("Hello {{who}}");

        await name.FillAsync("Not A Name!");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create prompt" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToBeVisibleAsync();
        await Assertions.Expect(template).ToHaveValueAsync("Hello {{who}}");
        Assert.Equal(["confirm"], dialogs); // sending the form is not asked about
        await DashboardFixture.ClickExperimentsAsync(page);
        Assert.Equal(["confirm", "confirm"], dialogs);

        await name.FillAsync("leave-new-check");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create prompt" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "leave-new-check" })).ToBeVisibleAsync();
        Assert.Equal(["confirm", "confirm"], dialogs);

        await page.GotoAsync("/new");
        await template.FillAsync("typed, then emptied");
        await template.FillAsync("");
        await DashboardFixture.ClickExperimentsAsync(page);
        await fixture.WaitForPageAsync(page, "/experiments");
        Assert.Equal(["confirm", "confirm"], dialogs);
    }

    /// <summary>A refused form came back with the keyboard's focus on the page's heading, above the error: a keyboard or screen
    /// reader user had to look for what went wrong. This form reloads the page, and an alert already in a loaded page is not
    /// announced as one inserted into it is: the focus is on the error (Routes.razor); a page without one focuses its heading.</summary>
    [Fact]
    public async Task NewPromptForm_RefusedFromTheKeyboard_FocusesTheError()
    {
        var page = await fixture.OpenAsync(fixture.WriterKey);
        await page.GotoAsync("/new");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "New prompt" })).ToBeFocusedAsync();

        await page.Keyboard.PressAsync("Tab");
        await Assertions.Expect(page.GetByLabel("Name", new() { Exact = true })).ToBeFocusedAsync();
        await page.Keyboard.TypeAsync("Not A Name!");
        await page.GetByLabel("Template").FocusAsync();
        await page.Keyboard.TypeAsync("Hi");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create prompt" }).FocusAsync();
        await page.Keyboard.PressAsync("Enter");

        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("Not A Name!");
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToBeFocusedAsync();
        Assert.EndsWith("/new", page.Url, StringComparison.Ordinal);
    }

    /// <summary>On an interactive page the heading took the first focus in the prerendered copy, which is replaced when the page
    /// turns interactive: the focus fell to the body and a screen reader lost the heading. The new heading now takes it.</summary>
    [Fact]
    public async Task InteractivePages_OnceInteractive_FocusTheirHeading()
    {
        using var api = fixture.Server.CreateClient();
        var page = await CreateAndEditAsync(api, """{"name":"first-focus","content":"Hi"}""");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Edit first-focus" })).ToBeFocusedAsync();

        var admin = await fixture.OpenAsync(fixture.Server.AdminKey);
        await admin.GotoAsync("/experiments/new");
        await admin.Locator("[data-interactive=yes]").WaitForAsync();
        await Assertions.Expect(admin.GetByRole(AriaRole.Heading, new() { Name = "New experiment" })).ToBeFocusedAsync();
    }

    /// <summary>
    /// focus.js kept the heading as "the first focus" after a click on a blank part of the page had moved the focus to the body
    /// (such a click focuses no element, so no focusin said so): when the page turned interactive it gave the focus back to the
    /// new heading, and the next Tab started from there, not from where the user had clicked, as a browser's would. A click now
    /// ends the first focus; the circuit is held back so the click comes before the page turns interactive.
    /// </summary>
    [Fact]
    public async Task InteractivePage_ClickedOnABlankPartBeforeInteractive_KeepsTheFocusWhereTheClickLeftIt()
    {
        await fixture.CreatePromptAsync("blank-click-focus");
        var page = await fixture.OpenAsync(fixture.WriterKey);
        var circuit = new TaskCompletionSource();
        await page.RouteAsync("**/_blazor/negotiate**", async route => { await circuit.Task; await route.ContinueAsync(); });

        await page.GotoAsync("/prompts/blank-click-focus/edit");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Edit blank-click-focus" })).ToBeFocusedAsync();
        await page.GetByText("Editing from the latest version").ClickAsync();
        Assert.True(await page.EvaluateAsync<bool>("() => document.activeElement === document.body"));
        circuit.SetResult();
        await page.Locator("[data-interactive=yes]").WaitForAsync();

        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Edit blank-click-focus" })).Not.ToBeFocusedAsync();
        Assert.True(await page.EvaluateAsync<bool>("() => document.activeElement === document.body"));
    }

    /// <summary>A form whose antiforgery token the server can no longer read (a restart with a new key ring) got an empty 400;
    /// it now comes back to its page, which says the form expired, and nothing is created.</summary>
    [Fact]
    public async Task NewPromptForm_TokenTheServerCannotRead_ComesBackSayingTheFormExpired()
    {
        var page = await fixture.OpenAsync(fixture.WriterKey);
        await page.GotoAsync("/new");
        await page.Locator("#main input[name=__RequestVerificationToken]").EvaluateAsync("input => input.value = 'CfDJ8NotATokenThisServersKeyRingCanRead'");
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("expired-form-check");
        await page.GetByLabel("Template").FillAsync("Hi");

        await page.GetByRole(AriaRole.Button, new() { Name = "Create prompt" }).ClickAsync();

        await Assertions.Expect(page.GetByRole(AriaRole.Alert).Filter(new() { HasText = "The form expired" })).ToHaveTextAsync(
            "The form expired (the server restarted, or the form was sent without its token). Submit it again.");
        Assert.EndsWith("/new?expired=true", page.Url, StringComparison.Ordinal);
        using var api = fixture.Server.CreateClient();
        Assert.Equal(HttpStatusCode.NotFound, (await api.GetAsync("/api/prompts/expired-form-check", TestContext.Current.CancellationToken)).StatusCode);
    }

    /// <summary>Creates a prompt from <paramref name="json"/> through the API and opens its editor as the writer, once interactive.</summary>
    private async Task<IPage> CreateAndEditAsync(HttpClient api, string json)
    {
        (await api.PostAsync("/api/prompts", new StringContent(json, System.Text.Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken))
            .EnsureSuccessStatusCode();
        return await EditAsync(System.Text.Json.JsonDocument.Parse(json).RootElement.GetProperty("name").GetString()!);
    }

    private async Task<IPage> EditAsync(string name)
    {
        var page = await fixture.OpenAsync(fixture.WriterKey);
        await page.GotoAsync($"/prompts/{Uri.EscapeDataString(name)}/edit");
        await page.Locator("[data-interactive=yes]").WaitForAsync();
        return page;
    }
}
