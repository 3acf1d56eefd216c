using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PromptVault.Core;
using PromptVault.Core.Metrics;

namespace PromptVault.Client.Tests;

/// <summary>Exposures and metric events reach the server once each through outages, hangs, lost answers and refusals.</summary>
/// <remarks>A test that stops its server owns it; the others share one, each with its own prompt and proxy.</remarks>
public sealed class EventDeliveryTests(SdkServerFixture fixture) : IClassFixture<SdkServerFixture>
{
    [Fact]
    public async Task RecordAsync_ServerDownForAWhile_EveryQueuedEventStoredExactlyOnce()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await SdkServer.StartAsync(ct);
        var name = Prompts.NewName("outage");
        (var one, var two, var experiment) = await Prompts.SplitAsync(server.Api, name, ct);
        var logs = new LogCollector();
        await using var host = await SdkHost.StartAsync(server.BaseAddress, server.AdminKey, o =>
        {
            o.EventBatchSize = 40;
            o.EventFlushInterval = TimeSpan.FromMilliseconds(20);
            o.EventRetryMaxDelay = TimeSpan.FromMilliseconds(200);
            o.RequestTimeout = TimeSpan.FromSeconds(2);
        }, services => services.AddSingleton<ILoggerProvider>(logs), ct);
        var resolutions = new List<ResolvedPrompt>();
        for (var i = 0; i < 100; i++) resolutions.Add(await host.Vault.GetPromptAsync(name, unitId: $"unit-{i}", cancellationToken: ct));
        await host.Vault.FlushAsync(ct);

        await server.StopAsync();
        foreach (var resolution in resolutions)
        {
            for (var call = 0; call < 3; call++)
            {
                var recorded = host.Vault.RecordAsync(resolution, new PromptOutcome { Latency = TimeSpan.FromMilliseconds(100 + call), InputTokens = 10, OutputTokens = 5 }, ct);
                Assert.True(recorded.IsCompletedSuccessfully);
            }
        }
        // Several failed attempts (logged as not sent) before the server is back.
        await Eventually(() => NotSent(logs) >= 3);
        await server.StartAgainAsync(ct);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(TimeSpan.FromSeconds(30));
        await host.Vault.FlushAsync(limit.Token);

        var counts = new long[2];
        foreach (var (version, index) in new[] { (one, 0), (two, 1) })
            counts[index] = (await server.Api.GetVersionMetricsAsync(name, version, MetricPeriod.All, ct)).Summary.Count;
        var results = await server.Api.GetResultsAsync(experiment.Id, ct);
        Assert.Equal(300, counts.Sum());
        Assert.Equal(3 * resolutions.Count(r => r.VersionId == one), counts[0]);
        Assert.Equal(0, host.Sdk.Events.Dropped);
        Assert.Equal(0, host.Sdk.Events.Rejected);
        Assert.Equal(100, results.Variants.Sum(v => v.Exposures));
    }

    [Fact]
    public async Task FlushAsync_HostStopsWithEventsUnsent_ThrowsSayingHowManyWereNotSent()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await SdkServer.StartAsync(ct);
        var name = Prompts.NewName("stop-unsent");
        await Prompts.CreateAsync(server.Api, name, "one", cancellationToken: ct);
        var host = await SdkHost.StartAsync(server.BaseAddress, server.AdminKey, o =>
        {
            o.EventFlushInterval = TimeSpan.FromMilliseconds(20);
            o.EventRetryMaxDelay = TimeSpan.FromMilliseconds(200);
            o.RequestTimeout = TimeSpan.FromSeconds(1);
            o.UseStream = false;
        }, cancellationToken: ct);
        var resolution = await host.Vault.GetPromptAsync(name, cancellationToken: ct);
        await server.StopAsync();
        for (var i = 0; i < 3; i++)
            await host.Vault.RecordAsync(resolution, new PromptOutcome { QualityScore = i }, ct);

        // A caller awaiting the flush while the application stops (the server still down): the stop gives up on the events.
        var flush = host.Vault.FlushAsync(ct);
        await host.DisposeAsync();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => flush);
        Assert.Contains("stopped before 3 of the events queued before this flush were sent", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RecordAsync_ServerHangsLongerThanTheRequestTimeout_RetriedAndStoredOnce()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await SdkServer.StartAsync(ct);
        var name = Prompts.NewName("hang");
        var one = await Prompts.CreateAsync(server.Api, name, "one", cancellationToken: ct);
        var logs = new LogCollector();
        await using var host = await SdkHost.StartAsync(server.BaseAddress, server.AdminKey, o =>
        {
            o.EventFlushInterval = TimeSpan.FromMilliseconds(20);
            o.EventRetryMaxDelay = TimeSpan.FromMilliseconds(200);
            o.RequestTimeout = TimeSpan.FromSeconds(1);
            o.UseStream = false;
        }, services => services.AddSingleton<ILoggerProvider>(logs), ct);
        var resolution = await host.Vault.GetPromptAsync(name, cancellationToken: ct);
        await server.StopAsync();
        // The server's port taken by a socket that accepts connections and never answers: every attempt hits the request timeout.
        using var listener = new TcpListener(IPAddress.Loopback, server.BaseAddress.Port);
        listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Start();
        var held = new ConcurrentBag<TcpClient>();
        var accepting = Task.Run(async () =>
        {
            try { while (true) held.Add(await listener.AcceptTcpClientAsync(ct)); }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException) { }
        }, ct);

        await host.Vault.RecordAsync(resolution, new PromptOutcome { InputTokens = 1 }, ct);
        // Two attempts given up on at the request timeout (only a timeout ends them while the socket holds them).
        await Eventually(() => NotSent(logs) >= 2);
        listener.Stop();
        await accepting;
        foreach (var connection in held) connection.Dispose();
        await server.StartAgainAsync(ct);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(TimeSpan.FromSeconds(30));
        await host.Vault.FlushAsync(limit.Token);

        Assert.Equal(0, host.Sdk.Events.Rejected);
        Assert.Equal(1, (await server.Api.GetVersionMetricsAsync(name, one, MetricPeriod.All, ct)).Summary.Count);
    }

    [Theory]
    [InlineData("/api/metrics")]
    [InlineData("/api/exposures")]
    public async Task RecordAsync_AnswerLostAfterTheServerStoredTheBatch_EveryResendCarriesTheSameKeyAndItIsStoredOnce(string path)
    {
        var ct = TestContext.Current.CancellationToken;
        var server = fixture.Server;
        var name = Prompts.NewName("lost");
        (_, _, var experiment) = await Prompts.SplitAsync(server.Api, name, ct);
        await using var proxy = await LossyProxy.StartAsync(server.BaseAddress, ct);
        // More answers lost than the HTTP pipeline retries, so the queue sends the batch again too.
        var lost = 0;
        // The start's check of the key's role (an empty exposure batch, refused 400) is answered as sent, and not counted below.
        proxy.LoseAnswer = request => request.Path == path && request.Status == 200 && Interlocked.Increment(ref lost) <= 5;
        await using var host = await SdkHost.StartAsync(proxy.BaseAddress, server.AdminKey, o =>
        {
            o.UseStream = false;
            o.EventFlushInterval = TimeSpan.FromHours(1);
            o.EventRetryMaxDelay = TimeSpan.FromMilliseconds(200);
        }, cancellationToken: ct);
        var resolution = await host.Vault.GetPromptAsync(name, unitId: "unit-1", cancellationToken: ct);
        for (var i = 0; i < 5; i++)
            await host.Vault.RecordAsync(resolution, new PromptOutcome { QualityScore = i }, ct);

        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(TimeSpan.FromSeconds(30));
        await host.Vault.FlushAsync(limit.Token);

        var posts = proxy.Forwarded.Where(f => f.Path == path && f.Status != 400).ToList();
        Assert.True(posts[0].AnswerLost && posts[0].Status == 200, "the first batch was stored by the server and its answer lost");
        Assert.Equal(6, posts.Count);
        Assert.False(posts[^1].AnswerLost);
        Assert.NotEqual("", posts[0].IdempotencyKey);
        Assert.All(posts, p => Assert.Equal(posts[0].IdempotencyKey, p.IdempotencyKey));
        Assert.All(posts, p => Assert.Equal(posts[0].Body, p.Body));
        var summary = (await server.Api.GetVersionMetricsAsync(name, resolution.VersionId, MetricPeriod.All, ct)).Summary;
        Assert.Equal(5, summary.Count);
        Assert.Equal(2, summary.QualityScore.Mean);
        Assert.Equal(1, (await server.Api.GetResultsAsync(experiment.Id, ct)).Variants.Sum(v => v.Exposures));
        Assert.Equal(0, host.Sdk.Events.Rejected);
    }

    [Fact]
    public async Task FlushAsync_ServerAnswers503WithRetryAfter_NoAttemptComesSoonerThanAsked()
    {
        var ct = TestContext.Current.CancellationToken;
        var server = fixture.Server;
        var name = Prompts.NewName("busy");
        await Prompts.CreateAsync(server.Api, name, "one", cancellationToken: ct);
        await using var proxy = await LossyProxy.StartAsync(server.BaseAddress, ct);
        // More 503s than the resilience handler's own retries (which honour Retry-After) take, so the queue's retry must too.
        var refused = 0;
        proxy.AnswerInstead = (request, _) => request.Path == "/api/metrics" && Interlocked.Increment(ref refused) <= 5 ? (503, 1) : null;
        await using var host = await SdkHost.StartAsync(proxy.BaseAddress, server.AdminKey, o =>
        {
            o.UseStream = false;
            o.EventFlushInterval = TimeSpan.FromHours(1);
        }, cancellationToken: ct);
        await host.Vault.RecordAsync(await host.Vault.GetPromptAsync(name, cancellationToken: ct), new PromptOutcome { QualityScore = 1 }, ct);

        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(TimeSpan.FromSeconds(60));
        await host.Vault.FlushAsync(limit.Token);

        var posts = MetricPosts(proxy);
        Assert.Equal([503, 503, 503, 503, 503, 200], posts.Select(p => p.Status));
        var gaps = posts.Zip(posts.Skip(1), (a, b) => b.At - a.At).ToList();
        // A second asked; a little less allowed for the clocks' granularity.
        Assert.All(gaps, gap => Assert.True(gap >= TimeSpan.FromMilliseconds(900), $"an attempt came {gap.TotalMilliseconds:0} ms after a 503 asking for 1 s"));
    }

    [Fact]
    public async Task FlushAsync_BatchLargerThanTheBodyLimit_SentInHalvesAndNothingLost()
    {
        var ct = TestContext.Current.CancellationToken;
        var server = fixture.Server;
        var name = Prompts.NewName("large");
        var one = await Prompts.CreateAsync(server.Api, name, "one", cancellationToken: ct);
        await using var proxy = await LossyProxy.StartAsync(server.BaseAddress, ct);
        // A proxy in front of the server that takes bodies of about two of these events, as nginx's client_max_body_size would.
        proxy.AnswerInstead = (request, length) => request.Path == "/api/metrics" && length > 3_000 ? (413, null) : null;
        await using var host = await SdkHost.StartAsync(proxy.BaseAddress, server.AdminKey, o =>
        {
            o.UseStream = false;
            o.EventFlushInterval = TimeSpan.FromHours(1);
        }, cancellationToken: ct);
        var resolution = await host.Vault.GetPromptAsync(name, cancellationToken: ct);
        using var metadata = JsonDocument.Parse($$"""{ "pad": "{{new string('x', 1_000)}}" }""");
        for (var i = 0; i < 8; i++)
            await host.Vault.RecordAsync(resolution, new PromptOutcome { QualityScore = i, Metadata = metadata.RootElement }, ct);

        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(TimeSpan.FromSeconds(30));
        await host.Vault.FlushAsync(limit.Token);

        Assert.Contains(MetricPosts(proxy), p => p.Status == 413);
        Assert.Equal(8, MetricPosts(proxy).Where(p => p.Status == 200).Sum(p => EventIds(p.Body).Count));
        Assert.Equal(8, (await server.Api.GetVersionMetricsAsync(name, one, MetricPeriod.All, ct)).Summary.Count);
        Assert.Equal(0, host.Sdk.Events.Rejected);
    }

    private static List<ForwardedRequest> MetricPosts(LossyProxy proxy) => proxy.Forwarded.Where(f => f.Path == "/api/metrics").ToList();

    private static List<string> EventIds(string batch) =>
        JsonDocument.Parse(batch).RootElement.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("id").GetString()!).ToList();


    /// <summary>How many times the SDK logged events as not sent (each a failed attempt it will retry).</summary>
    private static int NotSent(LogCollector logs) => logs.Entries.Count(e => e.EventId.Id == 2101);
}
