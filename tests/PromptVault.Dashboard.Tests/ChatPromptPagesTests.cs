using Microsoft.Playwright;

namespace PromptVault.Dashboard.Tests;

/// <summary>A chat prompt (SPEC §7) in the browser: created with its messages, edited with a live preview of the rendered messages, viewed.</summary>
public sealed class ChatPromptPagesTests(DashboardFixture fixture) : DashboardTest
{
    [Fact]
    public async Task ChatPrompt_CreateEditSaveView_WorksInTheBrowser()
    {
        var page = await fixture.OpenAsync(fixture.Server.AdminKey);

        await page.GotoAsync("/new");
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("chat/assistant");
        await page.GetByLabel("Type").SelectOptionAsync("Chat");
        await page.GetByLabel("Template").FillAsync("## system\n\nYou help {{company}}.\n\n## placeholder: history\n\n## user\n\n{{question}}");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create prompt" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "chat/assistant" })).ToBeVisibleAsync();
        var messages = page.Locator("ol.messages li");
        await Assertions.Expect(messages).ToHaveCountAsync(3);
        await Assertions.Expect(messages.Nth(0)).ToContainTextAsync("You help {{company}}.");
        await Assertions.Expect(messages.Nth(1)).ToContainTextAsync("the messages of history");

        await page.GotoAsync("/prompts/chat%2Fassistant/edit");
        await page.Locator("[data-interactive=yes]").WaitForAsync();
        var preview = page.GetByTestId("preview");
        await page.GetByLabel("Test value for company (string)").FillAsync("Acme");
        await page.GetByLabel("Test value for history (array)").FillAsync("""[{"role":"assistant","content":"Hi!"}]""");
        await page.GetByLabel("Test value for question (string)").FillAsync("Where is my parcel?");
        await Assertions.Expect(preview).ToHaveTextAsync("## system\n\nYou help Acme.\n\n## assistant\n\nHi!\n\n## user\n\nWhere is my parcel?\n");
        await page.GetByLabel("Messages", new() { Exact = true }).FillAsync("## system\n\nYou help {{company}} kindly.\n\n## placeholder: history\n\n## user\n\n{{question}}");
        await Assertions.Expect(page.GetByTestId("bump")).ToHaveTextAsync("1.0.0 → 1.0.1 (patch)");
        await Assertions.Expect(preview).ToContainTextAsync("You help Acme kindly.");
        await page.GetByLabel("Change description").FillAsync("Kinder");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save version" }).ClickAsync();
        await fixture.WaitForPageAsync(page, "/prompts/chat%2Fassistant");

        await Assertions.Expect(page.GetByRole(AriaRole.Cell, new() { Name = "1.0.1", Exact = true })).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("ol.messages li").Nth(0)).ToContainTextAsync("You help {{company}} kindly.");
        Assert.Empty(await fixture.AccessibilityViolationsAsync(page));
    }
}
