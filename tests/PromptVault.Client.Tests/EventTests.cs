using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PromptVault.Core;
using PromptVault.Core.Metrics;

namespace PromptVault.Client.Tests;

/// <summary>The SDK's queue of exposures and metric events: never blocking the caller, sent on dispose, dropping the oldest
/// when full, and storing odd but sendable events and those after them.</summary>
/// <remarks>The test that stops its server owns it; the others share one, each with its own prompts.</remarks>
public sealed class EventTests(SdkServerFixture fixture) : IClassFixture<SdkServerFixture>
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Dispose_ProviderWithoutAHost_SendsTheQueuedEvents(bool synchronously)
    {
        var ct = TestContext.Current.CancellationToken;
        var server = fixture.Server;
        var name = Prompts.NewName("sync-dispose");
        var one = await Prompts.CreateAsync(server.Api, name, "one", cancellationToken: ct);
        var provider = new ServiceCollection().AddPromptVault(o => { o.ServerUrl = server.BaseAddress; o.ApiKey = server.AdminKey; }).BuildServiceProvider();
        var vault = provider.GetRequiredService<IPromptVault>();
        await vault.RecordAsync(await vault.GetPromptAsync(name, cancellationToken: ct), new PromptOutcome { InputTokens = 3 }, ct);

        if (synchronously) provider.Dispose(); // as `using var provider = ...` does
        else await provider.DisposeAsync();

        Assert.Equal(1, (await server.Api.GetVersionMetricsAsync(name, one, MetricPeriod.All, ct)).Summary.Count);
    }

    [Fact]
    public async Task RecordAsync_QueueFull_DropsTheOldestAndCountsThem()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await SdkServer.StartAsync(ct);
        var name = Prompts.NewName("full");
        var one = await Prompts.CreateAsync(server.Api, name, "one", cancellationToken: ct);
        await using var host = await SdkHost.StartAsync(server.BaseAddress, server.AdminKey, o =>
        {
            o.EventQueueCapacity = 50;
            o.EventBatchSize = 10;
            o.EventFlushInterval = TimeSpan.FromMilliseconds(10);
            o.EventRetryMaxDelay = TimeSpan.FromMilliseconds(100);
        }, cancellationToken: ct);
        var resolution = await host.Vault.GetPromptAsync(name, cancellationToken: ct);

        await server.StopAsync();
        for (var i = 0; i < 500; i++)
            await host.Vault.RecordAsync(resolution, new PromptOutcome { QualityScore = i }, ct);
        var dropped = host.Sdk.Events.Dropped;
        await server.StartAgainAsync(ct);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(TimeSpan.FromSeconds(30));
        await host.Vault.FlushAsync(limit.Token);
        var summary = (await server.Api.GetVersionMetricsAsync(name, one, MetricPeriod.All, ct)).Summary;

        // The queue holds 50 and the sender one batch of at most 10: the rest were dropped, oldest first.
        Assert.InRange(dropped, 500 - 60, 500 - 50);
        Assert.Equal(500, dropped + summary.Count);
        // The newest 50 (scores 450–499) are all kept, besides the up to 10 older ones of the sender's batch in hand.
        var kept = summary.QualityScore.Mean!.Value * summary.Count;
        Assert.True(kept >= Enumerable.Range(450, 50).Sum() - 1e-6, $"scores kept sum to {kept}: the newest 50 should all be there");
    }

    [Fact]
    public async Task RecordAsync_OddButSendableOutcomes_StoredAndTheEventsAfterThemToo()
    {
        var ct = TestContext.Current.CancellationToken;
        var server = fixture.Server;
        var name = Prompts.NewName("odd");
        var one = await Prompts.CreateAsync(server.Api, name, "one", cancellationToken: ct);
        await using var host = await SdkHost.StartAsync(server.BaseAddress, server.AdminKey, o =>
        {
            o.EventBatchSize = 1;
            o.EventFlushInterval = TimeSpan.FromMilliseconds(10);
            o.EventRetryMaxDelay = TimeSpan.FromMilliseconds(100);
        }, cancellationToken: ct);
        var resolution = await host.Vault.GetPromptAsync(name, cancellationToken: ct);

        // JSON has no NaN: refused at once, naming the field, instead of failing later in the background.
        var refused = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () =>
            await host.Vault.RecordAsync(resolution, new PromptOutcome { Cost = double.NaN }, ct));
        Assert.Equal("outcome.Cost", refused.ParamName);
        // Values the server's rule (MetricEventRules) refuses were once queued and dropped in the background, logged only.
        var negative = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () =>
            await host.Vault.RecordAsync(resolution, new PromptOutcome { UserFeedback = -1 }, ct));
        Assert.Equal("outcome.UserFeedback", negative.ParamName);
        Assert.Contains("userFeedback must be a finite number ≥ 0, got -1", negative.Message, StringComparison.Ordinal);
        var negativeLatency = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () =>
            await host.Vault.RecordAsync(resolution, new PromptOutcome { Latency = TimeSpan.FromMilliseconds(-5) }, ct));
        Assert.Equal("outcome.Latency", negativeLatency.ParamName);
        var blankError = await Assert.ThrowsAsync<ArgumentException>(async () =>
            await host.Vault.RecordFeedbackAsync(resolution.ResolutionId, new PromptOutcome { Error = " " }, ct));
        Assert.Equal("outcome.Error", blankError.ParamName);
        var longId = await Assert.ThrowsAsync<ArgumentException>(async () =>
            await host.Vault.RecordAsync(resolution, new PromptOutcome { Id = new string('a', 257) }, ct));
        Assert.Equal("outcome.Id", longId.ParamName);
        using (var array = JsonDocument.Parse("[1]"))
        {
            var notAnObject = await Assert.ThrowsAsync<ArgumentException>(async () =>
                await host.Vault.RecordAsync(resolution, new PromptOutcome { Metadata = array.RootElement }, ct));
            Assert.Equal("outcome.Metadata", notAnObject.ParamName);
        }
        // Text the server refuses (U+0000, which PostgreSQL cannot store) would take its batch's other events with it.
        var nulError = await Assert.ThrowsAsync<ArgumentException>(async () =>
            await host.Vault.RecordAsync(resolution, new PromptOutcome { Error = "time\0out" }, ct));
        Assert.Equal("outcome.Error", nulError.ParamName);
        var loneSurrogate = await Assert.ThrowsAsync<ArgumentException>(async () =>
            await host.Vault.RecordAsync(resolution, new PromptOutcome { Id = "call-\ud800" }, ct));
        Assert.Equal("outcome.Id", loneSurrogate.ParamName);
        Assert.Contains("not valid UTF-16", loneSurrogate.Message, StringComparison.Ordinal);
        using (var nul = JsonDocument.Parse("""{"note":["\u0000"]}"""))
        {
            var nulMetadata = await Assert.ThrowsAsync<ArgumentException>(async () =>
                await host.Vault.RecordAsync(resolution, new PromptOutcome { Metadata = nul.RootElement }, ct));
            Assert.Contains("note[0]", nulMetadata.Message, StringComparison.Ordinal);
        }
        var nulUnit = await Assert.ThrowsAsync<InvalidInputException>(async () =>
            await host.Vault.GetPromptAsync(name, unitId: "user\0", cancellationToken: ct));
        Assert.Equal(("invalid_text", "unitId"), (nulUnit.Code, nulUnit.Field));
        // A timestamp left at its default (year 1) once made the event's id throw in the sender, which then sent nothing more.
        await host.Vault.RecordAsync(resolution, new PromptOutcome { Timestamp = default(DateTimeOffset), QualityScore = 1 }, ct);
        // Metadata whose document the caller disposes as soon as recording returns.
        using (var document = JsonDocument.Parse("""{"request":"r-1"}"""))
            await host.Vault.RecordAsync(resolution, new PromptOutcome { Metadata = document.RootElement, QualityScore = 2 }, ct);
        await host.Vault.RecordAsync(resolution, new PromptOutcome { QualityScore = 3 }, ct);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(TimeSpan.FromSeconds(30));
        await host.Vault.FlushAsync(limit.Token);

        var summary = (await server.Api.GetVersionMetricsAsync(name, one, MetricPeriod.All, ct)).Summary;
        Assert.Equal(3, summary.Count);
        Assert.Equal(2, summary.QualityScore.Mean);
        Assert.Equal(0, host.Sdk.Events.Rejected);
    }

    [Fact]
    public async Task RecordFeedbackAsync_FromAnotherProcess_AttachedToTheCallsVersionVariantAndUnit()
    {
        var ct = TestContext.Current.CancellationToken;
        var server = fixture.Server;
        var name = Prompts.NewName("feedback");
        (var one, var two, var experiment) = await Prompts.SplitAsync(server.Api, name, ct);
        string resolutionId;
        ResolvedPrompt resolution;
        await using (var web = await SdkHost.StartAsync(server.BaseAddress, server.AdminKey, cancellationToken: ct))
        {
            resolution = await web.Vault.GetPromptAsync(name, unitId: "user-7", cancellationToken: ct);
            resolutionId = resolution.ResolutionId;
        }

        await using var worker = await SdkHost.StartAsync(server.BaseAddress, server.AdminKey, cancellationToken: ct);
        await worker.Vault.RecordFeedbackAsync(resolutionId, new PromptOutcome { UserFeedback = 1, Converted = true }, ct);
        await worker.Vault.FlushAsync(ct);

        var summary = (await server.Api.GetVersionMetricsAsync(name, resolution.VersionId, MetricPeriod.All, ct)).Summary;
        var variant = (await server.Api.GetResultsAsync(experiment.Id, ct)).Variants.Single(v => v.VariantId == resolution.VariantId);
        Assert.Equal(1, summary.Count);
        Assert.Equal(1, summary.UserFeedback.Mean);
        Assert.Equal(1, variant.Exposures);
        Assert.Equal(0, variant.UnattributedEvents);
        Assert.True(resolutionId.Length < 120, $"resolution id of {resolutionId.Length} characters: {resolutionId}");
    }

    [Fact]
    public async Task FlushAsync_ExperimentCancelledMeanwhile_DropsOnlyItsEventsAndStoresTheRest()
    {
        var ct = TestContext.Current.CancellationToken;
        var server = fixture.Server;
        var tested = Prompts.NewName("cancelled");
        (var one, var two, var experiment) = await Prompts.SplitAsync(server.Api, tested, ct);
        var plain = Prompts.NewName("plain");
        var plainVersion = await Prompts.CreateAsync(server.Api, plain, "plain", cancellationToken: ct);
        // Nothing is sent before FlushAsync.
        var logs = new LogCollector();
        await using var host = await SdkHost.StartAsync(server.BaseAddress, server.AdminKey, o => o.EventFlushInterval = TimeSpan.FromHours(1),
            services => services.AddSingleton<ILoggerProvider>(logs).Configure<LoggerFilterOptions>(o => o.MinLevel = LogLevel.Information), ct);
        var inExperiment = await host.Vault.GetPromptAsync(tested, unitId: "unit-1", cancellationToken: ct);
        await host.Vault.RecordAsync(inExperiment, new PromptOutcome { QualityScore = 1 }, ct);
        await host.Vault.RecordAsync(await host.Vault.GetPromptAsync(plain, cancellationToken: ct), new PromptOutcome { QualityScore = 1 }, ct);
        await server.Api.ChangeExperimentAsync(experiment.Id, ExperimentCommand.Cancel, ct);

        await host.Vault.FlushAsync(ct);

        Assert.Equal(2, host.Sdk.Events.Rejected); // the exposure and the event naming the cancelled experiment
        Assert.Equal(1, (await server.Api.GetVersionMetricsAsync(plain, plainVersion, MetricPeriod.All, ct)).Summary.Count);
        var sent = Assert.Single(logs.Entries, e => e.EventId.Id is 2102 or 2107);
        Assert.Equal("1 metric events sent again without the 1 refused by the server", sent.Message);
    }

}
