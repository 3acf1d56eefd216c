using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using PromptVault.Core.Audit;
using PromptVault.Core.Storage;

namespace PromptVault.Dashboard.Tests;

/// <summary>The prompt pages end to end: many versions, create, save, compare, promote, roll back, deploy, status, approve, audit; and a reader's limits.</summary>
public sealed class PromptPagesTests(DashboardFixture fixture) : DashboardTest
{
    /// <summary>
    /// Every version list read the newest 100 versions only, with no way to see more: with 150, 1.0.0 was in no table and no
    /// selector. The version table now shows 100 more per "Show more", and each selector of a version offers them all.
    /// </summary>
    [Fact]
    public async Task Prompt_150Versions_TheFirstCanBeReachedEverywhere()
    {
        var ct = TestContext.Current.CancellationToken;
        var name = await DashboardFixture.CreateVersionsAsync(fixture.Server, "many-", 150);
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
        var name = await DashboardFixture.CreateVersionsAsync(fixture.Server, "long-", 300);
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
        var name = await DashboardFixture.CreateVersionsAsync(fixture.Server, "cmp-", 300);
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
        await page.GotoAsync("/");

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
        var name = await DashboardFixture.CreateVersionsAsync(fixture.Server, "stale-", 3);
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
        var name = await DashboardFixture.CreateVersionsAsync(fixture.Server, "first-deploy-", 2);
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
        await fixture.CreatePromptAsync("labels-check");
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

    /// <summary>At 390 px the compare page's metrics table scrolls sideways in a region the keyboard could not reach, as it holds
    /// no link or button (axe: scrollable-region-focusable, serious); such regions now take the focus and are named.</summary>
    [Fact]
    public async Task Compare_Narrow_MetricsTableScrollsFromTheKeyboard()
    {
        await fixture.CreatePromptAsync("compare/narrow");
        using var api = fixture.Server.CreateClient();
        (await api.PostAsJsonAsync("/api/prompts/compare%2Fnarrow/versions", new { content = "Hello", changeDescription = "Second" }, TestContext.Current.CancellationToken))
            .EnsureSuccessStatusCode();
        var page = await fixture.OpenAsync(fixture.ReaderKey, width: 390);

        await page.GotoAsync("/prompts/compare%2Fnarrow/compare?a=1.0.0&b=1.0.1");

        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Metrics (all time)" })).ToBeVisibleAsync();
        Assert.Empty(await fixture.AccessibilityViolationsAsync(page));
        await Assertions.Expect(page.GetByRole(AriaRole.Region, new() { Name = "Metrics of 1.0.0 and 1.0.1" })).ToBeVisibleAsync();
    }

    /// <summary>A change description without spaces (or an id of 32 characters) made the audit table wider than a 1280 px
    /// page, so the Change column ran out of sight behind a scroll bar; the Subject and Change cells now break such text.</summary>
    [Fact]
    public async Task Audit_UnbrokenChangeText_TableFitsTheWidePage()
    {
        await fixture.CreatePromptAsync("audit/wide");
        using var api = fixture.Server.CreateClient();
        var unspaced = string.Concat(Enumerable.Repeat("Reworded", 15));
        (await api.PostAsJsonAsync("/api/prompts/audit%2Fwide/versions", new { content = "Hello", changeDescription = unspaced }, TestContext.Current.CancellationToken))
            .EnsureSuccessStatusCode();
        var page = await fixture.OpenAsync(fixture.ReaderKey);

        await page.GotoAsync("/audit?prompt=audit%2Fwide");
        await Assertions.Expect(page.GetByText("3 matching entries.")).ToBeVisibleAsync();
        var widths = await page.Locator(".table-wrap").EvaluateAsync<int[]>("wrap => [wrap.scrollWidth, wrap.clientWidth]");
        Assert.True(widths[0] <= widths[1], $"the table is {widths[0]} px wide in {widths[1]} px");
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
