using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;
using Microsoft.Playwright;
using PromptVault.Core.Auth;
using PromptVault.Core.Contracts;
using PromptVault.Core.Registry;
using PromptVault.Core.Storage;
using PromptVault.Server.Tests;
using PromptVault.Storage.Sqlite;

namespace PromptVault.Dashboard.Tests;

/// <summary>
/// A real server on loopback with a temporary SQLite file, and Debian's Chromium (the run's <see cref="SharedBrowser"/>) driven
/// headless by Playwright. Without it every test reports itself skipped (Playwright cannot download browsers here; .ci/run
/// installs it).
/// </summary>
public sealed class DashboardFixture(SharedBrowser browser) : IAsyncLifetime
{
    /// <summary>
    /// Chromium's headless shell (Debian's chromium-headless-shell, the build Playwright itself runs headless), else the whole
    /// browser (chromium) in its headless mode: the same engine, but the shell took half the CPU for the same tests.
    /// </summary>
    public static readonly string? Chromium = new[] { "/usr/bin/chromium-headless-shell", "/usr/bin/chromium" }.FirstOrDefault(File.Exists);

    // axe-core from npm, installed once into the test output; injected through the DevTools protocol, which the CSP does not govern.
    private const string AxeCore = "axe-core@4.11.0";

    private RunningServer? _server;

    // The browser contexts each test opened, by the test's id, closed when it ends (DashboardTest): a page left open
    // keeps its renderer and its Blazor circuit busy for the rest of the run, taking the two cores from the tests after it.
    // One for the run, as the browser is: a test's id is unique across its classes.
    private static readonly ConcurrentDictionary<string, ConcurrentBag<IBrowserContext>> Contexts = new();

    /// <summary>The server's warnings and errors (a Blazor circuit's unhandled exception among them), for a failure's message.</summary>
    public LogCapture ServerLog { get; } = new();

    public RunningServer Server => _server ?? throw new InvalidOperationException("The server has not started.");

    public string WriterKey { get; private set; } = "";

    public string ReaderKey { get; private set; } = "";

    public async ValueTask InitializeAsync()
    {
        _server = await RunningServer.StartAsync(new ServerSetup([], builder => builder.Logging.AddProvider(ServerLog)), TestContext.Current.CancellationToken);
        WriterKey = await _server.CreateKeyAsync("wendy-writer", ApiKeyRole.Writer, TestContext.Current.CancellationToken);
        ReaderKey = await _server.CreateKeyAsync("rita-reader", ApiKeyRole.Reader, TestContext.Current.CancellationToken);
        if (browser.Browser is null) return;
        // The test projects run side by side on two cores: render the sign-in page once so no test pays the first render's JIT.
        using (var warm = _server.CreateClient())
            (await warm.GetAsync("/login", TestContext.Current.CancellationToken)).EnsureSuccessStatusCode();
        Assertions.SetDefaultExpectTimeout(30_000); // two cores shared with the other test projects: 5 s is not enough
    }

    /// <summary>A browser page of its own at <paramref name="width"/> px, on the fixture's server or on <paramref name="server"/>:
    /// blank, with no cookies when <paramref name="apiKey"/> is null, else with the cookies of a sign-in with it.</summary>
    /// <remarks>
    /// Each page of a key starts with the cookies of its one sign-in on the server (<see cref="SignInCookiesAsync"/>), as a second
    /// tab of a signed-in browser would. Each request checks the key the cookie names again, so a revoked key still signs such a
    /// page out; the sign-in form itself is SignInTests' to test.
    /// </remarks>
    public async Task<IPage> OpenAsync(string? apiKey, int width = 1280, RunningServer? server = null)
    {
        if (browser.Browser is null)
            Assert.Skip("Chromium is missing: install Debian's chromium-headless-shell (or chromium) package to run the dashboard's browser tests.");
        server ??= Server;
        var context = await browser.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = server.BaseAddress.ToString(),
            ViewportSize = new ViewportSize { Width = width, Height = 900 },
        });
        context.SetDefaultTimeout(30_000);
        var testId = TestContext.Current.Test?.UniqueID ?? throw new InvalidOperationException("Pages are opened by a test.");
        Contexts.GetOrAdd(testId, _ => []).Add(context);
        var page = await context.NewPageAsync();
        if (apiKey is null) return page;
        var signedIn = SignedIn.GetOrCreateValue(server);
        await context.AddCookiesAsync(await signedIn.GetOrAdd(apiKey, key => SignInCookiesAsync(server, key)));
        return page;
    }

    // The cookies of each key's sign-in on each server (OpenAsync). By server, not address: a later server can take a
    // stopped one's port, and its data protection keys would not read the cookie.
    private static readonly ConditionalWeakTable<RunningServer, ConcurrentDictionary<string, Task<IReadOnlyList<Cookie>>>> SignedIn = new();

    /// <summary>
    /// The cookies a sign-in with <paramref name="apiKey"/> gets, as the browser would hold them: the login form posted over
    /// HTTP (<see cref="DashboardSignIn"/>). Through a browser page it cost two page loads per key and server.
    /// </summary>
    private static async Task<IReadOnlyList<Cookie>> SignInCookiesAsync(RunningServer server, string apiKey) =>
        [.. (await DashboardSignIn.SignInSetCookiesAsync(server.BaseAddress, apiKey, TestContext.Current.CancellationToken))
            .GroupBy(cookie => cookie.Name.Value).Select(named => named.Last()).Select(cookie => new Cookie
            {
                Name = cookie.Name.Value!, Value = cookie.Value.Value!, Url = server.BaseAddress.ToString(),
                Expires = cookie.Expires?.ToUnixTimeSeconds() ?? -1, HttpOnly = cookie.HttpOnly, Secure = cookie.Secure,
                SameSite = cookie.SameSite switch { SameSiteMode.Strict => SameSiteAttribute.Strict, SameSiteMode.None => SameSiteAttribute.None, _ => SameSiteAttribute.Lax },
            })];

    /// <summary>Closes the pages the test <paramref name="testId"/> opened (each <see cref="DashboardTest"/> calls it when its test ends).</summary>
    public static async ValueTask CloseTestPagesAsync(string testId)
    {
        if (!Contexts.TryRemove(testId, out var contexts)) return;
        foreach (var context in contexts) await context.CloseAsync();
    }

    public static async Task SignInAsync(IPage page, string apiKey)
    {
        await page.GotoAsync("/login");
        await page.GetByLabel("API key").FillAsync(apiKey);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        try
        {
            // Polls the address: the sign-in may land by enhanced navigation, which fires no load event for WaitForURL to await.
            await Assertions.Expect(page).ToHaveURLAsync(new Regex("^(?!.*/login)"));
        }
        catch (PlaywrightException e)
        {
            // CI saw this once under load with nothing to go on: say what the login page showed instead.
            throw new TimeoutException($"sign-in stayed on {page.Url}; the page said: {await page.Locator("body").InnerTextAsync()}", e);
        }
    }

    /// <summary>Waits for <paramref name="page"/> to show <paramref name="path"/> (the end of its address) after a form posts or a page navigates.</summary>
    public Task WaitForPageAsync(IPage page, string path) => WaitForPageAsync(page, new Regex(Regex.Escape(path) + "$"));

    /// <summary>
    /// Waits for <paramref name="page"/>'s address to match <paramref name="url"/>; when it does not, the failure says where the
    /// page stayed, what it showed and what the server logged as warnings and errors.
    /// </summary>
    /// <remarks>
    /// Polls the address rather than awaiting a navigation (<c>WaitForURLAsync</c>): under load CI saw that wait miss a
    /// navigation Blazor started (<c>NavigateTo</c> with a forced load) and time out on a page that had long loaded.
    /// </remarks>
    public async Task WaitForPageAsync(IPage page, Regex url)
    {
        try
        {
            await Assertions.Expect(page).ToHaveURLAsync(url);
        }
        catch (PlaywrightException e)
        {
            var log = string.Join("\n", ServerLog.Lines.Where(l => l.Level >= LogLevel.Warning).TakeLast(20).Select(l => $"{l.Level} {l.Category}: {l.Message}"));
            throw new TimeoutException(
                $"the page stayed on {page.Url} instead of loading {url}.\nIt showed: {Shortened(await page.Locator("body").InnerTextAsync())}\n" +
                $"The server's warnings and errors: {(log.Length == 0 ? "none" : log)}", e);
        }
    }

    /// <summary>Records the type of each dialog the page opens ("confirm", "beforeunload") and dismisses it: the page stays.</summary>
    public static List<string> DismissDialogs(IPage page)
    {
        var dialogs = new List<string>();
        page.Dialog += async (_, dialog) =>
        {
            dialogs.Add(dialog.Type);
            await dialog.DismissAsync();
        };
        return dialogs;
    }

    /// <summary>Clicks the header's Experiments link and waits for what follows: the experiments page's address, or a confirmation
    /// (which the page's own dialog handler, <see cref="DismissDialogs"/>, has recorded by then: handlers run in the order added).</summary>
    public static async Task ClickExperimentsAsync(IPage page)
    {
        var asked = false;
        void Asked(object? sender, IDialog dialog) => asked = true;
        page.Dialog += Asked;
        try
        {
            await page.GetByRole(AriaRole.Navigation, new() { Name = "Main" }).GetByRole(AriaRole.Link, new() { Name = "Experiments" }).ClickAsync();
            await Eventually(() => asked || page.Url.EndsWith("/experiments", StringComparison.Ordinal));
        }
        finally
        {
            page.Dialog -= Asked;
        }
    }

    private static string Shortened(string text) => text.Length <= 2000 ? text : text[..2000] + "…";

    /// <summary>From now on, counts each element <paramref name="selector"/> matches that is added to the page (read by
    /// <see cref="InsertionsAsync"/>): a screen reader announces a role=alert element when it is added.</summary>
    public static Task CountInsertionsAsync(IPage page, string selector) => page.EvaluateAsync("""
        selector => {
            window.insertionsCounted = 0;
            const counted = new WeakSet(); // an element added inside an added one is in both records
            new MutationObserver(records => {
                for (const node of records.flatMap(record => [...record.addedNodes]).filter(node => node instanceof Element))
                    for (const element of [node, ...node.querySelectorAll(selector)].filter(e => e.matches(selector) && !counted.has(e))) {
                        counted.add(element);
                        window.insertionsCounted++;
                    }
            }).observe(document, { childList: true, subtree: true });
        }
        """, selector);

    public static Task<int> InsertionsAsync(IPage page) => page.EvaluateAsync<int>("() => window.insertionsCounted");

    /// <summary>
    /// Expects <paramref name="count"/> insertions so far (<see cref="CountInsertionsAsync"/>), waiting for the last: after a new
    /// try the previous try's element is still shown until the page re-renders, so reading the count at once can race it.
    /// </summary>
    public static async Task ExpectInsertionsAsync(IPage page, int count)
    {
        await page.WaitForFunctionAsync("count => window.insertionsCounted >= count", count);
        Assert.Equal(count, await InsertionsAsync(page));
    }

    /// <summary>
    /// Fills each of <paramref name="values"/> into the number field <paramref name="id"/> and expects the browser's own
    /// validity (its min, max and step) to say what the server's rule does of that number (<paramref name="serverCheck"/> throws for a number it refuses).
    /// </summary>
    public static async Task ExpectValidAsTheServerSaysAsync(IPage page, string id, string[] values, Action<double> serverCheck)
    {
        var input = page.Locator("#" + id);
        foreach (var value in values)
        {
            await input.FillAsync(value);
            var marked = await input.EvaluateAsync<bool>("e => e.validity.valid");
            Assert.True(Accepts(double.Parse(value, System.Globalization.CultureInfo.InvariantCulture)) == marked,
                $"{id} {value}: the browser says {(marked ? "valid" : "invalid")}, the server {(marked ? "refuses" : "accepts")} it");
        }

        bool Accepts(double number)
        {
            try
            {
                serverCheck(number);
                return true;
            }
            catch (PromptVault.Core.InvalidInputException)
            {
                return false;
            }
        }
    }

    /// <summary>Expects <paramref name="error"/> to be announced once: the page's one role=alert element, saying
    /// <paramref name="text"/>, neither focused nor in a live region (either would announce it again).</summary>
    public static async Task ExpectAnnouncedOnceAsync(IPage page, ILocator error, string text)
    {
        await Assertions.Expect(error).ToContainTextAsync(text);
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToHaveCountAsync(1);
        await Assertions.Expect(error).ToHaveAttributeAsync("role", "alert");
        await Assertions.Expect(error).Not.ToBeFocusedAsync();
        Assert.True(await error.EvaluateAsync<bool>("error => error.closest('[aria-live]') === null"), "The error is inside an aria-live region.");
    }

    /// <summary>Screenshots the page at 1280 and 390 px into docs/screenshots/ (named <paramref name="name"/>-1280.png, -390.png)
    /// when the run asks for them with PROMPTVAULT_UPDATE_SCREENSHOTS=1.</summary>
    /// <remarks>They are the docs' pictures, not checks: a run that did not ask leaves the committed ones, and its working tree, alone.</remarks>
    public static async Task ScreenshotAsync(IPage page, string name)
    {
        if (Environment.GetEnvironmentVariable("PROMPTVAULT_UPDATE_SCREENSHOTS") != "1") return;
        var folder = Path.Combine(RepositoryRoot(), "docs", "screenshots");
        Directory.CreateDirectory(folder);
        var size = page.ViewportSize!;
        foreach (var width in new[] { 1280, 390 })
        {
            await page.SetViewportSizeAsync(width, 900);
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(folder, $"{name}-{width}.png"), FullPage = true });
        }
        await page.SetViewportSizeAsync(size.Width, size.Height);
    }

    /// <summary>Runs axe-core on the page and returns its serious and critical violations, one line each.</summary>
    public async Task<IReadOnlyList<string>> AccessibilityViolationsAsync(IPage page)
    {
        // Once per document: a page that moved on by enhanced navigation still has it, and an injection cost a second or more under load.
        if (!await page.EvaluateAsync<bool>("() => typeof axe === 'object'")) await page.EvaluateAsync(await AxeSource.Value);
        // resultTypes: every rule still runs on every node, but only the violations' nodes are gathered (axe's own advice for speed).
        var result = await page.EvaluateAsync<JsonElement>(
            "async () => (await axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'], resultTypes: ['violations'] })).violations" +
            ".filter(v => v.impact === 'serious' || v.impact === 'critical')" +
            ".map(v => v.id + ': ' + v.help + ' → ' + v.nodes.map(n => n.target.join(' ')).join(', '))");
        return result.EnumerateArray().Select(v => v.GetString()!).ToList();
    }

    // One install per test process: the fixtures of several test classes run at once, and two npm installs into one
    // folder race (one saw the other's half-written node_modules).
    private static readonly Lazy<Task<string>> AxeSource = new(InstallAxeAsync);

    private static async Task<string> InstallAxeAsync()
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "axe");
        var script = Path.Combine(folder, "node_modules", "axe-core", "axe.min.js");
        if (!File.Exists(script))
        {
            if (!OnPath("npm")) Assert.Skip("npm is not on PATH: the accessibility check injects axe-core from npm.");
            Directory.CreateDirectory(folder);
            using var npm = Process.Start(new ProcessStartInfo("npm", ["install", "--no-audit", "--no-fund", "--prefix", folder, AxeCore])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            })!;
            var error = await npm.StandardError.ReadToEndAsync(CancellationToken.None);
            await npm.WaitForExitAsync(CancellationToken.None);
            Assert.True(npm.ExitCode == 0, $"npm install {AxeCore} failed:\n{error}");
        }
        return await File.ReadAllTextAsync(script, CancellationToken.None);
    }

    private static bool OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Any(dir => File.Exists(Path.Combine(dir, program)));

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "PromptVault.slnx"))) return dir.FullName;
        throw new InvalidOperationException("PromptVault.slnx not found above the test output.");
    }

    /// <summary>Creates a prompt whose 1.0.0 says "Hi", through the API.</summary>
    public async Task CreatePromptAsync(string name)
    {
        using var api = Server.CreateClient();
        (await api.PostAsJsonAsync("/api/prompts", new CreatePromptRequest(name, Content: "Hi"), PromptVaultJson.Options, TestContext.Current.CancellationToken))
            .EnsureSuccessStatusCode();
    }

    /// <summary>A server of its own, on <paramref name="clock"/> when given, whose <typeparamref name="TStore"/> (the real SQLite
    /// store) counts the calls made to it and can hold their answers (<see cref="CountingProxy{T}.Hold"/>).</summary>
    public static async Task<(RunningServer Server, CountingProxy<TStore> Store)> StartCountedServerAsync<TStore>(string[]? settings = null,
        TimeProvider? clock = null) where TStore : class
    {
        CountingProxy<TStore>? counted = null;
        var server = await RunningServer.StartAsync(new ServerSetup(settings ?? [], builder =>
        {
            if (clock is not null) builder.Services.AddSingleton(clock);
            builder.Services.AddSingleton(services =>
            {
                (var store, counted) = CountingProxy<TStore>.Wrap((TStore)(object)services.GetRequiredService<SqlitePromptStore>());
                return store;
            });
        }), TestContext.Current.CancellationToken);
        return (server, counted!);
    }

    /// <summary>A new prompt with <paramref name="count"/> versions, 1.0.0 to 1.0.(count - 1), made by the admin key; its name.</summary>
    /// <remarks>Through the server's registry in this process, as the API would: hundreds of requests each paid for HTTP and the key's check.</remarks>
    public static async Task<string> CreateVersionsAsync(RunningServer server, string prefix, int count)
    {
        var ct = TestContext.Current.CancellationToken;
        var registry = server.Services.GetRequiredService<PromptRegistry>();
        var name = prefix + Guid.NewGuid().ToString("N")[..8];
        await registry.CreatePromptAsync(new CreatePromptRequest(name, Content: "v0"), "admin", null, ct);
        for (var i = 1; i < count; i++)
            await registry.CreateVersionAsync(name, new CreateVersionRequest($"v{i}", ChangeDescription: $"Step {i}"), "admin", ct);
        return name;
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }
}
