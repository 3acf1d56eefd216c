using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using PromptVault.Core.Contracts;
using PromptVault.Core.Prompts;

namespace PromptVault.Dashboard.Tests;

/// <summary>The prompt page shows the selected version's tools and response format.</summary>
public sealed class ToolsViewTests(DashboardFixture fixture) : DashboardTest
{
    [Fact]
    public async Task PromptPage_VersionWithTools_ShowsEachToolAndTheResponseFormat()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        using var api = fixture.Server.CreateClient();
        var metadata = new PromptMetadata
        {
            Tools = [new ToolDefinition("lookup_order", "Finds an order by its id", JsonElement.Parse("""{"type":"object","properties":{"orderId":{"type":"string"}}}"""))],
            ResponseFormat = JsonElement.Parse("""{"type":"object","properties":{"reply":{"type":"string"}}}"""),
        };
        (await api.PostAsJsonAsync("/api/prompts", new CreatePromptRequest("orders/assistant", Content: "Help with orders"), PromptVaultJson.Options, cancellationToken))
            .EnsureSuccessStatusCode();
        (await api.PostAsJsonAsync("/api/prompts/orders%2Fassistant/versions", new CreateVersionRequest("Help with orders", Metadata: metadata, ChangeDescription: "Tools"),
            PromptVaultJson.Options, cancellationToken)).EnsureSuccessStatusCode();
        var page = await fixture.OpenAsync(fixture.WriterKey);

        await page.GotoAsync("/prompts/orders%2Fassistant?metrics=1.0.1");
        var tools = page.GetByRole(AriaRole.Table, new() { Name = "Tools of 1.0.1" });
        await Assertions.Expect(tools.GetByRole(AriaRole.Cell, new() { Name = "lookup_order", Exact = true })).ToBeVisibleAsync();
        await Assertions.Expect(tools.GetByRole(AriaRole.Cell, new() { Name = "Finds an order by its id" })).ToBeVisibleAsync();
        await Assertions.Expect(tools.Locator("pre")).ToContainTextAsync("\"orderId\"");
        await Assertions.Expect(page.GetByTestId("response-format")).ToContainTextAsync("\"reply\"");
        Assert.Empty(await fixture.AccessibilityViolationsAsync(page));

        await page.GotoAsync("/prompts/orders%2Fassistant?metrics=1.0.0");
        await Assertions.Expect(page.GetByText("Version 1.0.0 has no tools and answers in free text.")).ToBeVisibleAsync();
    }
}
