using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using PromptVault.Core.Auth;
using PromptVault.Core.Contracts;
using PromptVault.Server.Tests;

namespace PromptVault.Dashboard.Tests;

public sealed class SignInTests(DashboardFixture fixture) : DashboardTest
{
    [Fact]
    public async Task SignIn_AdminKey_ShowsPromptsAndKeepsKeyOutOfPageAndCookieReadable()
    {
        var page = await fixture.OpenAsync(apiKey: null);
        var response = await page.GotoAsync("/");
        Assert.Contains("/login", page.Url, StringComparison.Ordinal);
        var csp = await response!.HeaderValueAsync("content-security-policy");
        Assert.Contains("script-src 'self';", csp, StringComparison.Ordinal);
        await DashboardFixture.ScreenshotAsync(page, "login");
        Assert.Empty(await fixture.AccessibilityViolationsAsync(page));

        await DashboardFixture.SignInAsync(page, fixture.Server.AdminKey);

        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Prompts" })).ToBeVisibleAsync();
        Assert.DoesNotContain(fixture.Server.AdminKey, await page.ContentAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain(fixture.Server.AdminKey, page.Url, StringComparison.Ordinal);
        var session = (await page.Context.CookiesAsync()).Single(c => c.Name == "pv_session");
        Assert.True(session.HttpOnly);
        Assert.Equal(SameSiteAttribute.Strict, session.SameSite);
        Assert.DoesNotContain(fixture.Server.AdminKey, session.Value, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pages_Load_WithoutErrorsInTheBrowsersConsole()
    {
        var page = await fixture.OpenAsync(apiKey: null);
        var errors = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error") errors.Add($"{page.Url}: {message.Text}");
        };
        page.PageError += (_, error) => errors.Add($"{page.Url}: {error}");
        await DashboardFixture.SignInAsync(page, fixture.Server.AdminKey);

        foreach (var path in new[] { "/", "/experiments", "/playground", "/audit" })
        {
            await page.GotoAsync(path);
            // The browser asks for the page's icon after the page has loaded.
            await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        }

        Assert.True(errors.Count == 0, string.Join("\n", errors));
    }

    [Fact]
    public async Task SignIn_WrongKey_StaysOnLoginWithAnError()
    {
        var page = await fixture.OpenAsync(apiKey: null);
        await page.GotoAsync("/login");

        await page.GetByLabel("API key").FillAsync("pv_not_a_real_key");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();

        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("not valid");
        Assert.Contains("/login", page.Url, StringComparison.Ordinal);
        Assert.DoesNotContain("pv_not_a_real_key", await page.ContentAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task FailedSignIns_CountAgainstTheAddresssFailedAuthenticationLimit_WithTheApisRefusedKeys()
    {
        await using var server = await RunningServer.StartAsync(new ServerSetup(["--PromptVault:FailedAuthentication:PermitLimit=2"]),
            TestContext.Current.CancellationToken);
        var page = await fixture.OpenAsync(apiKey: null, server: server);
        // The stylesheet of the answer to the last sign-in is held back, as a loaded machine may be slow to serve it. (Routing
        // turns the browser's cache off, so each page asks for it.)
        var stylesheet = new TaskCompletionSource();
        var holdStylesheet = false;
        await page.RouteAsync("**/dashboard.css", async route =>
        {
            if (holdStylesheet) await stylesheet.Task;
            await route.ContinueAsync();
        });

        async Task SignInAsync(string key, bool holdingTheAnswersStylesheet = false)
        {
            await page.GotoAsync("/login");
            await page.GetByLabel("API key").FillAsync(key);
            holdStylesheet = holdingTheAnswersStylesheet;
            await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        }

        var signInError = page.Locator("#login-error");
        for (var i = 0; i < 2; i++)
        {
            await SignInAsync("pv_not_a_real_key");
            await Assertions.Expect(signInError).ToContainTextAsync("not valid");
        }
        await SignInAsync(server.AdminKey, holdingTheAnswersStylesheet: true);
        await Assertions.Expect(signInError).ToContainTextAsync("Too many failed sign-ins");
        // Blazor's "This page stopped working" banner showed beside it once in CI: the page is static and its form not enhanced, so
        // no circuit or enhanced navigation could fail; only dashboard.css hid the banner, and until it loaded the banner showed.
        var banner = page.Locator("#blazor-error-ui");
        try
        {
            await Assertions.Expect(banner).ToBeAttachedAsync();
            await Assertions.Expect(banner).ToBeHiddenAsync(new() { Timeout = 5_000 });
        }
        finally
        {
            stylesheet.SetResult();
        }
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("Too many failed sign-ins");
        Assert.Contains("/login", page.Url, StringComparison.Ordinal);

        using var api = server.CreateClient("pv_not_a_real_key");
        var refused = await api.GetAsync("/api/prompts", TestContext.Current.CancellationToken);
        Assert.Equal(System.Net.HttpStatusCode.TooManyRequests, refused.StatusCode);
    }

    [Fact]
    public async Task SignOut_ReturnsToLoginAndPagesNeedSignInAgain()
    {
        var page = await fixture.OpenAsync(fixture.ReaderKey);
        await page.GotoAsync("/");

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await fixture.WaitForPageAsync(page, "/login");
        await page.GotoAsync("/");

        Assert.Contains("/login", page.Url, StringComparison.Ordinal);
    }

    /// <summary>
    /// POST /logout checked the antiforgery token only of a form body, and then ignored the result: a POST with no body (which
    /// another site can send with the cookie) signed the session out, and the button's token never validated (the endpoint
    /// read the user of the API key scheme, not the dashboard's cookie). It now binds the form under the dashboard's policy,
    /// so the framework refuses a POST without the token and the button's token validates.
    /// </summary>
    [Fact]
    public async Task SignOut_WithoutTheAntiforgeryToken_IsRefusedAndTheSessionStays()
    {
        var page = await fixture.OpenAsync(fixture.ReaderKey);

        var empty = await page.APIRequest.PostAsync("/logout", new() { MaxRedirects = 0 });
        var formWithoutToken = await page.APIRequest.PostAsync("/logout", new() { MaxRedirects = 0, Form = page.APIRequest.CreateFormData() });
        Assert.True(empty.Status >= 400, $"empty body: {empty.Status}");
        Assert.True(formWithoutToken.Status >= 400, $"form without token: {formWithoutToken.Status}");

        await page.GotoAsync("/");
        Assert.DoesNotContain("/login", page.Url, StringComparison.Ordinal);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await fixture.WaitForPageAsync(page, "/login");
    }

    [Fact]
    public async Task RevokedKey_IsSignedOutOnItsNextRequest()
    {
        using var api = fixture.Server.CreateClient();
        var response = await api.PostAsJsonAsync("/api/keys", new CreateApiKeyRequest("soon-revoked", ApiKeyRole.Writer), PromptVaultJson.Options,
            TestContext.Current.CancellationToken);
        var key = (await response.Content.ReadFromJsonAsync<CreatedApiKeyResponse>(PromptVaultJson.Options, TestContext.Current.CancellationToken))!;
        var page = await fixture.OpenAsync(key.Key);
        await page.GotoAsync("/");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Prompts" })).ToBeVisibleAsync();

        (await api.DeleteAsync($"/api/keys/{key.Id}", TestContext.Current.CancellationToken)).EnsureSuccessStatusCode();
        await page.GotoAsync("/audit");

        Assert.Contains("/login", page.Url, StringComparison.Ordinal);
    }

    /// <summary>
    /// An interactive page runs in a circuit, which kept the principal it opened with: a revoked writer's open editor saved,
    /// and then, refusing the save, still showed the draft as if the key were active.
    /// </summary>
    [Fact]
    public async Task RevokedKey_SendsAnOpenEditorToTheSignInPage_WithoutSaving()
    {
        using var api = fixture.Server.CreateClient();
        (await api.PostAsync("/api/prompts", new StringContent("""{"name":"revoked-editor","content":"Hi"}""", System.Text.Encoding.UTF8, "application/json"),
            TestContext.Current.CancellationToken)).EnsureSuccessStatusCode();
        var key = await CreateKeyAsync(api, "revoked-editor", ApiKeyRole.Writer);
        var page = await fixture.OpenAsync(key.Key);
        await page.GotoAsync("/prompts/revoked-editor/edit");
        await page.Locator("[data-interactive=yes]").WaitForAsync();
        await page.GetByLabel("Template", new() { Exact = true }).FillAsync("Hi again");
        await page.GetByLabel("Change description").FillAsync("Saved after the key was revoked");

        (await api.DeleteAsync($"/api/keys/{key.Id}", TestContext.Current.CancellationToken)).EnsureSuccessStatusCode();

        await fixture.WaitForPageAsync(page, new Regex("/login\\?ended=true&ReturnUrl=%2Fprompts%2Frevoked-editor%2Fedit$"));
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("Your sign-in ended: the API key was revoked");
        var versions = await api.GetFromJsonAsync<VersionListResponse>("/api/prompts/revoked-editor/versions", PromptVaultJson.Options, TestContext.Current.CancellationToken);
        Assert.Equal(1, versions!.Total);
    }

    /// <summary>
    /// The playground's Run and Save as test case did not check the role when run, as the editor's Save does: between the
    /// revocation and the page leaving for the sign-in page, a revoked writer's open playground still saved a test case.
    /// The way to the sign-in page is cut here so the playground stays open, signed out, to be clicked.
    /// </summary>
    [Fact]
    public async Task RevokedKey_AnOpenPlaygroundStillOnScreen_RefusesToRunOrSave()
    {
        using var api = fixture.Server.CreateClient();
        var cancel = TestContext.Current.CancellationToken;
        (await api.PostAsJsonAsync("/api/prompts", new CreatePromptRequest("revoked-player", Content: "Hi"), PromptVaultJson.Options, cancel)).EnsureSuccessStatusCode();
        var key = await CreateKeyAsync(api, "revoked-player", ApiKeyRole.Writer);
        var page = await fixture.OpenAsync(key.Key);
        await page.GotoAsync("/playground?prompt=revoked-player");
        await page.Locator("[data-interactive=yes]").WaitForAsync();
        await Assertions.Expect(page.GetByLabel("Version B")).ToHaveValueAsync("1.0.0");
        await page.GetByLabel("Case name").FillAsync("after revocation");
        var leaving = new TaskCompletionSource();
        await page.RouteAsync(new Regex("/login\\?ended=true"), async route =>
        {
            await route.AbortAsync("aborted"); // the navigation is dropped: the playground stays on screen
            leaving.TrySetResult();
        });

        (await api.DeleteAsync($"/api/keys/{key.Id}", cancel)).EnsureSuccessStatusCode();
        await leaving.Task.WaitAsync(cancel);

        await page.GetByRole(AriaRole.Button, new() { Name = "Run" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync("This key's role may not run the playground.");
        Assert.Equal(0, await page.GetByTestId("result").CountAsync());
        await page.GetByRole(AriaRole.Button, new() { Name = "Save as test case" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("case-error")).ToHaveTextAsync("This key's role may not save test cases.");
        var tests = await api.GetFromJsonAsync<JsonNode>("/api/prompts/revoked-player/versions/1.0.0/tests", cancel);
        Assert.Empty(tests!["tests"]!.AsArray());
    }

    /// <summary>The experiment page polls the results every two seconds in its circuit: a revoked reader's open page kept showing them.</summary>
    [Fact]
    public async Task RevokedKey_SendsAnOpenExperimentPageToTheSignInPage()
    {
        using var api = fixture.Server.CreateClient();
        var experiment = await ExperimentPagesTests.CreateUrgeExperimentAsync(api, "revoked-watcher", "watched");
        var key = await CreateKeyAsync(api, "revoked-watcher", ApiKeyRole.Reader);
        var page = await fixture.OpenAsync(key.Key);
        await page.GotoAsync($"/experiments/{experiment.Id}");
        await Assertions.Expect(page.GetByText("UTC, live.")).ToBeVisibleAsync();

        (await api.DeleteAsync($"/api/keys/{key.Id}", TestContext.Current.CancellationToken)).EnsureSuccessStatusCode();

        await fixture.WaitForPageAsync(page, new Regex("/login\\?ended=true&ReturnUrl=%2Fexperiments%2F" + Regex.Escape(experiment.Id) + "$"));
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("Your sign-in ended");
        await Assertions.Expect(page.GetByText("UTC, live.")).Not.ToBeVisibleAsync();
    }

    /// <summary>
    /// Signed out, a real page's address goes to the sign-in page and back there after signing in, while an address that is
    /// no page at all answers 404 with the not-found page at that address (it shows nothing a key guards).
    /// </summary>
    [Fact]
    public async Task SignedOut_ARealPageAsksToSignIn_AnAddressWithNoPageIsNotFound()
    {
        var page = await fixture.OpenAsync(apiKey: null);

        foreach (var address in new[] { "/nope", "/prompts/a/b/c" })
        {
            var response = await page.GotoAsync(address);
            Assert.True(response!.Status == (int)System.Net.HttpStatusCode.NotFound, $"{address}: {response.Status} at {page.Url}");
            Assert.EndsWith(address, page.Url, StringComparison.Ordinal);
            await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Not found", Level = 1 })).ToBeVisibleAsync();
        }

        await page.GotoAsync("/prompts/some-prompt/compare?a=1.0.0");
        await fixture.WaitForPageAsync(page, "/login?ReturnUrl=%2Fprompts%2Fsome-prompt%2Fcompare%3Fa%3D1.0.0");
        await page.GetByLabel("API key").FillAsync(fixture.ReaderKey);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await fixture.WaitForPageAsync(page, "/prompts/some-prompt/compare?a=1.0.0");
    }

    private static async Task<CreatedApiKeyResponse> CreateKeyAsync(HttpClient api, string name, ApiKeyRole role)
    {
        var response = await api.PostAsJsonAsync("/api/keys", new CreateApiKeyRequest(name, role), PromptVaultJson.Options, TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<CreatedApiKeyResponse>(PromptVaultJson.Options, TestContext.Current.CancellationToken))!;
    }
}
