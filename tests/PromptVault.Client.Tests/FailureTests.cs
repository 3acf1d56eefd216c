using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using PromptVault.Client.DependencyInjection;
using PromptVault.Core.Contracts;
using PromptVault.Storage.Testing;

namespace PromptVault.Client.Tests;

/// <summary>
/// The SDK with its server down: at start, later, or hanging. A test that stops its server owns it; the others share one,
/// each with prompts and keys of its own.
/// </summary>
public sealed class FailureTests(SdkServerFixture fixture) : IClassFixture<SdkServerFixture>
{
    [Fact]
    public async Task StartAsync_ServerDownWithFallbackFile_ServesTheFile()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await SdkServer.StartAsync(ct);
        var name = Prompts.NewName("fallback");
        var one = await Prompts.CreateAsync(server.Api, name, "Hello {{who}}", [new("who")], cancellationToken: ct);
        var file = await SnapshotFileAsync(server, ct);
        await server.StopAsync();

        var logs = new LogCollector();
        var clock = Stopwatch.StartNew();
        await using var host = await SdkHost.StartAsync(server.BaseAddress, server.AdminKey, o => o.FallbackSnapshotPath = file,
            services => services.AddSingleton<ILoggerProvider>(logs), ct);
        var started = clock.Elapsed;
        var served = await host.Vault.GetPromptAsync(name, new Dictionary<string, object?> { ["who"] = "Ann" }, cancellationToken: ct);
        var health = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(ct);

        Assert.Equal(one, served.VersionId);
        Assert.Equal("Hello Ann", served.Content);
        Assert.True(started < TimeSpan.FromSeconds(5), $"start took {started}");
        Assert.Equal(HealthStatus.Degraded, health.Status);
        // An expected outage at start: the line says why and where the snapshot came from, without the connection's stack.
        var fromFile = Assert.Single(logs.Entries, e => e.EventId.Id == 2002);
        Assert.Contains("Connection refused", fromFile.Message, StringComparison.Ordinal);
        Assert.Contains(file, fromFile.Message, StringComparison.Ordinal);
        Assert.Null(fromFile.Exception);
        File.Delete(file);
    }

    [Fact]
    public async Task StartAsync_ServerHangsWithFallbackFile_ServesTheFile()
    {
        var ct = TestContext.Current.CancellationToken;
        var server = fixture.Server;
        var name = Prompts.NewName("hang-fallback");
        var one = await Prompts.CreateAsync(server.Api, name, "one", cancellationToken: ct);
        var file = await SnapshotFileAsync(server, ct);
        // A socket that accepts connections and never answers: the server attempt ends at the request timeout.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var hanging = new Uri($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}");

        // The start once waited the request timeout for the attempt and the file together, and mostly gave up while the file
        // was read: three starts.
        for (var start = 0; start < 3; start++)
        {
            await using var host = await SdkHost.StartAsync(hanging, null, o =>
            {
                o.FallbackSnapshotPath = file;
                o.RequestTimeout = TimeSpan.FromMilliseconds(400);
                o.UseStream = false;
            }, cancellationToken: ct);
            Assert.Equal(one, (await host.Vault.GetPromptAsync(name, cancellationToken: ct)).VersionId);
        }
        File.Delete(file);
    }

    [Fact]
    public async Task Refresh_AfterStartingFromTheFileOfTheServersSnapshot_AsksTheServerWhetherItChanged()
    {
        var ct = TestContext.Current.CancellationToken;
        var server = fixture.Server;
        await Prompts.CreateAsync(server.Api, Prompts.NewName("file-etag"), "one", cancellationToken: ct);
        var file = await SnapshotFileAsync(server, ct);
        await using var proxy = await LossyProxy.StartAsync(server.BaseAddress, ct);
        var snapshots = 0;
        proxy.LoseAnswer = request => request.Path == "/api/sdk/snapshot" && Interlocked.Increment(ref snapshots) == 1; // start from the file

        await using var host = await SdkHost.StartAsync(proxy.BaseAddress, server.AdminKey, o =>
        {
            o.FallbackSnapshotPath = file;
            o.RefreshInterval = TimeSpan.FromMilliseconds(100);
            o.UseStream = false;
        }, cancellationToken: ct);
        // The server's snapshot is the file's: once the SDK holds the server's tag for it, a refresh is a 304.
        await Eventually(() => Task.FromResult(proxy.Forwarded.Where(r => r.Path == "/api/sdk/snapshot").Select(r => r.Status).ToList()),
            statuses => statuses.Contains(304));
        File.Delete(file);
    }

    [Fact]
    public async Task Stream_AnsweredAndEndedWithoutAnEvent_ReconnectsWithBackoff()
    {
        var ct = TestContext.Current.CancellationToken;
        var server = fixture.Server;
        await Prompts.CreateAsync(server.Api, Prompts.NewName("stream-ends"), "one", cancellationToken: ct);
        await using var proxy = await LossyProxy.StartAsync(server.BaseAddress, ct);
        proxy.EndStreamsAtOnce = true;

        await using var host = await SdkHost.StartAsync(proxy.BaseAddress, server.AdminKey, cancellationToken: ct);
        await Eventually(() => proxy.StreamRequests >= 5);
        var times = proxy.StreamRequestTimes.Take(5).ToArray();

        // Waiting 100 ms, then twice as long each time. Reset at each 200, it reconnected every 100 ms. Only the least wait is
        // asserted, which a loaded machine cannot make shorter (a little less for the timer's resolution).
        for (var reconnect = 1; reconnect < times.Length; reconnect++)
        {
            var least = TimeSpan.FromMilliseconds(100 * Math.Pow(2, reconnect - 1) * 0.9);
            Assert.True(times[reconnect] - times[reconnect - 1] >= least,
                $"reconnect {reconnect} came {times[reconnect] - times[reconnect - 1]} after the one before, not after at least {least}");
        }
    }

    [Fact]
    public async Task StartAsync_ServerRefusesTheKey_FailsNamingTheKeyEvenWithAFallbackFile()
    {
        var ct = TestContext.Current.CancellationToken;
        var server = fixture.Server;
        var file = await SnapshotFileAsync(server, ct);

        // The server answers 401: it is not down, so the file is not served (it once was, logged as "server unreachable").
        foreach (var error in await StartFailuresWithAndWithoutFileAsync(server.BaseAddress, "pv_not-a-key", file, ct))
        {
            Assert.Contains("refused the API key (401 ", error.Message, StringComparison.Ordinal);
            Assert.Contains("PromptVault:ApiKey", error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("FallbackSnapshotPath", error.Message, StringComparison.Ordinal);
        }
        File.Delete(file);
    }

    [Fact]
    public async Task StartAsync_ServerUrlWithAPath_FailsSayingItTakesTheRootUrlEvenWithAFallbackFile()
    {
        var ct = TestContext.Current.CancellationToken;
        var server = fixture.Server;
        var file = await SnapshotFileAsync(server, ct);
        var withPath = new Uri(server.BaseAddress, "api");

        // The server answers 404 for /api/api/sdk/snapshot: it is not down, and no file mends the URL.
        foreach (var error in await StartFailuresWithAndWithoutFileAsync(withPath, server.AdminKey, file, ct))
        {
            Assert.Contains("(404 not_found: No route matches GET /api/api/sdk/snapshot", error.Message, StringComparison.Ordinal);
            Assert.EndsWith(RootUrlHint, error.Message, StringComparison.Ordinal);
        }
        File.Delete(file);
    }

    [Fact]
    public async Task StartAsync_ServerUrlAnsweredByAnotherServersHtml404_FailsNamingTheUrlRequestedEvenWithAFallbackFile()
    {
        var ct = TestContext.Current.CancellationToken;
        var server = fixture.Server;
        var file = await SnapshotFileAsync(server, ct);
        // A reverse proxy's own 404 page, as for a path it routes nowhere.
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var proxy = builder.Build();
        proxy.Run(context =>
        {
            context.Response.StatusCode = 404;
            context.Response.ContentType = "text/html";
            return context.Response.WriteAsync("<html><body><h1>404 Not Found</h1></body></html>", context.RequestAborted);
        });
        await proxy.StartAsync(ct);
        var url = new Uri(new Uri(proxy.Urls.First()), "promptvault");

        foreach (var error in await StartFailuresWithAndWithoutFileAsync(url, server.AdminKey, file, ct))
        {
            Assert.Contains($"(404 http_404: The server answered 404 Not Found (text/html) for {url}/api/sdk/snapshot, without PromptVault's problem JSON: " +
                "the URL likely does not point at a PromptVault server.)", error.Message, StringComparison.Ordinal);
            Assert.EndsWith(RootUrlHint, error.Message, StringComparison.Ordinal);
        }
        File.Delete(file);
    }

    [Fact]
    public async Task StartAsync_ReaderKeyWithRecordingOn_FailsNamingTheRoleNeeded_StartsWithRecordingOff()
    {
        var ct = TestContext.Current.CancellationToken;
        var server = fixture.Server;
        var name = Prompts.NewName("reader");
        var one = await Prompts.CreateAsync(server.Api, name, "one", cancellationToken: ct);
        var reader = await server.Api.CreateKeyAsync(Prompts.NewName("reader"), Core.Auth.ApiKeyRole.Reader, ct);
        var writer = await server.Api.CreateKeyAsync(Prompts.NewName("writer"), Core.Auth.ApiKeyRole.Writer, ct);

        var error = await Assert.ThrowsAsync<PromptVaultUnavailableException>(() => SdkHost.StartAsync(server.BaseAddress, reader.Key, cancellationToken: ct));
        await using var notRecording = await SdkHost.StartAsync(server.BaseAddress, reader.Key, o => o.RecordEvents = false, cancellationToken: ct);
        await using var recording = await SdkHost.StartAsync(server.BaseAddress, writer.Key, cancellationToken: ct);
        var resolution = await notRecording.Vault.GetPromptAsync(name, cancellationToken: ct);
        await notRecording.Vault.RecordAsync(resolution, new PromptOutcome { QualityScore = 1 }, ct);
        await notRecording.Vault.FlushAsync(ct);

        Assert.Contains("role (reader)", error.Message, StringComparison.Ordinal);
        Assert.Contains("writer or admin", error.Message, StringComparison.Ordinal);
        Assert.Contains("PromptVault:RecordEvents to false", error.Message, StringComparison.Ordinal);
        Assert.Equal(one, resolution.VersionId);
        // Not sent at all, rather than sent and refused (a reader's events are refused 403 and counted as rejected).
        Assert.Equal(0, notRecording.Sdk.Events.Rejected);
    }

    [Fact]
    public async Task StartAsync_ServerDownWithoutFallback_FailsWithAClearError()
    {
        var ct = TestContext.Current.CancellationToken;
        using var down = new RefusedPort();
        var url = down.Url;

        var error = await Assert.ThrowsAsync<PromptVaultUnavailableException>(() => SdkHost.StartAsync(url, null, cancellationToken: ct));

        Assert.Contains(url.ToString(), error.Message, StringComparison.Ordinal);
        // The key as configuration spells it, as the timeout's message names it; it said "no FallbackSnapshotPath".
        Assert.Contains("no PromptVault:FallbackSnapshotPath is configured", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetPromptAsync_ServerHangs_ThrowsWithinTheRequestTimeout()
    {
        var ct = TestContext.Current.CancellationToken;
        // A socket that accepts connections and never answers.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var timeout = TimeSpan.FromMilliseconds(400);
        using var refused = new RefusedPort();
        await using var warm = Vault(refused.Url, timeout);
        await using var hanging = Vault(new Uri($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}"), timeout);
        // Warm up (JIT) against a refused port, so the clock below times the wait for the server alone.
        await Assert.ThrowsAsync<PromptVaultUnavailableException>(async () => await warm.GetRequiredService<IPromptVault>().GetPromptAsync("p", cancellationToken: ct));

        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<PromptVaultUnavailableException>(async () => await hanging.GetRequiredService<IPromptVault>().GetPromptAsync("p", cancellationToken: ct));
        var waited = clock.Elapsed;

        // A bound far above the timeout, as 500 ms past it failed on a loaded machine, and still below the default timeout
        // (5 s) and the resilience handler's own (10 s an attempt), which would end the wait were the option not applied.
        Assert.True(waited < TimeSpan.FromSeconds(3), $"the call waited {waited} with a request timeout of {timeout}");
        Assert.Contains(listener.LocalEndpoint.ToString()!, error.Message, StringComparison.Ordinal);
        // What to do about it: the two options that mend a server slow at start.
        Assert.Contains("Raise PromptVault:RequestTimeout", error.Message, StringComparison.Ordinal);
        Assert.Contains("set PromptVault:FallbackSnapshotPath", error.Message, StringComparison.Ordinal);

        static ServiceProvider Vault(Uri url, TimeSpan timeout) =>
            new ServiceCollection().AddPromptVault(o => { o.ServerUrl = url; o.RequestTimeout = timeout; }).BuildServiceProvider();
    }

    [Fact]
    public async Task GetPromptAsync_ServerDownLater_ServesLastGoodSnapshotAndReportsItsAgeInHealthAndLog()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await SdkServer.StartAsync(ct);
        var name = Prompts.NewName("down-later");
        var one = await Prompts.CreateAsync(server.Api, name, "one", cancellationToken: ct);
        var logs = new LogCollector();
        // Counts the SDK's requests, and those sent on the resolve's path (its flow of execution), which must be none.
        var onResolve = new AsyncLocal<bool>();
        int sent = 0, sentOnResolve = 0;
        await using var host = await SdkHost.StartAsync(server.BaseAddress, server.AdminKey, o =>
        {
            o.RefreshInterval = TimeSpan.FromMilliseconds(100);
            o.RequestTimeout = TimeSpan.FromMilliseconds(500);
        }, services =>
        {
            services.AddSingleton<ILoggerProvider>(logs);
            services.ConfigureHttpClientDefaults(http => http.AddHttpMessageHandler(() => new Watch(() =>
            {
                Interlocked.Increment(ref sent);
                if (onResolve.Value) Interlocked.Increment(ref sentOnResolve);
            })));
        }, ct);
        var health = host.Services.GetRequiredService<HealthCheckService>();
        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync(ct)).Status);

        var sentBeforeStop = Volatile.Read(ref sent);
        await server.StopAsync();
        // Two refreshes failed, each logged (2003) with the age of the snapshot it kept serving: the outage has lasted a refresh
        // interval at least, however slow the machine.
        await Eventually(() => FailedRefreshAges(logs).Count >= 2);
        onResolve.Value = true;
        var served = await host.Vault.GetPromptAsync(name, cancellationToken: ct);
        onResolve.Value = false;
        var report = (await health.CheckHealthAsync(ct)).Entries["promptvault"];

        Assert.Equal(one, served.VersionId);
        // No call on the request path touches the network (docs/sdk.md), counted rather than timed: a resolve's 100 ms bound
        // failed on a loaded machine. The refreshes were counted, so the watch sees the SDK's requests.
        Assert.Equal(0, sentOnResolve);
        Assert.True(sent > sentBeforeStop);
        Assert.Equal(HealthStatus.Degraded, report.Status);
        // A failed refresh confirms nothing: the age grew by the interval between two of them (100 ms, less the timers' coarse
        // ticks), and health reports at least the last logged age (rounded to 0.1 s).
        var ages = FailedRefreshAges(logs);
        Assert.True(ages[1] - ages[0] >= TimeSpan.FromMilliseconds(80), $"ages {ages[0]}, {ages[1]}");
        Assert.True((double)report.Data["ageSeconds"] >= ages[^1].TotalSeconds - 0.05, $"age {report.Data["ageSeconds"]}, last logged {ages[^1]}");
        Assert.Equal(false, report.Data["serverReachable"]);
        Assert.Contains(logs.Entries, e => e.EventId.Id == 2003 && e.Level == LogLevel.Warning && e.Message.Contains("serving the last good snapshot", StringComparison.Ordinal));
        // Once, by the SDK: the resilience handler's telemetry (Polly) once added a warning with a stack trace per attempt.
        Assert.DoesNotContain(logs.Entries, e => e.Category.StartsWith("Polly", StringComparison.Ordinal) && e.Level >= LogLevel.Warning);

        await server.StartAgainAsync(ct);
        await Eventually(async () => (await health.CheckHealthAsync(ct)).Status, status => status == HealthStatus.Healthy);
    }

    /// <summary>The snapshot ages the SDK logged with each failed refresh (2003), in order.</summary>
    [Fact]
    public async Task StreamBreaks_ServerStopped_HealthReportsItUnreachableBeforeTheNextInterval()
    {
        // Found by the SDK walk: with the server stopped, the health check said serverReachable=True, Healthy, for up to
        // RefreshInterval (30 s by default) though the stream had broken and its reconnections were refused.
        var ct = TestContext.Current.CancellationToken;
        await using var server = await SdkServer.StartAsync(ct);
        var name = Prompts.NewName("stream-breaks");
        await Prompts.CreateAsync(server.Api, name, "one", cancellationToken: ct);
        var logs = new LogCollector();
        await using var host = await SdkHost.StartAsync(server.BaseAddress, server.AdminKey, o => o.RefreshInterval = TimeSpan.FromMinutes(10),
            services => services.AddSingleton<ILoggerProvider>(logs), ct);
        // The stream is up once a label moved on the server reaches the SDK (the interval is too long to bring it).
        var two = await server.Api.CreateVersionAsync(name, new CreateVersionRequest("two", ChangeDescription: "two"), ct);
        await server.Api.MoveLabelAsync(name, "production", two.Id, ct);
        await Eventually(async () => (await host.Vault.GetPromptAsync(name, cancellationToken: ct)).VersionId, id => id == two.Id);
        var health = host.Services.GetRequiredService<HealthCheckService>();

        await server.StopAsync();

        await Eventually(async () => (await health.CheckHealthAsync(ct)).Entries["promptvault"].Data["serverReachable"], reachable => reachable is false);
        Assert.Contains(logs.Entries, e => e.EventId.Id == 2003 && e.Level == LogLevel.Warning);
        Assert.Equal(two.Id, (await host.Vault.GetPromptAsync(name, cancellationToken: ct)).VersionId);

        await server.StartAgainAsync(ct);
        await Eventually(async () => (await health.CheckHealthAsync(ct)).Status, status => status == HealthStatus.Healthy);
    }

    [Fact]
    public async Task ServerBack_FoundByARefresh_StreamReconnectsWithoutWaitingOutItsBackoff()
    {
        // Found by the SDK walk: after a 30 s outage the stream's backoff had grown to RefreshInterval, so with the server back
        // a label moved waited up to 30 s more to arrive. The SDK's clock is a fake that never moves: the stream's backoff never
        // ends by itself, so only the refresh finding the server back can end it.
        var ct = TestContext.Current.CancellationToken;
        await using var server = await SdkServer.StartAsync(ct);
        var name = Prompts.NewName("server-back");
        await Prompts.CreateAsync(server.Api, name, "one", cancellationToken: ct);
        await using var host = await SdkHost.StartAsync(server.BaseAddress, server.AdminKey, o => o.RefreshInterval = TimeSpan.FromMinutes(10),
            services => services.AddSingleton<TimeProvider>(new FakeTimeProvider(DateTimeOffset.UtcNow)), ct);
        var health = host.Services.GetRequiredService<HealthCheckService>();
        var two = await server.Api.CreateVersionAsync(name, new CreateVersionRequest("two", ChangeDescription: "two"), ct);
        await server.Api.MoveLabelAsync(name, "production", two.Id, ct);
        await Eventually(async () => (await host.Vault.GetPromptAsync(name, cancellationToken: ct)).VersionId, id => id == two.Id);

        await server.StopAsync();
        host.Sdk.Snapshots.RequestRefresh(); // what the interval does: here it finds the server down
        await Eventually(async () => (await health.CheckHealthAsync(ct)).Entries["promptvault"].Data["serverReachable"], reachable => reachable is false);
        await server.StartAgainAsync(ct);
        host.Sdk.Snapshots.RequestRefresh(); // and here back
        await Eventually(async () => (await health.CheckHealthAsync(ct)).Entries["promptvault"].Data["serverReachable"], reachable => reachable is true);

        var three = await server.Api.CreateVersionAsync(name, new CreateVersionRequest("three", ChangeDescription: "three"), ct);
        await server.Api.MoveLabelAsync(name, "production", three.Id, ct);
        await Eventually(async () => (await host.Vault.GetPromptAsync(name, cancellationToken: ct)).VersionId, id => id == three.Id);
    }

    private static List<TimeSpan> FailedRefreshAges(LogCollector logs) =>
        logs.Entries.Where(e => e.EventId.Id == 2003)
            .Select(e => TimeSpan.Parse(Regex.Match(e.Message, @", (\S+) old$").Groups[1].Value, CultureInfo.InvariantCulture)).ToList();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task GetPromptAsync_KeyRevokedWhileRunning_StopsRefreshingLogsAnErrorAndServesTheLastSnapshot(bool useStream)
    {
        var ct = TestContext.Current.CancellationToken;
        var server = fixture.Server;
        var name = Prompts.NewName("revoked");
        var one = await Prompts.CreateAsync(server.Api, name, "one", cancellationToken: ct);
        var key = await server.Api.CreateKeyAsync(Prompts.NewName("app"), Core.Auth.ApiKeyRole.Reader, ct);
        // Polling goes through a proxy that counts the snapshot requests; the stream (which the proxy cannot pass through)
        // goes to the server, with an interval too long to matter, so only the stream can find the key revoked.
        await using var proxy = await LossyProxy.StartAsync(server.BaseAddress, ct);
        var logs = new LogCollector();
        await using var host = await SdkHost.StartAsync(useStream ? server.BaseAddress : proxy.BaseAddress, key.Key, o =>
        {
            o.RecordEvents = false; // a reader key may not record
            o.UseStream = useStream;
            o.RefreshInterval = useStream ? TimeSpan.FromHours(1) : TimeSpan.FromMilliseconds(100);
        }, services => services.AddSingleton<ILoggerProvider>(logs), ct);
        var health = host.Services.GetRequiredService<HealthCheckService>();

        await server.Api.RevokeKeyAsync(key.Id, ct);
        await Eventually(() => logs.Entries.Any(e => e.EventId.Id == 2007));
        // Refreshing stopped: its loops ended, so no refresh (nor a second line) can follow.
        var refresher = host.Services.GetServices<IHostedService>().OfType<PromptVaultRefresher>().Single();
        await refresher.ExecuteTask!.WaitAsync(TimeSpan.FromSeconds(10), ct);
        var report = (await health.CheckHealthAsync(ct)).Entries["promptvault"];

        var refused = Assert.Single(logs.Entries, e => e.EventId.Id == 2007);
        Assert.Equal(LogLevel.Error, refused.Level);
        Assert.Contains("refused the API key (401", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(logs.Entries, e => e.EventId.Id == 2003);
        if (!useStream) Assert.Single(proxy.Forwarded, r => r.Path == "/api/sdk/snapshot" && r.Status == 401);
        Assert.Equal(HealthStatus.Degraded, report.Status);
        Assert.Contains("refuses the API key", report.Description, StringComparison.Ordinal);
        Assert.Equal(one, (await host.Vault.GetPromptAsync(name, cancellationToken: ct)).VersionId);
    }

    private const string RootUrlHint = "PromptVault:ServerUrl takes the root URL 'promptvault serve' prints, with no path such as /api.";

    /// <summary>The errors of two starts that must both fail: with <paramref name="file"/> as the fallback snapshot, and without one.</summary>
    private static async Task<PromptVaultUnavailableException[]> StartFailuresWithAndWithoutFileAsync(Uri url, string key, string file, CancellationToken cancellationToken) =>
    [
        await Assert.ThrowsAsync<PromptVaultUnavailableException>(() =>
            SdkHost.StartAsync(url, key, o => o.FallbackSnapshotPath = file, cancellationToken: cancellationToken)),
        await Assert.ThrowsAsync<PromptVaultUnavailableException>(() => SdkHost.StartAsync(url, key, cancellationToken: cancellationToken)),
    ];

    /// <summary>The server's SDK snapshot, written to a new file (the fallback a deployment keeps).</summary>
    private static async Task<string> SnapshotFileAsync(SdkServer server, CancellationToken cancellationToken)
    {
        var file = Path.Combine(Path.GetTempPath(), $"pv-snapshot-{Guid.CreateVersion7():N}.json");
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        http.DefaultRequestHeaders.Authorization = new("Bearer", server.AdminKey);
        await File.WriteAllBytesAsync(file, await http.GetByteArrayAsync("/api/sdk/snapshot", cancellationToken), cancellationToken);
        return file;
    }

    /// <summary>Calls <paramref name="sending"/> for each request the client sends, in the sender's flow of execution.</summary>
    private sealed class Watch(Action sending) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            sending();
            return base.SendAsync(request, cancellationToken);
        }
    }
}
