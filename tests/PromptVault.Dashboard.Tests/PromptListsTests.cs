using System.Net.Http.Json;
using Microsoft.Playwright;
using PromptVault.Core.Storage;
using PromptVault.Server.Tests;

namespace PromptVault.Dashboard.Tests;

/// <summary>The lists of prompts with a few hundred of them: a server of its own, so no other test's prompt is paged away.</summary>
public sealed class PromptListsTests(DashboardFixture fixture) : DashboardTest
{
    /// <summary>
    /// The prompts page, the playground and the new experiment page read every prompt of the registry: the page listed them
    /// all and each picker had one option per prompt. The page now shows the first 100 by name with "Show more" (its search
    /// matched in the store), and the pickers suggest the first 100 and take any other name typed, naming a missing one.
    /// The pickers suggested the first 100 names whatever was typed; they now suggest the first 100 that contain the text typed.
    /// </summary>
    [Fact]
    public async Task PromptLists_250Prompts_ThePagePages_ThePickersSuggestAHundredMatchingWhatIsTyped()
    {
        var ct = TestContext.Current.CancellationToken;
        using (var api = fixture.Server.CreateClient())
            for (var i = 0; i < 250; i++)
                (await api.PostAsJsonAsync("/api/prompts", new { name = $"list-{i:000}", content = $"text {i}" }, ct)).EnsureSuccessStatusCode();
        var page = await fixture.OpenAsync(fixture.Server.AdminKey);

        await page.GotoAsync("/");
        await Assertions.Expect(page.GetByTestId("show-more")).ToContainTextAsync("Showing the first 100 of 250 prompts.");
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "list-099", Exact = true })).ToBeVisibleAsync();
        Assert.DoesNotContain("list-100", await page.ContentAsync());
        await page.GetByRole(AriaRole.Link, new() { Name = "Show 100 more" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "list-199", Exact = true })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("show-more")).ToContainTextAsync("Showing the first 200 of 250 prompts.");
        await page.GotoAsync("/?q=LIST-24");
        await Assertions.Expect(page.GetByText("10 prompts")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "list-249", Exact = true })).ToBeVisibleAsync();

        await page.GotoAsync("/playground");
        await page.Locator("[data-interactive=yes]:has(#prompt)").WaitForAsync();
        await Assertions.Expect(page.Locator("#prompt-suggested option")).ToHaveCountAsync(PageRequest.DefaultLimit);
        Assert.DoesNotContain("list-249", await page.ContentAsync());
        await TypeAsync(page, "Prompt", "st-24");
        await Assertions.Expect(page.Locator("#prompt-suggested option")).ToHaveCountAsync(10);
        await Assertions.Expect(page.Locator("#prompt-suggested option[value='list-249']")).ToHaveCountAsync(1);
        await ChooseAsync(page, "Prompt", "list-249");
        await Assertions.Expect(page.GetByLabel("Version B")).ToHaveValueAsync("1.0.0");
        await page.GetByRole(AriaRole.Button, new() { Name = "Run" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("render").First).ToHaveTextAsync("text 249");
        await ChooseAsync(page, "Prompt", "list-nope");
        await Assertions.Expect(page.Locator("#prompt-error")).ToContainTextAsync("list-nope");
        await Assertions.Expect(page.GetByLabel("Version B")).ToHaveCountAsync(0);

        await page.GotoAsync("/experiments/new");
        await page.Locator("[data-interactive=yes]").WaitForAsync();
        await Assertions.Expect(page.Locator("#exp-prompt-suggested option")).ToHaveCountAsync(PageRequest.DefaultLimit);
        Assert.DoesNotContain("list-249", await page.ContentAsync());
        await TypeAsync(page, "Prompt", "LIST-1");
        await Assertions.Expect(page.Locator("#exp-prompt-suggested option")).ToHaveCountAsync(PageRequest.DefaultLimit);
        await Assertions.Expect(page.Locator("#exp-prompt-suggested option[value='list-199']")).ToHaveCountAsync(1);
        await ChooseAsync(page, "Prompt", "list-249");
        await Assertions.Expect(page.Locator("#variant-0-version-suggested option")).ToHaveCountAsync(1);
        await ChooseAsync(page, "Prompt", "list-nope");
        await Assertions.Expect(page.Locator("#exp-prompt-error")).ToContainTextAsync("list-nope");
        await Assertions.Expect(page.Locator("#variant-0-version-suggested option")).ToHaveCountAsync(0);
    }

    /// <summary>
    /// A fresh install's prompts page said "No prompts match." with no search made; it now says there are none yet and how to
    /// make one. And an address with a <c>?shown=</c> (or <c>?expired=</c>, <c>?ended=</c>) Blazor could not parse as the
    /// number (or true/false) it was bound as answered every page with a 500 and a JSON problem; those pages now show.
    /// </summary>
    [Fact]
    public async Task FreshInstall_SaysHowToStart_AndAnUnparsableShownOrFlagStillShowsThePage()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await RunningServer.StartAsync(new ServerSetup([]), ct);
        var page = await fixture.OpenAsync(server.AdminKey, server: server);

        await page.GotoAsync("/");
        await Assertions.Expect(page.GetByTestId("no-prompts")).ToContainTextAsync("No prompts yet. Create one with New prompt");
        await page.GotoAsync("/?q=nothing");
        await Assertions.Expect(page.GetByText("No prompts match.")).ToBeVisibleAsync();
        await page.GotoAsync("/audit");
        await Assertions.Expect(page.GetByText("1 matching entry.")).ToBeVisibleAsync(); // the admin key's creation; it said "1 matching entries."
        // An unknown type was dropped, listing every type; it is refused by name, as the API refuses it.
        await page.GotoAsync("/?type=zzz");
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("type 'zzz' is not one of");

        using (var api = server.CreateClient())
            (await api.PostAsJsonAsync("/api/prompts", new { name = "shown-check", content = "text" }, ct)).EnsureSuccessStatusCode();
        foreach (var (path, heading) in new[] { ("/?shown=abc&expired=yes", "Prompts"), ("/audit?shown=x", "Audit log"), ("/experiments?shown=1e9", "Experiments"),
            ("/prompts/shown-check?shown=12.5", "shown-check") })
        {
            var response = await page.GotoAsync(path);
            Assert.True(response!.Status == 200, $"{path} answered {response.Status}: {await response.TextAsync()}");
            await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = heading, Level = 1 })).ToBeVisibleAsync();
        }
        var signIn = await fixture.OpenAsync(null, server: server);
        Assert.Equal(200, (await signIn.GotoAsync("/login?ended=yes"))!.Status);
        await Assertions.Expect(signIn.GetByLabel("API key")).ToBeVisibleAsync();
    }

    /// <summary>Types into the field without leaving it: the value is not chosen yet.</summary>
    private static Task TypeAsync(IPage page, string label, string value) => page.GetByLabel(label, new() { Exact = true }).FillAsync(value);

    private static async Task ChooseAsync(IPage page, string label, string value)
    {
        var input = page.GetByLabel(label, new() { Exact = true });
        await input.FillAsync(value);
        await input.BlurAsync();
    }
}
