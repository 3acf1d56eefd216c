using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using PromptVault.Core.Audit;
using PromptVault.Core.Storage;

namespace PromptVault.Dashboard.Tests;

/// <summary>The pages of a missing prompt, version, experiment or address, and bad query parameters: 404 or 400 naming what is wrong.</summary>
public sealed class PromptNotFoundPagesTests(DashboardFixture fixture) : DashboardTest
{
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
        // A page the key's role may not open showed the API's JSON problem; it is the dashboard's page saying so, still 403.
        var forbidden = await page.GotoAsync("/playground");
        Assert.Equal((int)HttpStatusCode.Forbidden, forbidden!.Status);
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Not allowed", Level = 1 })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync("Your key's role may not open this page.");
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
        await fixture.CreatePromptAsync("not-found-check");
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
    /// A hand-typed address that escapes a name's character twice (<c>/prompts/escape-check-%2561</c>) opened prompt
    /// 'escape-check-a' in the prompt, editor, compare, compare-runs, deploy and change-status pages: the router unescaped it
    /// once and each page again. They now refuse 'escape-check-%61', the address unescaped once, as the API does (no name holds
    /// '%'); a name's '/' sent as %2F still opens its prompt. A twice-escaped '/' (%252F) opened prompt 'escape-check/a' too:
    /// the router's one unescape left "%2F", the same string as a name's '/' it leaves escaped, and the pages turned both into
    /// '/'. The route value is now taken from the raw address and unescaped once there (EscapedRouteValues), for the pages as
    /// for the API, so the pages refuse 'escape-check%2Fa'.
    /// </summary>
    [Fact]
    public async Task AnAddressEscapingANameTwice_RefusesThatName_NotOpensThePromptItWouldDecodeTo()
    {
        await fixture.CreatePromptAsync("escape-check-a");
        await fixture.CreatePromptAsync("escape-check/a");
        var page = await fixture.OpenAsync(fixture.Server.AdminKey);

        foreach (var rest in new[] { "", "/edit", "/compare", "/evaluations", "/deploy?action=promote&version=1.0.0", "/status?version=1.0.0&status=review" })
        {
            await page.GotoAsync($"/prompts/escape-check-%2561{rest}");
            var shown = await page.Locator("main").InnerTextAsync();
            Assert.True(shown.Contains("name 'escape-check-%61' is invalid", StringComparison.Ordinal), $"{rest}: {shown}");

            await page.GotoAsync($"/prompts/escape-check%252Fa{rest}");
            shown = await page.Locator("main").InnerTextAsync();
            Assert.True(shown.Contains("name 'escape-check%2Fa' is invalid", StringComparison.Ordinal), $"{rest}: {shown}");
            if (rest == "") await Assertions.Expect(page).ToHaveTitleAsync("Prompt · PromptVault"); // it was " · PromptVault": no name

            Assert.True((await page.GotoAsync($"/prompts/escape-check%2Fa{rest}"))!.Status == (int)HttpStatusCode.OK, rest);
        }
    }

    /// <summary>
    /// An address naming a prompt by a name no prompt may have (<c>/prompts/BAD NAME!</c>) answered 200 with the registry's
    /// message: a page for a bad address. Each page of a prompt, and the audit and playground pages' <c>?prompt=</c>, now
    /// answer 400 naming the name, as the API does (MissingPage.LoadAsync).
    /// </summary>
    [Fact]
    public async Task AnInvalidPromptNameInTheAddress_Answers400NamingIt()
    {
        var page = await fixture.OpenAsync(fixture.Server.AdminKey);

        foreach (var address in new[]
        {
            "/prompts/BAD NAME!", "/prompts/BAD NAME!/edit", "/prompts/BAD NAME!/compare?a=1.0.0&b=1.0.1", "/prompts/BAD NAME!/evaluations?a=1.0.0&b=1.0.1",
            "/prompts/BAD NAME!/deploy?action=promote&version=1.0.0", "/prompts/BAD NAME!/status?version=1.0.0&status=review",
            "/audit?prompt=BAD NAME!", "/playground?prompt=BAD NAME!",
        })
        {
            var response = await page.GotoAsync(address);

            Assert.True(response!.Status == (int)HttpStatusCode.BadRequest, $"{address}: {response.Status} {await page.Locator("main").InnerTextAsync()}");
            var shown = await page.Locator("main").InnerTextAsync();
            Assert.True(shown.Contains("'BAD NAME!' is invalid", StringComparison.Ordinal), $"{address}: {shown}");
        }
    }

    /// <summary>
    /// The audit and playground pages answered <c>?prompt=</c> naming a missing prompt with status 200: the audit page with the
    /// message where its log would be, the playground with an empty page and the message by its input. They now answer as the
    /// prompt page does: 404 with the not-found page naming the prompt. A prompt that exists still opens in each.
    /// </summary>
    [Fact]
    public async Task AuditAndPlayground_OfAMissingPrompt_Answer404NamingIt()
    {
        await fixture.CreatePromptAsync("query-prompt-check");
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
        await fixture.CreatePromptAsync("nul-version-check");
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
        await fixture.CreatePromptAsync("bad-query-check");
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
}
