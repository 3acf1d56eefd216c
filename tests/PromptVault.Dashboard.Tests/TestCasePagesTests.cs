using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using PromptVault.Core.Contracts;
using PromptVault.Core.Prompts;

namespace PromptVault.Dashboard.Tests;

/// <summary>A version's test cases on its page: edit and save them, run them, read the latest run; and two versions' runs compared.</summary>
public sealed class TestCasePagesTests(DashboardFixture fixture) : DashboardTest
{
    [Fact]
    public async Task VersionPage_EditSaveAndRunTests_ThenCompareTwoVersionsRuns()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        var name = "tested-" + Guid.NewGuid().ToString("N")[..8];
        using var api = fixture.Server.CreateClient();
        var variables = new[] { new VariableDefinition("customer", VariableType.String, Required: true) };
        (await api.PostAsJsonAsync("/api/prompts", new CreatePromptRequest(name, Content: "Hello {{customer}}!", Variables: variables),
            PromptVaultJson.Options, cancellationToken)).EnsureSuccessStatusCode();
        var page = await fixture.OpenAsync(fixture.WriterKey);

        await page.GotoAsync($"/prompts/{name}");
        await page.Locator("[data-testid=tests][data-interactive=yes]").WaitForAsync();
        await Assertions.Expect(page.GetByTestId("no-run")).ToContainTextAsync("1.0.0 has not been evaluated yet");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add case" }).ClickAsync();
        var first = page.GetByRole(AriaRole.Group, new() { Name = "Case 1", Exact = true });
        await first.GetByLabel("Case name").FillAsync("greets Ada");
        await first.GetByLabel("Variables (JSON)").FillAsync("""{"customer": "Ada"}""");
        await first.GetByLabel("Value").FillAsync("Hello Ada");
        await first.GetByRole(AriaRole.Button, new() { Name = "Add a check to case 1" }).ClickAsync();

        // The second check has no value: refused, naming the case and the field, and nothing is stored. Each save announces the
        // error once (a new alert element), the same error again too.
        var error = page.GetByTestId("tests-error");
        await DashboardFixture.CountInsertionsAsync(page, "[data-testid=tests-error]");
        foreach (var saves in new[] { 1, 2 })
        {
            await page.GetByRole(AriaRole.Button, new() { Name = "Save tests" }).FocusAsync();
            await page.Keyboard.PressAsync("Enter");
            await DashboardFixture.ExpectInsertionsAsync(page, saves);
            await DashboardFixture.ExpectAnnouncedOnceAsync(page, error, "Case 'greets Ada' (tests[0].expect[1].value)");
        }
        Assert.Empty((await TestsAsync(api, name, "1.0.0")).AsArray());

        await first.GetByRole(AriaRole.Button, new() { Name = "Remove check 2 of case 1" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Save tests" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("tests-saved")).ToHaveTextAsync("Saved 1 test case of 1.0.0.");
        var stored = Assert.Single((await TestsAsync(api, name, "1.0.0")).AsArray())!;
        Assert.Equal("greets Ada", (string?)stored["name"]);
        Assert.Equal("Ada", (string?)stored["variables"]!["customer"]);

        // Run them: the latest run shows its status, each case and each check's verdict.
        await page.GetByRole(AriaRole.Button, new() { Name = "Run tests" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("run-status")).ToContainTextAsync("passed");
        await Assertions.Expect(page.GetByTestId("run-case")).ToContainTextAsync("greets Ada");
        await Assertions.Expect(page.GetByTestId("run-case")).ToContainTextAsync("contains passed");
        await DashboardFixture.ScreenshotAsync(page, "version-tests");
        Assert.Empty(await fixture.AccessibilityViolationsAsync(page));

        // 1.0.1 carries the case forward and fails it; the comparison highlights the regression.
        (await api.PostAsJsonAsync($"/api/prompts/{name}/versions", new CreateVersionRequest("Hi {{customer}}!", ChangeDescription: "Shorter"),
            PromptVaultJson.Options, cancellationToken)).EnsureSuccessStatusCode();
        (await api.PostAsync($"/api/prompts/{name}/versions/1.0.1/evaluate", null, cancellationToken)).EnsureSuccessStatusCode();
        await page.GotoAsync($"/prompts/{name}");
        await page.GetByRole(AriaRole.Link, new() { Name = "Compare test runs" }).ClickAsync();
        var row = page.GetByTestId("case-row");
        await Assertions.Expect(row).ToHaveClassAsync("regressed");
        await Assertions.Expect(row.GetByTestId("change")).ToHaveTextAsync("passed → failed");
        await Assertions.Expect(row).ToContainTextAsync("does not contain");
        await Assertions.Expect(page.GetByText("1 case passed in 1.0.0 and fails in 1.0.1.")).ToBeVisibleAsync();
        await DashboardFixture.ScreenshotAsync(page, "compare-runs");
        Assert.Empty(await fixture.AccessibilityViolationsAsync(page));
    }

    /// <summary>
    /// Test cases being written were lost without a word when a link left the version page. It now asks while the cases differ
    /// from the saved ones, and not once they are saved.
    /// </summary>
    [Fact]
    public async Task VersionPage_AsksBeforeLeavingUnsavedTestCases_NotOnceSaved()
    {
        var name = await CreateHelloAsync("leave-tests-");
        var page = await fixture.OpenAsync(fixture.WriterKey);
        var dialogs = DashboardFixture.DismissDialogs(page);
        var tests = page.Locator("[data-testid=tests][data-interactive=yes]");

        await page.GotoAsync($"/prompts/{name}");
        await tests.WaitForAsync();
        await Assertions.Expect(tests).Not.ToHaveAttributeAsync("data-unsaved", "yes");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add case" }).ClickAsync();
        await page.GetByLabel("Value").FillAsync("Hello");
        await Assertions.Expect(tests).ToHaveAttributeAsync("data-unsaved", "yes"); // the circuit has the case
        await DashboardFixture.ClickExperimentsAsync(page);
        Assert.Equal(["confirm"], dialogs);
        await Assertions.Expect(page.GetByLabel("Value")).ToHaveValueAsync("Hello");

        await page.GetByRole(AriaRole.Button, new() { Name = "Save tests" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("tests-saved")).ToHaveTextAsync("Saved 1 test case of 1.0.0.");
        await Assertions.Expect(tests).Not.ToHaveAttributeAsync("data-unsaved", "yes");
        await DashboardFixture.ClickExperimentsAsync(page);
        await fixture.WaitForPageAsync(page, "/experiments");
        Assert.Equal(["confirm"], dialogs);
    }

    /// <summary>
    /// "Run tests" runs the saved cases, but it was enabled by the rows on screen: a case typed and not saved enabled it (the run
    /// had nothing to run), and removing the saved cases' rows disabled it. It now follows the saved cases, and says a run uses
    /// only those while the rows differ.
    /// </summary>
    [Fact]
    public async Task VersionPage_RunTestsFollowsTheSavedCases_NotTheRowsOnScreen()
    {
        var name = await CreateHelloAsync("run-saved-");
        var page = await fixture.OpenAsync(fixture.WriterKey);
        var run = page.GetByRole(AriaRole.Button, new() { Name = "Run tests" });

        await page.GotoAsync($"/prompts/{name}");
        await page.Locator("[data-testid=tests][data-interactive=yes]").WaitForAsync();
        await Assertions.Expect(run).ToBeDisabledAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Add case" }).ClickAsync();
        await page.GetByLabel("Value").FillAsync("Hello");
        await Assertions.Expect(page.GetByTestId("run-note")).ToHaveTextAsync("A run uses the saved cases only: save tests to run your edits.");
        await Assertions.Expect(run).ToBeDisabledAsync(); // nothing saved to run

        await page.GetByRole(AriaRole.Button, new() { Name = "Save tests" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("tests-saved")).ToHaveTextAsync("Saved 1 test case of 1.0.0.");
        await Assertions.Expect(page.GetByTestId("run-note")).ToHaveTextAsync("Runs the saved cases.");
        await page.GetByRole(AriaRole.Button, new() { Name = "Remove case 1" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("run-note")).ToHaveTextAsync("A run uses the saved cases only: save tests to run your edits.");
        await run.ClickAsync(); // the saved case still runs
        await Assertions.Expect(page.GetByTestId("run-status")).ToContainTextAsync("passed");
        await Assertions.Expect(page.GetByTestId("run-stale")).ToHaveCountAsync(0);

        // Saving other cases makes that passed run one of earlier cases: the page says so, as the requireTests gate would.
        await page.GetByRole(AriaRole.Button, new() { Name = "Add case" }).ClickAsync();
        await page.GetByLabel("Value").FillAsync("Hello again");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save tests" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("run-stale")).ToHaveTextAsync("Tests changed since this run — run them again.");
        await page.ReloadAsync();
        await Assertions.Expect(page.GetByTestId("run-stale")).ToHaveTextAsync("Tests changed since this run — run them again.");
        await page.Locator("[data-testid=tests][data-interactive=yes]").WaitForAsync();
        await run.ClickAsync();
        await Assertions.Expect(page.GetByTestId("run-stale")).ToHaveCountAsync(0);
    }

    /// <summary>
    /// A check switched to judge kept sending the value typed before and the render target, both of which the save refuses for a
    /// check of the model's answer alone: the page hides a judge's or jsonSchema's value and target, and sends target output.
    /// </summary>
    [Fact]
    public async Task VersionPage_CheckSwitchedToJudge_HidesAndDropsItsValue_AndSaves()
    {
        var name = await CreateHelloAsync("judge-");
        using var api = fixture.Server.CreateClient();
        var page = await fixture.OpenAsync(fixture.WriterKey);

        await page.GotoAsync($"/prompts/{name}");
        await page.Locator("[data-testid=tests][data-interactive=yes]").WaitForAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Add case" }).ClickAsync();
        var check = page.GetByRole(AriaRole.Group, new() { Name = "Check 1 of case 1" });
        await check.GetByLabel("Value").FillAsync("Hello");
        await check.GetByLabel("Check", new() { Exact = true }).SelectOptionAsync("judge");
        await Assertions.Expect(check.GetByLabel("Value")).ToHaveCountAsync(0);
        await Assertions.Expect(check.GetByLabel("Checks the")).ToHaveCountAsync(0);
        await check.GetByLabel("Rubric").FillAsync("Is it polite?");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save tests" }).ClickAsync();

        await Assertions.Expect(page.GetByTestId("tests-saved")).ToHaveTextAsync("Saved 1 test case of 1.0.0.");
        var stored = Assert.Single((await TestsAsync(api, name, "1.0.0")).AsArray())!["expect"]![0]!;
        Assert.Equal("judge", (string?)stored["type"]);
        Assert.Equal("Is it polite?", (string?)stored["rubric"]);
        Assert.Equal("output", (string?)stored["target"]);
        Assert.Null(stored["value"]);
    }

    /// <summary>
    /// A refused run's error was a plain alert that never took the keyboard's focus, so a keyboard or screen reader user pressing
    /// Run tests was not taken to it. It is now a FormError: each refused run focuses it once, the same error again too.
    /// </summary>
    [Fact]
    public async Task VersionPage_RefusedRun_AnnouncesItsErrorOncePerTry()
    {
        var name = await CreateHelloAsync("run-refused-");
        using var api = fixture.Server.CreateClient();
        await SetTestsAsync(api, name, """{ "tests": [ { "name": "says hello", "expect": [ { "type": "contains", "value": "Hello" } ] } ] }""");
        var page = await fixture.OpenAsync(fixture.WriterKey);
        await page.GotoAsync($"/prompts/{name}");
        await page.Locator("[data-testid=tests][data-interactive=yes]").WaitForAsync();
        // The cases are removed behind the page's back: the button still follows the one it read, and the run is refused.
        await SetTestsAsync(api, name, """{ "tests": [] }""");

        var error = page.GetByTestId("tests-run-error");
        await DashboardFixture.CountInsertionsAsync(page, "[data-testid=tests-run-error]");
        foreach (var runs in new[] { 1, 2 })
        {
            await page.GetByRole(AriaRole.Button, new() { Name = "Run tests" }).FocusAsync();
            await page.Keyboard.PressAsync("Enter");
            await DashboardFixture.ExpectInsertionsAsync(page, runs);
            await DashboardFixture.ExpectAnnouncedOnceAsync(page, error, "has no test cases");
        }
        await Assertions.Expect(page.GetByTestId("no-run")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task VersionPage_Reader_SeesTestsButCannotChangeOrRunThem()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        var name = "read-tests-" + Guid.NewGuid().ToString("N")[..8];
        using var api = fixture.Server.CreateClient();
        (await api.PostAsJsonAsync("/api/prompts", new CreatePromptRequest(name, Content: "Hello!"), PromptVaultJson.Options, cancellationToken)).EnsureSuccessStatusCode();
        (await api.PutAsJsonAsync($"/api/prompts/{name}/versions/1.0.0/tests", JsonNode.Parse("""
            { "tests": [ { "name": "says hello", "expect": [ { "type": "contains", "value": "Hello" } ] } ] }
            """), cancellationToken)).EnsureSuccessStatusCode();
        var page = await fixture.OpenAsync(fixture.ReaderKey);

        await page.GotoAsync($"/prompts/{name}");
        await page.Locator("[data-testid=tests][data-interactive=yes]").WaitForAsync();

        await Assertions.Expect(page.GetByLabel("Case name")).ToHaveValueAsync("says hello");
        await Assertions.Expect(page.GetByLabel("Case name")).ToBeDisabledAsync();
        Assert.Equal(0, await page.GetByRole(AriaRole.Button, new() { Name = "Run tests" }).CountAsync());
        Assert.Equal(0, await page.GetByRole(AriaRole.Button, new() { Name = "Save tests" }).CountAsync());
        Assert.Empty(await fixture.AccessibilityViolationsAsync(page));
    }

    /// <summary>Creates a prompt named <paramref name="prefix"/> and a random suffix, saying "Hello!", with no test cases; returns its name.</summary>
    private async Task<string> CreateHelloAsync(string prefix)
    {
        var name = prefix + Guid.NewGuid().ToString("N")[..8];
        using var api = fixture.Server.CreateClient();
        (await api.PostAsJsonAsync("/api/prompts", new CreatePromptRequest(name, Content: "Hello!"), PromptVaultJson.Options,
            TestContext.Current.CancellationToken)).EnsureSuccessStatusCode();
        return name;
    }

    private static async Task SetTestsAsync(HttpClient api, string name, string tests) =>
        (await api.PutAsync($"/api/prompts/{name}/versions/1.0.0/tests", new StringContent(tests, System.Text.Encoding.UTF8, "application/json"),
            TestContext.Current.CancellationToken)).EnsureSuccessStatusCode();

    private static async Task<JsonNode> TestsAsync(HttpClient api, string name, string version) =>
        (await api.GetFromJsonAsync<JsonNode>($"/api/prompts/{name}/versions/{version}/tests", TestContext.Current.CancellationToken))!["tests"]!;
}
