using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Playwright;
using PromptVault.Server.Tests;

namespace PromptVault.Dashboard.Tests;

/// <summary>Stopping the server (Ctrl-C, <c>systemctl stop</c>, a deploy's restart) while a dashboard page is open.</summary>
public sealed class ServerStopTests(DashboardFixture fixture) : DashboardTest
{
    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The page's circuit, closed as the host began stopping, reconnected at once and that request was never ended, so Kestrel's
    /// graceful stop waited for it the host's whole shutdown timeout (dotnet/aspnetcore#58947). A hang check, not a speed
    /// measurement: each stop must end well before the timeout. It is a race, so it is tried several times.
    /// </summary>
    [Fact]
    public async Task Stop_WithAnInteractiveDashboardPageOpen_EndsWellBeforeTheShutdownTimeout()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            var server = await RunningServer.StartAsync(new ServerSetup([],
                builder => builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = ShutdownTimeout)), cancellationToken);
            var page = await fixture.OpenAsync(server.AdminKey, server: server);
            await page.GotoAsync("/experiments/new");
            await page.Locator("[data-interactive=yes]").WaitForAsync();

            var stopping = Stopwatch.StartNew();
            await server.DisposeAsync();
            stopping.Stop();

            Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(10),
                $"try {attempt}: the server took {stopping.Elapsed.TotalSeconds:0.0} s to stop with a page open (shutdown timeout {ShutdownTimeout.TotalSeconds} s)");
            // The page says it lost the server and is trying again (blazor.web.js's reconnecting banner).
            await Assertions.Expect(page.Locator("#components-reconnect-modal .components-reconnect-dialog")).ToBeVisibleAsync();
            await page.Context.CloseAsync();
        }
    }
}
