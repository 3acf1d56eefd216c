using System.Diagnostics;
using System.Net;
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
            await using var server = await RunningServer.StartAsync(new ServerSetup([],
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

    /// <summary>
    /// Once the stop has begun, a new circuit request (a page reconnecting) is answered 503 with Retry-After, and before
    /// authentication: its key or sign-in cookie is not read (the request log names no key). When the answer came after
    /// authorization, a request the dashboard's policy refuses (here an API key, not a sign-in) got 401 instead.
    /// </summary>
    [Fact]
    public async Task CircuitRequest_OnceTheStopHasBegun_Is503WithRetryAfter_WithoutAuthenticating()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        using var logs = new LogCapture();
        await using var server = await RunningServer.StartAsync(logs.Setup(), cancellationToken);
        using var client = server.CreateClient();

        // The test host is started, not run: stopping the application fires ApplicationStopping and leaves Kestrel serving.
        server.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();
        using var response = await client.PostAsync("/_blazor/negotiate?negotiateVersion=1", null, cancellationToken);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
        Assert.True(response.Headers.ConnectionClose);
        var line = Assert.Single(logs.Lines, l => l.Category == "PromptVault.Requests" && l.Message.Contains(" 503 ", StringComparison.Ordinal));
        Assert.EndsWith("(key -)", line.Message, StringComparison.Ordinal);
    }
}
