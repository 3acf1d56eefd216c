using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using PromptVault.Core.Audit;
using PromptVault.Core.Storage;

namespace PromptVault.Dashboard.Tests;

/// <summary>The prompt pages end to end: create, edit with live preview, save, compare, promote, roll back; and a reader's limits.</summary>
public sealed class PromptPagesTests(DashboardFixture fixture) : IClassFixture<DashboardFixture>, IAsyncDisposable
{
    public ValueTask DisposeAsync() => fixture.CloseTestPagesAsync();

    /// <summary>
    /// Every version list read the newest 100 versions only, with no way to see more: with 150, 1.0.0 was in no table and no
    /// selector. The version table now shows 100 more per "Show more", and each selector of a version offers them all.
    /// </summary>
    [Fact]
    public async Task Prompt_150Versions_TheFirstCanBeReachedEverywhere()
    {
        var ct = TestContext.Current.CancellationToken;
        using var api = fixture.Server.CreateClient();
        var name = await DashboardFixture.CreateVersionsAsync(api, "many-", 150);
        var page = await fixture.OpenAsync(fixture.Server.AdminKey);
        var first = page.GetByRole(AriaRole.Link, new() { Name = "1.0.0", Exact = true });

        await page.GotoAsync($"/prompts/{name}");
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "1.0.149", Exact = true })).ToBeVisibleAsync();
        await Assertions.Expect(first).ToHaveCountAsync(0);
        await Assertions.Expect(page.GetByTestId("show-more")).ToContainTextAsync("Showing the newest 100 of 150 versions.");
        await page.GetByRole(AriaRole.Link, new() { Name = "Show 50 more" }).ClickAsync();
        await Assertions.Expect(first).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("show-more")).ToHaveCountAsync(0);

        foreach (var path in new[] { "compare", "evaluations" })
        {
            await page.GotoAsync($"/prompts/{name}/{path}");
            await page.GetByLabel("Version A").FillAsync("1.0.0");
            await page.GetByLabel("Version A").PressAsync("Enter");
            await Assertions.Expect(page).ToHaveURLAsync(new Regex("a=1.0.0"));
            await Assertions.Expect(page.GetByLabel("Version A")).ToHaveValueAsync("1.0.0");
        }
        await page.GotoAsync($"/playground?prompt={name}");
        await page.Locator("[data-interactive=yes]:has(#prompt)").WaitForAsync();
        await page.GetByLabel("Version A").FillAsync("1.0.0");
        await page.GetByLabel("Version A").BlurAsync();
        await Assertions.Expect(page.GetByLabel("Version A")).ToHaveValueAsync("1.0.0");
        await Assertions.Expect(page.Locator("#version-a-error")).ToHaveCountAsync(0);
        await page.GotoAsync("/experiments/new");
        await page.Locator("[data-interactive=yes]").WaitForAsync();
        await page.GetByLabel("Prompt", new() { Exact = true }).FillAsync(name);
        await page.GetByLabel("Prompt", new() { Exact = true }).BlurAsync();
        await Assertions.Expect(page.Locator("#variant-0-version-suggested option")).ToHaveCountAsync(PageRequest.DefaultLimit);
        Assert.DoesNotContain("\"1.0.5\"", await page.ContentAsync());
        await page.GetByLabel("Version of variant 1").FillAsync("1.0.0");
        await page.GetByLabel("Version of variant 2").FillAsync("9.9.9");
        await page.GetByLabel("Version of variant 2").BlurAsync();
        await Assertions.Expect(page.Locator("#variant-1-version-error")).ToContainTextAsync("'9.9.9'");
        await Assertions.Expect(page.Locator("#variant-0-version-error")).ToHaveCountAsync(0);
    }

    /// <summary>
    /// The prompt page read every version to fill its metrics selector with one option each: thousands of versions made the
    /// page slow and huge. It now reads only the newest the table shows, suggests those and the labelled ones, and takes any
    /// other version typed.
    /// </summary>
    [Fact]
    public async Task Prompt_300Versions_TheMetricsFormSuggestsTheNewestAndLabelled_AndTakesAFarBackOneTyped()
    {
        var ct = TestContext.Current.CancellationToken;
        using var api = fixture.Server.CreateClient();
        var name = await DashboardFixture.CreateVersionsAsync(api, "long-", 300);
        (await api.PutAsJsonAsync($"/api/prompts/{name}/labels/staging", new { version = "1.0.10" }, ct)).EnsureSuccessStatusCode();
        var page = await fixture.OpenAsync(fixture.Server.AdminKey);

        await page.GotoAsync($"/prompts/{name}");
        var suggested = page.Locator("#metrics-version-suggested option");
        await Assertions.Expect(suggested).ToHaveCountAsync(PageRequest.DefaultLimit + 1);
        await Assertions.Expect(page.Locator("#metrics-version-suggested option[value='1.0.10']")).ToHaveTextAsync("staging");
        var html = await page.ContentAsync();
        Assert.DoesNotContain("\"1.0.5\"", html);
        Assert.DoesNotContain(">1.0.5<", html);

        await page.GetByLabel("Version", new() { Exact = true }).FillAsync("1.0.5");
        await page.GetByRole(AriaRole.Button, new() { Name = "Show", Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Metrics of 1.0.5" })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Tools of 1.0.5" })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByLabel("Version", new() { Exact = true })).ToHaveValueAsync("1.0.5");
    }

    /// <summary>
    /// The compare pages filled both selectors with every version of the prompt (thousands made them slow and huge). Their
    /// inputs now suggest the newest and labelled versions and take any other typed; a missing one answers 404 with the
    /// not-found page naming it (the prompt page's metrics version, a filter, keeps the page).
    /// </summary>
    [Fact]
    public async Task ComparePages_300Versions_SuggestTheNewest_TakeAFarBackOneTyped_AndAnswer404NamingAMissingOne()
    {
        using var api = fixture.Server.CreateClient();
        var name = await DashboardFixture.CreateVersionsAsync(api, "cmp-", 300);
        var page = await fixture.OpenAsync(fixture.Server.AdminKey);

        foreach (var (path, button) in new[] { ("compare", "Compare"), ("evaluations", "Compare runs") })
        {
            await page.GotoAsync($"/prompts/{name}/{path}");
            await Assertions.Expect(page.Locator("#a-suggested option")).ToHaveCountAsync(PageRequest.DefaultLimit);
            await Assertions.Expect(page.GetByLabel("Version A")).ToHaveValueAsync("1.0.298");
            var html = await page.ContentAsync();
            Assert.DoesNotContain("\"1.0.5\"", html);

            await page.GetByLabel("Version A").FillAsync("1.0.5");
            await page.GetByRole(AriaRole.Button, new() { Name = button, Exact = true }).ClickAsync();
            await Assertions.Expect(page.GetByLabel("Version A")).ToHaveValueAsync("1.0.5");
            await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { NameRegex = new Regex("of 1\\.0\\.5 and 1\\.0\\.299") })).ToBeVisibleAsync();

            await page.GetByLabel("Version B").FillAsync("9.9.9");
            var missing = await page.RunAndWaitForResponseAsync(
                () => page.GetByRole(AriaRole.Button, new() { Name = button, Exact = true }).ClickAsync(), r => r.Url.Contains("b=9.9.9"));
            Assert.Equal((int)HttpStatusCode.NotFound, missing.Status);
            await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync($"prompt '{name}' has no version '9.9.9'.");
        }

        // The prompt page takes its metrics version as a filter: the prompt exists, so the page stays, naming the version by its input.
        Assert.Equal((int)HttpStatusCode.OK, (await page.GotoAsync($"/prompts/{name}?metrics=9.9.9"))!.Status);
        await Assertions.Expect(page.Locator("#metrics-version-error")).ToContainTextAsync("9.9.9");
        await Assertions.Expect(page.Locator("h2#metrics")).ToHaveTextAsync("Metrics"); // not "Metrics of " with nothing after it
    }

    [Fact]
    public async Task Prompt_CreateEditSaveComparePromoteRollBack_WorksInTheBrowser()
    {
        var page = await fixture.OpenAsync(fixture.Server.AdminKey);

        // Create a prompt in a folder.
        await page.GetByRole(AriaRole.Link, new() { Name = "New prompt" }).ClickAsync();
        // Blazor's enhanced navigation swaps the page in place: wait for it, or "Name" is the old page's search box.
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "New prompt" })).ToBeVisibleAsync();
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("support/greeting");
        await page.GetByLabel("Description").FillAsync("Greets a customer");
        await page.GetByLabel("Tags (comma-separated)").FillAsync("support, greeting");
        await page.GetByLabel("Template").FillAsync("Hello {{customer}}!");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create prompt" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "support/greeting" })).ToBeVisibleAsync();

        // The tree shows it inside its folder.
        await page.GotoAsync("/");
        await Assertions.Expect(page.Locator("details summary", new() { HasText = "support/" })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "greeting" })).ToBeVisibleAsync();
        await DashboardFixture.ScreenshotAsync(page, "prompts");
        Assert.Empty(await fixture.AccessibilityViolationsAsync(page));

        // Edit: the preview follows the template and the test values as they are typed.
        await page.GotoAsync("/prompts/support%2Fgreeting/edit");
        await page.Locator("[data-interactive=yes]").WaitForAsync();
        var preview = page.GetByTestId("preview");
        await Assertions.Expect(preview).ToHaveTextAsync("Hello !");
        await page.GetByLabel("Test value for customer (string)").FillAsync("Ada");
        await Assertions.Expect(preview).ToHaveTextAsync("Hello Ada!");
        await page.GetByLabel("Template", new() { Exact = true }).FillAsync("Hello {{customer}}, welcome to {{product}}!");
        await Assertions.Expect(page.GetByText("product ✗ undeclared")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("template-error")).ToContainTextAsync("product");
        await page.GetByRole(AriaRole.Button, new() { Name = "Declare product" }).ClickAsync();
        await page.GetByLabel("Test value for product (string)").FillAsync("PromptVault");
        await Assertions.Expect(preview).ToHaveTextAsync("Hello Ada, welcome to PromptVault!");
        await Assertions.Expect(page.GetByTestId("bump")).ToHaveTextAsync("1.0.0 → 1.1.0 (minor)");
        await DashboardFixture.ScreenshotAsync(page, "editor");
        Assert.Empty(await fixture.AccessibilityViolationsAsync(page));

        // Save: the new version appears with its bump.
        await page.GetByLabel("Change description").FillAsync("Name the product");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save version" }).ClickAsync();
        await fixture.WaitForPageAsync(page, "/prompts/support%2Fgreeting");
        await Assertions.Expect(page.GetByRole(AriaRole.Cell, new() { Name = "1.1.0", Exact = true })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Cell, new() { Name = "Name the product" })).ToBeVisibleAsync();

        // Compare the two versions.
        await page.GetByRole(AriaRole.Link, new() { Name = "Compare", Exact = true }).ClickAsync();
        await Assertions.Expect(page.Locator(".diff .add").First).ToContainTextAsync("welcome to {{product}}");
        await DashboardFixture.ScreenshotAsync(page, "compare");
        Assert.Empty(await fixture.AccessibilityViolationsAsync(page));

        // Promote 1.0.0, then 1.1.0: the confirmation says what changes.
        await page.GotoAsync("/prompts/support%2Fgreeting");
        await page.GetByRole(AriaRole.Link, new() { Name = "Promote 1.0.0" }).ClickAsync();
        await Assertions.Expect(page.GetByText("production: none → 1.0.0")).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Promote" }).ClickAsync();
        await fixture.WaitForPageAsync(page, "/prompts/support%2Fgreeting");
        await page.GetByRole(AriaRole.Link, new() { Name = "Promote 1.1.0" }).ClickAsync();
        await Assertions.Expect(page.GetByText("production: 1.0.0 → 1.1.0")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator(".diff .add").First).ToContainTextAsync("welcome to {{product}}");
        await DashboardFixture.ScreenshotAsync(page, "promote");
        Assert.Empty(await fixture.AccessibilityViolationsAsync(page));
        await page.GetByRole(AriaRole.Button, new() { Name = "Promote" }).ClickAsync();
        await fixture.WaitForPageAsync(page, "/prompts/support%2Fgreeting");
        await Assertions.Expect(page.Locator(".badge.production")).ToHaveTextAsync("production 1.1.0");

        // Roll back to 1.0.0: a new version with 1.0.0's template takes production.
        await page.GetByRole(AriaRole.Link, new() { Name = "Roll back to 1.0.0" }).ClickAsync();
        await Assertions.Expect(page.GetByText("production: 1.1.0 →")).ToBeVisibleAsync();
        await page.GetByLabel("Reason (recorded in the audit log)").FillAsync("customers disliked it");
        await page.GetByRole(AriaRole.Button, new() { Name = "Roll back" }).ClickAsync();
        await fixture.WaitForPageAsync(page, "/prompts/support%2Fgreeting");
        await Assertions.Expect(page.GetByRole(AriaRole.Cell, new() { Name = "Rollback to version 1.0.0" })).ToBeVisibleAsync();
        await DashboardFixture.ScreenshotAsync(page, "prompt");
        Assert.Empty(await fixture.AccessibilityViolationsAsync(page));
    }

    [Fact]
    public async Task Reader_SeesNoDeployOrEditAndIsRefusedWhenForcing()
    {
        using var api = fixture.Server.CreateClient();
        var created = await api.PostAsync("/api/prompts", new StringContent(
            """{"name":"reader-check","content":"Hi"}""", System.Text.Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);
        created.EnsureSuccessStatusCode();
        var page = await fixture.OpenAsync(fixture.ReaderKey);

        await page.GotoAsync("/prompts/reader-check");

        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "reader-check" })).ToBeVisibleAsync();
        Assert.Equal(0, await page.GetByRole(AriaRole.Link, new() { Name = "Promote 1.0.0", Exact = true }).CountAsync());
        Assert.Equal(0, await page.GetByRole(AriaRole.Link, new() { Name = "Edit", Exact = true }).CountAsync());
        var forced = await page.GotoAsync("/prompts/reader-check/deploy?action=promote&version=1.0.0");
        Assert.Equal((int)HttpStatusCode.Forbidden, forced!.Status);
        var edit = await page.GotoAsync("/prompts/reader-check/edit");
        Assert.Equal((int)HttpStatusCode.Forbidden, edit!.Status);
        var post = await page.APIRequest.PostAsync("/prompts/reader-check/deploy?action=promote&version=1.0.0",
            new() { Form = page.APIRequest.CreateFormData().Set("_handler", "deploy") });
        Assert.Equal((int)HttpStatusCode.Forbidden, post.Status);
        Assert.Null((await api.GetFromJsonAsync<PromptVault.Core.Contracts.PromptResponse>("/api/prompts/reader-check",
            PromptVault.Core.Contracts.PromptVaultJson.Options, TestContext.Current.CancellationToken))!.Labels.GetValueOrDefault("production"));
    }

    /// <summary>
    /// The deploy page rolled back or promoted from wherever production was when it was submitted: a page opened before
    /// someone else moved production undid a change it never showed. Its form now carries the version it showed and expects
    /// production there (the API's If-Match); moved, the page says so, changes nothing, shows where production is now and
    /// keeps the reason typed, and the form submitted again from there works.
    /// </summary>
    [Fact]
    public async Task Deploy_ProductionMovedAfterThePageLoaded_IsRefusedSayingSo_ThenWorksFromTheCurrentState()
    {
        var ct = TestContext.Current.CancellationToken;
        using var api = fixture.Server.CreateClient();
        var name = await DashboardFixture.CreateVersionsAsync(api, "stale-", 3);
        async Task PromoteAsync(string version) =>
            (await api.PutAsJsonAsync($"/api/prompts/{name}/labels/production", new { version }, ct)).EnsureSuccessStatusCode();
        async Task<PromptVault.Core.Contracts.PromptResponse> ReadAsync() =>
            (await api.GetFromJsonAsync<PromptVault.Core.Contracts.PromptResponse>($"/api/prompts/{name}", PromptVault.Core.Contracts.PromptVaultJson.Options, ct))!;
        await PromoteAsync("1.0.1");
        var page = await fixture.OpenAsync(fixture.Server.AdminKey);
        var reason = page.GetByLabel("Reason (recorded in the audit log)");

        await page.GotoAsync($"/prompts/{name}/deploy?action=rollback&version=1.0.0");
        await Assertions.Expect(page.GetByText("production: 1.0.1 → 1.0.3")).ToBeVisibleAsync();
        await reason.FillAsync("the new wording confused customers");
        await PromoteAsync("1.0.2");
        await page.GetByRole(AriaRole.Button, new() { Name = "Roll back" }).ClickAsync();

        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync(
            "production now points at 1.0.2, not 1.0.1 as this page showed; nothing was changed. Review and try again.");
        await Assertions.Expect(page.GetByText("production: 1.0.2 → 1.0.3")).ToBeVisibleAsync();
        await Assertions.Expect(reason).ToHaveValueAsync("the new wording confused customers");
        var unchanged = await ReadAsync();
        Assert.Equal("1.0.2", unchanged.Labels["production"]);
        Assert.Equal("1.0.2", unchanged.LatestVersion.Version);

        await page.GetByRole(AriaRole.Button, new() { Name = "Roll back" }).ClickAsync();
        await fixture.WaitForPageAsync(page, $"/prompts/{name}");
        Assert.Equal("1.0.3", (await ReadAsync()).Labels["production"]);

        // A promote (a move of the production label) is held to what its page showed the same way.
        await page.GotoAsync($"/prompts/{name}/deploy?action=promote&version=1.0.1");
        await Assertions.Expect(page.GetByText("production: 1.0.3 → 1.0.1")).ToBeVisibleAsync();
        await PromoteAsync("1.0.2");
        await page.GetByRole(AriaRole.Button, new() { Name = "Promote" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("production now points at 1.0.2, not 1.0.3 as this page showed");
        Assert.Equal("1.0.2", (await ReadAsync()).Labels["production"]);
    }

    /// <summary>
    /// Two first deploys of a label from pages that both showed it unset: the deploy page expected nothing then, so the second
    /// silently overwrote the first. It now expects the label unset (If-None-Match: *), and the second is refused as stale.
    /// </summary>
    [Fact]
    public async Task Deploy_TwoFirstDeploysOfALabelFromTwoPages_TheSecondIsRefusedSayingSo()
    {
        var ct = TestContext.Current.CancellationToken;
        using var api = fixture.Server.CreateClient();
        var name = await DashboardFixture.CreateVersionsAsync(api, "first-deploy-", 2);
        var alice = await fixture.OpenAsync(fixture.Server.AdminKey);
        var bob = await fixture.OpenAsync(fixture.Server.AdminKey);

        await alice.GotoAsync($"/prompts/{name}/deploy?action=label&version=1.0.0&label=staging");
        await bob.GotoAsync($"/prompts/{name}/deploy?action=label&version=1.0.1&label=staging");
        await Assertions.Expect(alice.GetByText("staging: none → 1.0.0")).ToBeVisibleAsync();
        await Assertions.Expect(bob.GetByText("staging: none → 1.0.1")).ToBeVisibleAsync();
        await alice.GetByRole(AriaRole.Button, new() { Name = "Move label" }).ClickAsync();
        await fixture.WaitForPageAsync(alice, $"/prompts/{name}");
        await bob.GetByRole(AriaRole.Button, new() { Name = "Move label" }).ClickAsync();

        await Assertions.Expect(bob.GetByRole(AriaRole.Alert)).ToHaveTextAsync(
            "staging now points at 1.0.0, not unset as this page showed; nothing was changed. Review and try again.");
        await Assertions.Expect(bob.GetByText("staging: 1.0.0 → 1.0.1")).ToBeVisibleAsync();
        var prompt = (await api.GetFromJsonAsync<PromptVault.Core.Contracts.PromptResponse>($"/api/prompts/{name}", PromptVault.Core.Contracts.PromptVaultJson.Options, ct))!;
        Assert.Equal("1.0.0", prompt.Labels["staging"]);
        var audit = await fixture.Server.Services.GetRequiredService<IPromptStore>().ListAuditAsync(new AuditQuery(name), ct);
        Assert.Single(audit, e => e.Action == AuditActions.LabelMoved);
    }

    [Fact]
    public async Task StatusAndLabel_WriterMovesStatusAdminMovesLabel_BothBehindConfirmations()
    {
        await CreatePromptAsync("labels-check");
        var writer = await fixture.OpenAsync(fixture.WriterKey);

        await writer.GotoAsync("/prompts/labels-check");
        Assert.Equal(0, await writer.GetByRole(AriaRole.Link, new() { Name = "Move a label to 1.0.0" }).CountAsync());
        await writer.GetByRole(AriaRole.Link, new() { Name = "Mark 1.0.0 review" }).ClickAsync();
        await Assertions.Expect(writer.GetByText("1.0.0: draft → review")).ToBeVisibleAsync();
        await writer.GetByRole(AriaRole.Button, new() { Name = "Change status" }).ClickAsync();
        await fixture.WaitForPageAsync(writer, "/prompts/labels-check");

        await Assertions.Expect(writer.Locator("td .status")).ToHaveTextAsync("review");
        var admin = await fixture.OpenAsync(fixture.Server.AdminKey);
        await admin.GotoAsync("/prompts/labels-check");
        await admin.GetByRole(AriaRole.Link, new() { Name = "Move a label to 1.0.0" }).ClickAsync();
        await fixture.WaitForPageAsync(admin, new Regex(@"/deploy\?"));
        // Exact: the link just clicked is named "Move a label to 1.0.0", which a substring match would also find.
        await admin.GetByLabel("Label", new() { Exact = true }).FillAsync("staging");
        await admin.GetByRole(AriaRole.Button, new() { Name = "Next" }).ClickAsync();
        await Assertions.Expect(admin.GetByText("staging: none → 1.0.0")).ToBeVisibleAsync();
        await admin.GetByRole(AriaRole.Button, new() { Name = "Move label" }).ClickAsync();
        await fixture.WaitForPageAsync(admin, "/prompts/labels-check");
        await Assertions.Expect(admin.GetByText("staging 1.0.0")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task PromptPage_ShowsWhatItIncludesAndWhatIncludesIt()
    {
        using var api = fixture.Server.CreateClient();
        var ct = TestContext.Current.CancellationToken;
        var options = PromptVault.Core.Contracts.PromptVaultJson.Options;
        (await api.PostAsJsonAsync("/api/prompts", new PromptVault.Core.Contracts.CreatePromptRequest("shared/guard", Content: "Stay polite."), options, ct)).EnsureSuccessStatusCode();
        (await api.PutAsJsonAsync("/api/prompts/shared%2Fguard/labels/production", new { version = "1.0.0" }, options, ct)).EnsureSuccessStatusCode();
        (await api.PostAsJsonAsync("/api/prompts", new PromptVault.Core.Contracts.CreatePromptRequest("support/reply", Content: "Answer.\n{{> shared/guard}}"), options, ct)).EnsureSuccessStatusCode();
        var page = await fixture.OpenAsync(fixture.ReaderKey);

        await page.GotoAsync("/prompts/shared%2Fguard");
        var includedBy = page.Locator("section", new() { Has = page.GetByRole(AriaRole.Heading, new() { Name = "Included by" }) });
        await Assertions.Expect(includedBy.GetByRole(AriaRole.Link, new() { Name = "support/reply" })).ToBeVisibleAsync();
        await Assertions.Expect(includedBy).ToContainTextAsync("as shared/guard@production");
        await page.GotoAsync("/prompts/support%2Freply");
        var includes = page.Locator("section", new() { Has = page.GetByRole(AriaRole.Heading, new() { Name = "This prompt includes" }) });
        await Assertions.Expect(includes.GetByRole(AriaRole.Link, new() { Name = "shared/guard" })).ToBeVisibleAsync();
        await Assertions.Expect(includes).ToContainTextAsync("@production");
        await includes.GetByRole(AriaRole.Link, new() { Name = "shared/guard" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "shared/guard", Level = 1 })).ToBeVisibleAsync();
        Assert.Empty(await fixture.AccessibilityViolationsAsync(page));
    }

    [Fact]
    public async Task Approve_OfferedToOtherKeysNotTheAuthor_PageShowsGateAndApprover()
    {
        using var api = fixture.Server.CreateClient();
        (await api.PostAsJsonAsync("/api/prompts", new PromptVault.Core.Contracts.CreatePromptRequest("approval-check", Content: "Hi", RequireApproval: true),
            PromptVault.Core.Contracts.PromptVaultJson.Options, TestContext.Current.CancellationToken)).EnsureSuccessStatusCode();
        (await api.PostAsJsonAsync("/api/prompts/approval-check/versions/1.0.0/status", new { status = "review" },
            TestContext.Current.CancellationToken)).EnsureSuccessStatusCode();

        var author = await fixture.OpenAsync(fixture.Server.AdminKey);
        await author.GotoAsync("/prompts/approval-check");
        await Assertions.Expect(author.GetByText("requires approval")).ToBeVisibleAsync();
        Assert.Equal(0, await author.GetByRole(AriaRole.Link, new() { Name = "Approve 1.0.0" }).CountAsync());
        var writer = await fixture.OpenAsync(fixture.WriterKey);
        await writer.GotoAsync("/prompts/approval-check");
        await writer.GetByRole(AriaRole.Link, new() { Name = "Approve 1.0.0" }).ClickAsync();
        await Assertions.Expect(writer.GetByText("1.0.0: review → approved")).ToBeVisibleAsync();
        await writer.GetByRole(AriaRole.Button, new() { Name = "Change status" }).ClickAsync();
        await fixture.WaitForPageAsync(writer, "/prompts/approval-check");

        await Assertions.Expect(writer.Locator("td .status")).ToHaveTextAsync("approved");
        await Assertions.Expect(writer.GetByRole(AriaRole.Cell, new() { Name = "wendy-writer", Exact = true })).ToBeVisibleAsync();
    }

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

    /// <summary>The audit page's Change column showed only the fields an entry set: a deletion (webhook.deleted, whose entry has only
    /// before) showed nothing, and a removed label "version: 1.0.0 → " with nothing after the arrow. It says what the CLI's audit says.</summary>
    [Fact]
    public async Task Audit_DeletedWebhookAndRemovedLabel_ChangeSaysWhatWasThere()
    {
        using var api = fixture.Server.CreateClient();
        var ct = TestContext.Current.CancellationToken;
        (await api.PostAsync("/api/prompts", new StringContent("""{"name":"audit/removed","content":"Hi"}""", System.Text.Encoding.UTF8, "application/json"), ct))
            .EnsureSuccessStatusCode();
        (await api.PutAsJsonAsync("/api/prompts/audit%2Fremoved/labels/staging", new { version = "1.0.0" }, ct)).EnsureSuccessStatusCode();
        (await api.DeleteAsync("/api/prompts/audit%2Fremoved/labels/staging", ct)).EnsureSuccessStatusCode();
        var webhook = await api.PostAsJsonAsync("/api/webhooks", new { url = "http://127.0.0.1:1/audited", events = new[] { "version.created" } }, ct);
        var id = (await webhook.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<System.Text.Json.JsonElement>(ct)).GetProperty("id").GetString();
        (await api.DeleteAsync($"/api/webhooks/{id}", ct)).EnsureSuccessStatusCode();
        var page = await fixture.OpenAsync(fixture.ReaderKey);

        await page.GotoAsync("/audit?prompt=audit%2Fremoved&action=label.removed");
        await Assertions.Expect(page.GetByRole(AriaRole.Cell, new() { Name = "version: 1.0.0 → (none)" })).ToBeVisibleAsync();
        await page.GotoAsync("/audit?action=webhook.deleted");
        await Assertions.Expect(page.GetByRole(AriaRole.Cell, new() { Name = "origin was http://127.0.0.1:1" })).ToBeVisibleAsync();
    }

    /// <summary>The audit page showed the newest 1,000 matching entries with a note and no way to see older ones. It still shows 1,000
    /// at first, and "Show more" adds 1,000 more, so the oldest is reached.</summary>
    [Fact]
    public async Task Audit_MoreThanAThousandEntries_ShowMoreReachesTheOldest()
    {
        var actor = "bulk-" + Guid.NewGuid().ToString("N")[..8];
        var start = DateTimeOffset.UtcNow.AddHours(-1);
        var entries = Enumerable.Range(0, 1_001)
            .Select(i => new AuditEntry(0, start.AddSeconds(i), actor, AuditActions.PromptUpdated, null, $"entry-{i}", null, null)).ToList();
        await fixture.Server.Services.GetRequiredService<IPromptStore>().SaveAsync(new PromptChanges { Audit = entries }, TestContext.Current.CancellationToken);
        var page = await fixture.OpenAsync(fixture.ReaderKey);
        var oldest = page.GetByRole(AriaRole.Cell, new() { Name = "entry-0", Exact = true });

        await page.GotoAsync($"/audit?actor={actor}");
        await Assertions.Expect(page.GetByRole(AriaRole.Cell, new() { Name = "entry-1000", Exact = true })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Cell, new() { Name = "entry-1", Exact = true })).ToBeVisibleAsync();
        await Assertions.Expect(oldest).ToHaveCountAsync(0);
        await Assertions.Expect(page.GetByTestId("show-more")).ToContainTextAsync("Showing the newest 1000 of 1001 matching entries.");
        await page.GetByTestId("show-more").GetByRole(AriaRole.Link, new() { Name = "Show 1 more" }).ClickAsync();
        await Assertions.Expect(oldest).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("show-more")).ToHaveCountAsync(0);
        Assert.Contains($"actor={actor}", page.Url);
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

    /// <summary>
    /// A missing prompt or experiment showed a message with status 200, and an address with no page answered the API's JSON
    /// 404 problem to the browser. Each is now the dashboard's not-found page with status 404, which names the missing prompt or
    /// experiment (it said only "no such page, prompt, version or experiment"); the API keeps its JSON problem.
    /// </summary>
    [Fact]
    public async Task MissingPromptExperimentOrAddress_Answers404WithTheNotFoundPage_WhileTheApiKeepsItsProblem()
    {
        var page = await fixture.OpenAsync(fixture.ReaderKey);

        foreach (var (address, named) in new[]
        {
            ("/prompts/no-such-prompt", "prompt 'no-such-prompt' does not exist."), ("/prompts/no-such-prompt?metrics=1.0.0", "prompt 'no-such-prompt' does not exist."),
            ("/experiments/no-such-experiment", "experiment 'no-such-experiment' does not exist."), ("/nope", null), ("/prompts/a/b/c", null),
        })
        {
            var response = await page.GotoAsync(address);
            Assert.True(response!.Status == (int)HttpStatusCode.NotFound, $"{address}: {response.Status}");
            Assert.True((await response.HeaderValueAsync("content-type"))?.StartsWith("text/html", StringComparison.Ordinal) == true, $"{address}: {await response.HeaderValueAsync("content-type")} {await response.TextAsync()}");
            await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Not found", Level = 1 })).ToBeVisibleAsync();
            if (named is null) await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToHaveCountAsync(0); // no page: nothing to name
            else await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync(named);
        }
        Assert.Empty(await fixture.AccessibilityViolationsAsync(page));

        using var api = fixture.Server.CreateClient();
        var missingRoute = await api.GetAsync("/api/nope", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, missingRoute.StatusCode);
        Assert.Equal("application/problem+json", missingRoute.Content.Headers.ContentType?.MediaType);
        var forbidden = await page.GotoAsync("/playground");
        Assert.Equal((int)HttpStatusCode.Forbidden, forbidden!.Status);
    }

    /// <summary>
    /// The editor, compare, compare-runs, deploy and change-status pages answered a missing prompt or version with status 200
    /// and the registry's message; they now answer as the prompt page does: 404 with the dashboard's not-found page naming the
    /// missing prompt or version. A compare page's missing version was named next to its input with status 200; it is now
    /// such a page too (the framework sends no content of a page of its own with 404).
    /// </summary>
    [Fact]
    public async Task PagesOfAMissingPromptOrVersion_Answer404NamingIt()
    {
        await CreatePromptAsync("not-found-check");
        var page = await fixture.OpenAsync(fixture.Server.AdminKey);

        foreach (var (prompt, version) in new[] { ("no-such-prompt", "1.0.0"), ("not-found-check", "9.9.9") })
        {
            foreach (var address in new[]
            {
                $"/prompts/{prompt}/edit", $"/prompts/{prompt}/compare?a=1.0.0&b={version}", $"/prompts/{prompt}/evaluations?a=1.0.0&b={version}",
                $"/prompts/{prompt}/deploy?action=promote&version={version}", $"/prompts/{prompt}/status?version={version}&status=review",
            })
            {
                if (address.EndsWith("/edit", StringComparison.Ordinal) && prompt != "no-such-prompt") continue; // the editor names no version
                var response = await page.GotoAsync(address);
                Assert.True(response!.Status == (int)HttpStatusCode.NotFound, $"{address}: {response.Status} {await page.Locator("body").InnerTextAsync()}");
                var named = prompt == "no-such-prompt" ? $"prompt '{prompt}' does not exist." : $"prompt '{prompt}' has no version '{version}'.";
                await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Not found", Level = 1 })).ToBeVisibleAsync();
                await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync(named);
            }
        }
        // The prompt that exists still opens in each page.
        foreach (var address in new[] { "/prompts/not-found-check/edit", "/prompts/not-found-check/compare", "/prompts/not-found-check/evaluations",
                     "/prompts/not-found-check/deploy?action=promote&version=1.0.0", "/prompts/not-found-check/status?version=1.0.0&status=review" })
            Assert.True((await page.GotoAsync(address))!.Status == (int)HttpStatusCode.OK, address);
    }

    /// <summary>
    /// The audit and playground pages answered <c>?prompt=</c> naming a missing prompt with status 200: the audit page with the
    /// message where its log would be, the playground with an empty page and the message by its input. They now answer as the
    /// prompt page does: 404 with the not-found page naming the prompt. A prompt that exists still opens in each.
    /// </summary>
    [Fact]
    public async Task AuditAndPlayground_OfAMissingPrompt_Answer404NamingIt()
    {
        await CreatePromptAsync("query-prompt-check");
        var page = await fixture.OpenAsync(fixture.Server.AdminKey);

        foreach (var path in new[] { "/audit", "/playground" })
        {
            var response = await page.GotoAsync($"{path}?prompt=no-such-prompt");
            Assert.True(response!.Status == (int)HttpStatusCode.NotFound, $"{path}: {response.Status} {await page.Locator("body").InnerTextAsync()}");
            await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Not found", Level = 1 })).ToBeVisibleAsync();
            await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync("prompt 'no-such-prompt' does not exist.");

            Assert.True((await page.GotoAsync($"{path}?prompt=query-prompt-check"))!.Status == (int)HttpStatusCode.OK, path);
            await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).Not.ToHaveTextAsync("Not found");
        }
    }

    /// <summary>
    /// A version holding U+0000 in a compare page's address reached the store (on PostgreSQL an Npgsql fault, not a message);
    /// the registry now refuses it as invalid text and the page names it next to its input, answering 400, as the pickers
    /// of prompts always did (one rule in <c>Choice</c>).
    /// </summary>
    [Fact]
    public async Task ComparePages_AVersionHoldingNul_IsNamedNextToItsInput()
    {
        await CreatePromptAsync("nul-version-check");
        var page = await fixture.OpenAsync(fixture.Server.AdminKey);
        foreach (var path in new[] { "compare", "evaluations" })
        {
            var response = await page.GotoAsync($"/prompts/nul-version-check/{path}?a=1.0.0&b=1.0%000");
            Assert.True(response!.Status == (int)HttpStatusCode.BadRequest, $"{path}: {response.Status} {await page.Locator("body").InnerTextAsync()}");
            await Assertions.Expect(page.Locator("#b-error")).ToContainTextAsync("U+0000");
            await Assertions.Expect(page.Locator("#a-error")).ToHaveCountAsync(0);
        }
    }

    /// <summary>
    /// The deploy and change-status pages looked the version up before reading the rest of their address: a missing version
    /// answered 404 "no version ''", and a bad action or status 200 with a message. They now check the address first and
    /// answer 400 naming the parameter.
    /// </summary>
    [Fact]
    public async Task DeployAndStatusPages_AMissingOrBadQueryParameter_Answer400NamingIt()
    {
        await CreatePromptAsync("bad-query-check");
        var page = await fixture.OpenAsync(fixture.Server.AdminKey);

        foreach (var (address, named) in new[]
        {
            ("/prompts/bad-query-check/deploy?action=promote", "no version"),
            ("/prompts/bad-query-check/deploy?action=launch&version=1.0.0", "action must be promote, rollback or label, not 'launch'"),
            ("/prompts/bad-query-check/deploy?version=1.0.0", "action must be"),
            ("/prompts/bad-query-check/deploy?action=label&version=1.0.0&label=BAD!", "label 'BAD!' is invalid"),
            ("/prompts/bad-query-check/status?status=review", "no version"),
            ("/prompts/bad-query-check/status?version=1.0.0&status=gone", "status must be one of"),
            ("/prompts/bad-query-check/status?version=1.0.0", "status must be one of"),
            ("/prompts/bad-query-check/status?version=1.0.0&status=production", "Entering production is a promote"),
        })
        {
            var response = await page.GotoAsync(address);
            Assert.True(response!.Status == (int)HttpStatusCode.BadRequest, $"{address}: {response.Status} {await page.Locator("body").InnerTextAsync()}");
            await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync(named);
        }
    }

    /// <summary>The not-found page opened at its own address answered 200; it answers 404 wherever it is shown.</summary>
    [Fact]
    public async Task NotFoundPage_OpenedAtItsOwnAddress_Answers404()
    {
        var page = await fixture.OpenAsync(fixture.Server.AdminKey);
        Assert.Equal((int)HttpStatusCode.NotFound, (await page.GotoAsync("/not-found"))!.Status);
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Not found", Level = 1 })).ToBeVisibleAsync();
    }

    /// <summary>
    /// An editor's unsaved draft was lost without a word when a header link was clicked: the links are in the static layout,
    /// whose enhanced navigation no interactive component's NavigationLock sees. A changed draft now asks before a link or
    /// an unload leaves it, and staying keeps the draft; an unchanged one leaves without asking.
    /// </summary>
    [Fact]
    public async Task ChangedEditor_AsksBeforeALinkOrAnUnloadLeavesIt_AnUnchangedOneLeavesWithoutAsking()
    {
        await CreatePromptAsync("leave-check");
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
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
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
        await CreatePromptAsync("blank-click-focus");
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

    /// <summary>Creates a prompt whose 1.0.0 says "Hi", through the API.</summary>
    private async Task CreatePromptAsync(string name)
    {
        using var api = fixture.Server.CreateClient();
        (await api.PostAsJsonAsync("/api/prompts", new PromptVault.Core.Contracts.CreatePromptRequest(name, Content: "Hi"),
            PromptVault.Core.Contracts.PromptVaultJson.Options, TestContext.Current.CancellationToken)).EnsureSuccessStatusCode();
    }

    /// <summary>
    /// The pages had no <c>#blazor-error-ui</c>, so when an interactive page's circuit failed nothing said so: the page
    /// just stopped answering. No failure can be provoked from the browser, so this checks the banner blazor.web.js shows:
    /// there, hidden until then, with a Reload link.
    /// </summary>
    [Fact]
    public async Task EveryPage_HasTheHiddenErrorBannerWithAReloadLink()
    {
        var page = await fixture.OpenAsync(fixture.ReaderKey);
        await page.GotoAsync("/");

        var banner = page.Locator("#blazor-error-ui");
        await Assertions.Expect(banner).ToBeAttachedAsync();
        await Assertions.Expect(banner).ToBeHiddenAsync();
        await Assertions.Expect(banner.GetByRole(AriaRole.Link, new() { Name = "Reload", IncludeHidden = true })).ToHaveAttributeAsync("class", "reload");
    }
}
