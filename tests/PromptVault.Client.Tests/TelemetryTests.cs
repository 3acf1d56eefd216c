using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PromptVault.Client.Chat;

namespace PromptVault.Client.Tests;

/// <summary>The spans and instruments the SDK emits under <c>PromptVault.Client</c>.</summary>
public sealed class TelemetryTests(SdkServerFixture fixture) : IClassFixture<SdkServerFixture>
{
    [Fact]
    public async Task GetPromptAsync_WithAListener_EmitsASpanWithPromptVersionAndVariant()
    {
        var ct = TestContext.Current.CancellationToken;
        var server = fixture.Server;
        var name = Prompts.NewName("traced");
        (var one, var two, _) = await Prompts.SplitAsync(server.Api, name, ct);
        await using var host = await SdkHost.StartAsync(server.BaseAddress, server.AdminKey, o => o.UseStream = false, cancellationToken: ct);
        var spans = new ConcurrentQueue<Activity>();
        using var listener = ListenToSpans(spans);

        var resolved = await host.Vault.GetPromptAsync(name, unitId: "traced-unit", cancellationToken: ct);

        var span = Assert.Single(spans, s => (string?)s.GetTagItem(ClientTelemetry.PromptTag) == name);
        Assert.Equal(ClientTelemetry.ResolveSpan, span.OperationName);
        Assert.Equal(resolved.VersionId, span.GetTagItem(ClientTelemetry.VersionIdTag));
        Assert.Equal(resolved.VariantId, span.GetTagItem(ClientTelemetry.VariantIdTag));
        Assert.NotNull(resolved.VariantId);
    }

    [Fact]
    public async Task ChatMiddleware_StreamingWithAListener_EmitsAModelCallSpanAndRecordsTheTimeToFirstToken()
    {
        var ct = TestContext.Current.CancellationToken;
        var server = fixture.Server;
        var name = Prompts.NewName("traced-chat");
        await Prompts.SplitAsync(server.Api, name, ct);
        // Through a proxy that loses nothing, to read the metric event as the SDK sent it.
        await using var proxy = await LossyProxy.StartAsync(server.BaseAddress, ct);
        var model = new FakeChatClient
        {
            Stream = () => [new ChatResponseUpdate(ChatRole.Assistant, "Hel"), new ChatResponseUpdate(ChatRole.Assistant, "lo")],
        };
        await using var host = await SdkHost.StartAsync(proxy.BaseAddress, server.AdminKey, o => o.UseStream = false,
            services => services.AddChatClient(model).UsePromptVault(o => o.PromptName = name), ct);
        var chat = host.Services.GetRequiredService<IChatClient>();
        var spans = new ConcurrentQueue<Activity>();
        using var listener = ListenToSpans(spans);

        string? variant = null;
        var options = new ChatOptions { AdditionalProperties = new() { [PromptVaultChatClient.UnitIdProperty] = "traced-chat-unit" } };
        await foreach (var update in chat.GetStreamingResponseAsync([new(ChatRole.User, "Hi")], options, ct))
            variant = (string?)update.AdditionalProperties![PromptVaultChatClient.VariantIdProperty];
        await host.Vault.FlushAsync(ct);

        var span = Assert.Single(spans, s => s.OperationName == ClientTelemetry.ChatSpan && (string?)s.GetTagItem(ClientTelemetry.PromptTag) == name);
        Assert.Equal(ActivityKind.Client, span.Kind);
        Assert.NotNull(variant);
        Assert.Equal(variant, span.GetTagItem(ClientTelemetry.VariantIdTag));
        Assert.NotNull(span.GetTagItem(ClientTelemetry.VersionIdTag));
        var sent = proxy.Forwarded.Single(f => f.Path == "/api/metrics");
        var firstToken = JsonDocument.Parse(sent.Body).RootElement.GetProperty("events")[0].GetProperty("metadata").GetProperty("timeToFirstTokenMs").GetDouble();
        Assert.InRange(firstToken, 4, 10_000); // the fake model waits 5 ms before each update
    }

    [Fact]
    public async Task Meter_ReportsQueueDepthDropsAndSnapshotAge()
    {
        var ct = TestContext.Current.CancellationToken;
        var server = fixture.Server;
        await using var host = await SdkHost.StartAsync(server.BaseAddress, server.AdminKey, o => o.UseStream = false, cancellationToken: ct);
        var seen = new ConcurrentDictionary<string, double>(); // other tests' SDKs record on other threads meanwhile
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == ClientTelemetry.Name) l.EnableMeasurementEvents(instrument);
            },
        };
        listener.SetMeasurementEventCallback<int>((instrument, value, _, _) => seen[instrument.Name] = value);
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => seen[instrument.Name] = value);
        listener.SetMeasurementEventCallback<double>((instrument, value, _, _) => seen[instrument.Name] = value);
        listener.Start();

        listener.RecordObservableInstruments();

        Assert.Contains(ClientTelemetry.QueueDepthGauge, seen.Keys);
        Assert.Contains(ClientTelemetry.DroppedCounter, seen.Keys);
        Assert.True(seen[ClientTelemetry.SnapshotAgeGauge] >= 0);
    }

    /// <summary>Collects every span of the SDK's source that stops while the listener lives: also other tests' spans, stopping
    /// on other threads while this test reads (hence the concurrent queue).</summary>
    private static ActivityListener ListenToSpans(ConcurrentQueue<Activity> spans)
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == ClientTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }

    [Fact]
    public async Task HttpClientLogs_AnAppLoggingInformation_SeesNoPerRequestLinesFromTheSdk_UnlessItAsksForThem()
    {
        var ct = TestContext.Current.CancellationToken;
        var name = Prompts.NewName("quiet");
        await Prompts.CreateAsync(fixture.Server.Api, name, "hello", cancellationToken: ct);

        // Every request line the host logged, by client: the SDK's and the application's own client named PromptVaultBilling.
        async Task<ILookup<string, string>> RequestLinesAsync(Action<ILoggingBuilder> logging)
        {
            var logs = new LogCollector();
            await using (var host = await SdkHost.StartAsync(fixture.Server.BaseAddress, fixture.Server.AdminKey, o => o.UseStream = false,
                services =>
                {
                    services.AddLogging(builder => logging(builder.AddProvider(logs).SetMinimumLevel(LogLevel.Information)));
                    services.AddHttpClient("PromptVaultBilling", http => http.BaseAddress = fixture.Server.BaseAddress);
                }, ct))
            {
                var resolved = await host.Vault.GetPromptAsync(name, cancellationToken: ct);
                await host.Vault.RecordAsync(resolved, new PromptOutcome { QualityScore = 1 }, ct);
                await host.Vault.FlushAsync(ct);
                await host.Services.GetRequiredService<PromptVaultClient>().ListPromptsAsync(cancellationToken: ct);
                using var billing = await host.Services.GetRequiredService<IHttpClientFactory>().CreateClient("PromptVaultBilling").GetAsync("/healthz", ct);
            }
            const string prefix = "System.Net.Http.HttpClient.";
            return logs.Entries.Where(e => e.Category.StartsWith(prefix, StringComparison.Ordinal))
                .ToLookup(e => e.Category[prefix.Length..e.Category.LastIndexOf('.')], e => e.Message);
        }

        var quiet = await RequestLinesAsync(_ => { });
        var asked = await RequestLinesAsync(logging => logging
            .AddFilter("System.Net.Http.HttpClient.PromptVault.LogicalHandler", LogLevel.Information)
            .AddFilter("System.Net.Http.HttpClient.PromptVault.ClientHandler", LogLevel.Information));

        Assert.Equal(["PromptVaultBilling"], quiet.Select(client => client.Key));
        Assert.Contains(quiet["PromptVaultBilling"], line => line.StartsWith("Sending HTTP request GET", StringComparison.Ordinal) && line.Contains("/healthz", StringComparison.Ordinal));
        Assert.Contains(asked["PromptVault"], line => line.StartsWith("Sending HTTP request GET", StringComparison.Ordinal) && line.Contains("/api/prompts", StringComparison.Ordinal));
        Assert.Contains(asked["PromptVault"], line => line.StartsWith("Sending HTTP request POST", StringComparison.Ordinal) && line.Contains("/api/metrics", StringComparison.Ordinal));
    }
}
