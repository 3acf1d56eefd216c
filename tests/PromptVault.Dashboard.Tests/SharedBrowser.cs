using Microsoft.Playwright;

[assembly: AssemblyFixture(typeof(PromptVault.Dashboard.Tests.SharedBrowser))]

namespace PromptVault.Dashboard.Tests;

/// <summary>
/// One headless Chromium for the whole test run, each test in browser contexts of its own (<see cref="DashboardFixture.OpenAsync"/>):
/// a launch per test class took seconds of the two cores. Null when Chromium is missing (<see cref="DashboardFixture.Chromium"/>).
/// </summary>
public sealed class SharedBrowser : IAsyncLifetime
{
    private IPlaywright? _playwright;

    public IBrowser? Browser { get; private set; }

    public async ValueTask InitializeAsync()
    {
        if (DashboardFixture.Chromium is null) return;
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = DashboardFixture.Chromium, Headless = true });
    }

    public async ValueTask DisposeAsync()
    {
        var left = Browser?.Contexts.Count ?? 0;
        if (Browser is not null) await Browser.DisposeAsync();
        _playwright?.Dispose();
        // Each test's pages are closed when it ends (DashboardTest); one left open slowed every test after it.
        if (left > 0) throw new InvalidOperationException($"{left} browser contexts were still open at the end of the run: a test's pages were not closed when it ended.");
    }
}
