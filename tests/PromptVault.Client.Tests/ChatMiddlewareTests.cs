using System.ClientModel;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;
using PromptVault.Core.Contracts;
using PromptVault.Client.Chat;
using PromptVault.Core.Metrics;
using PromptVault.Core.Prompts;
using PromptVault.Server.Tests;

namespace PromptVault.Client.Tests;

/// <summary><c>UsePromptVault</c> against a real server, with a fake model provider.</summary>
public sealed class ChatMiddlewareTests(SdkServerFixture fixture) : IClassFixture<SdkServerFixture>
{
    private SdkServer Server => fixture.Server;

    private static readonly PromptMetadata Settings = new() { Model = "gpt-4o-mini", Temperature = 0.2, MaxTokens = 300, TopP = 0.9 };

    private async Task<(SdkHost Host, IChatClient Chat, FakeChatClient Model, string Name, string VersionId)> StartAsync(string stem, CancellationToken ct)
    {
        var name = Prompts.NewName(stem);
        var version = await Prompts.CreateAsync(Server.Api, name, "You help customers of {{company}}.", [new("company", Required: true)], Settings, cancellationToken: ct);
        var model = new FakeChatClient();
        var host = await SdkHost.StartAsync(Server.BaseAddress, Server.AdminKey, o => o.EventFlushInterval = TimeSpan.FromMilliseconds(20),
            services => services.AddChatClient(model).UsePromptVault(o => o.PromptName = name), ct);
        return (host, host.Services.GetRequiredService<IChatClient>(), model, name, version);
    }

    private static ChatOptions Call(string unit) => new()
    {
        ModelId = "caller-model",
        AdditionalProperties = new()
        {
            [PromptVaultChatClient.UnitIdProperty] = unit,
            [PromptVaultChatClient.VariablesProperty] = new Dictionary<string, object?> { ["company"] = "Acme" },
        },
    };

    [Fact]
    public async Task GetResponseAsync_VariablesThePromptRefuses_NotSent_TheErrorNamesThePromptAndTheVariable()
    {
        var ct = TestContext.Current.CancellationToken;
        var (host, chat, model, name, _) = await StartAsync("refused", ct);
        await using var _ = host;

        var error = await Assert.ThrowsAsync<Core.InvalidInputException>(() => chat.GetResponseAsync([new(ChatRole.User, "hi")], new ChatOptions(), ct));

        Assert.Equal($"prompt '{name}' version 1.0.0 refused the render: variable 'company' is required.", error.Message);
        Assert.Equal("missing_variable", error.Code);
        Assert.Empty(model.Calls);
    }

    [Fact]
    public async Task GetResponseAsync_PropertyOfTheWrongType_RefusedNamingIt()
    {
        var ct = TestContext.Current.CancellationToken;
        var (host, chat, model, _, _) = await StartAsync("wrong-type", ct);
        await using var _ = host;
        // A Dictionary<string, string> is no IReadOnlyDictionary<string, object?>: it once counted as no variables, and the
        // refusal named the variable 'company' as missing; a Guid unit counted as no unit.
        var variables = new ChatOptions { AdditionalProperties = new() { [PromptVaultChatClient.VariablesProperty] = new Dictionary<string, string> { ["company"] = "Acme" } } };
        var unit = Call("u");
        unit.AdditionalProperties![PromptVaultChatClient.UnitIdProperty] = Guid.Empty;

        var wrongVariables = await Assert.ThrowsAsync<ArgumentException>(() => chat.GetResponseAsync([new(ChatRole.User, "hi")], variables, ct));
        var wrongUnit = await Assert.ThrowsAsync<ArgumentException>(() => chat.GetResponseAsync([new(ChatRole.User, "hi")], unit, ct));

        Assert.Contains("[\"promptvault.variables\"] is a System.Collections.Generic.Dictionary`2[System.String,System.String]", wrongVariables.Message, StringComparison.Ordinal);
        Assert.Contains("must be a System.Collections.Generic.IReadOnlyDictionary`2[System.String,System.Object]", wrongVariables.Message, StringComparison.Ordinal);
        Assert.Contains("[\"promptvault.unit_id\"] is a System.Guid; it must be a System.String.", wrongUnit.Message, StringComparison.Ordinal);
        Assert.Empty(model.Calls);
    }

    [Fact]
    public async Task GetResponseAsync_SendsTheRenderedPromptAndSettings_RecordsLatencyTokensAndCost()
    {
        var ct = TestContext.Current.CancellationToken;
        var (host, chat, model, name, version) = await StartAsync("chat", ct);
        await using var _ = host;
        model.Respond = () => new ChatResponse(new ChatMessage(ChatRole.Assistant, "Hello!"))
        {
            ModelId = "gpt-4o-mini",
            Usage = new UsageDetails { InputTokenCount = 1_000, OutputTokenCount = 200 },
        };
        var options = Call("user-1");
        List<ChatMessage> messages = [new(ChatRole.User, "Where is my order?")];

        var response = await chat.GetResponseAsync(messages, options, ct);
        await host.Vault.FlushAsync(ct);

        var (sent, sentOptions) = Assert.Single(model.Calls);
        Assert.Equal([ChatRole.System, ChatRole.User], sent.Select(m => m.Role));
        Assert.Equal("You help customers of Acme.", sent[0].Text);
        Assert.Equal("gpt-4o-mini", sentOptions!.ModelId);
        Assert.Equal(0.2f, sentOptions.Temperature);
        Assert.Equal(300, sentOptions.MaxOutputTokens);
        Assert.Equal(0.9f, sentOptions.TopP);
        Assert.Single(messages); // the caller's list and options are left alone
        Assert.Equal("caller-model", options.ModelId);
        Assert.Equal(version, response.AdditionalProperties![PromptVaultChatClient.VersionIdProperty]);
        var summary = (await Server.Api.GetVersionMetricsAsync(name, version, MetricPeriod.All, ct)).Summary;
        Assert.Equal(1, summary.Count);
        Assert.Equal(0, summary.Errors);
        Assert.Equal(1_000, summary.InputTokens.Total);
        Assert.Equal(200, summary.OutputTokens.Total);
        Assert.Equal((1_000 * 0.15 + 200 * 0.60) / 1_000_000, summary.Cost.Total!.Value, 12);
        Assert.Equal(1, summary.LatencyMs.N);
    }

    [Fact]
    public async Task GetResponseAsync_CostAboveWhatTheServerTakes_AnswerReturned_EventRecordedWithoutTheCost_WithALogNamingIt()
    {
        var ct = TestContext.Current.CancellationToken;
        var name = Prompts.NewName("chat-costly");
        var version = await Prompts.CreateAsync(Server.Api, name, "You help customers of {{company}}.", [new("company", Required: true)], Settings, cancellationToken: ct);
        var model = new FakeChatClient();
        var logs = new LogCollector();
        // A price table of the caller's, a million per million tokens: 200,000 tokens cost 200,000, above MetricEventRules.MaxCost.
        var prices = new PriceTable([new("gpt-4o-mini", new ModelPrice(1_000_000, 1_000_000))]);
        await using var host = await SdkHost.StartAsync(Server.BaseAddress, Server.AdminKey, o => o.EventFlushInterval = TimeSpan.FromMilliseconds(20),
            services => services.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(logs)
                .AddChatClient(model).UsePromptVault(o => (o.PromptName, o.Prices) = (name, prices)), ct);
        var chat = host.Services.GetRequiredService<IChatClient>();
        var tokens = 200_000L;
        model.Respond = () => new ChatResponse(new ChatMessage(ChatRole.Assistant, "Hello!"))
        {
            ModelId = "gpt-4o-mini",
            Usage = new UsageDetails { InputTokenCount = tokens, OutputTokenCount = 0 },
        };

        var costly = await chat.GetResponseAsync([new(ChatRole.User, "Hi")], Call("user-costly"), ct);
        tokens = 1_000;
        await chat.GetResponseAsync([new(ChatRole.User, "Hi")], Call("user-cheap"), ct);
        await host.Vault.FlushAsync(ct);

        Assert.Equal("Hello!", costly.Text);
        var withoutCost = Assert.Single(logs.Entries, e => e.EventId.Id is 2202 or 2203);
        Assert.Equal(2203, withoutCost.EventId.Id);
        Assert.Contains("cost 200000", withoutCost.Message, StringComparison.Ordinal);
        Assert.Contains("must be at most 100,000", withoutCost.Message, StringComparison.Ordinal);
        var summary = (await Server.Api.GetVersionMetricsAsync(name, version, MetricPeriod.All, ct)).Summary;
        Assert.Equal(2, summary.Count); // the costly call's latency and tokens count, as do the next call's
        Assert.Equal(2, summary.LatencyMs.N);
        Assert.Equal(201_000, summary.InputTokens.Total);
        // Sent without a cost, the costly event's tokens are priced by the server, at its price of the version's model.
        Assert.Equal(1_000 + 200_000 * 0.15 / 1_000_000, summary.Cost.Total!.Value, 6);
    }

    /// <summary>
    /// The server's price table prices the call's tokens above MetricEventRules.MaxCost too (after the SDK's own table did, or
    /// with pricing left to the server): the server refused the event whole for a cost it had priced itself, and the call was
    /// not counted at all (the sender dropped it, event 2103). It is recorded without a cost, its latency and tokens counted.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task GetResponseAsync_TokensTheServerAlsoPricesAboveMaxCost_EventRecordedWithoutACost(bool sdkPrices)
    {
        var ct = TestContext.Current.CancellationToken;
        // A million per million input tokens at the server too: 200,000 tokens cost 200,000.
        await using var server = await SdkServer.StartAsync(
            ["--PromptVault:Prices:gpt-4o-mini:InputPerMillion=1000000", "--PromptVault:Prices:gpt-4o-mini:OutputPerMillion=0"], ct);
        var name = Prompts.NewName("chat-priced-costly");
        var version = await Prompts.CreateAsync(server.Api, name, "You help customers of {{company}}.", [new("company", Required: true)], Settings, cancellationToken: ct);
        var model = new FakeChatClient();
        var logs = new LogCollector();
        var prices = sdkPrices ? new PriceTable([new("gpt-4o-mini", new ModelPrice(1_000_000, 1_000_000))]) : null;
        await using var host = await SdkHost.StartAsync(server.BaseAddress, server.AdminKey, o => o.EventFlushInterval = TimeSpan.FromMilliseconds(20),
            services => services.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(logs)
                .AddChatClient(model).UsePromptVault(o => (o.PromptName, o.Prices) = (name, prices)), ct);
        var chat = host.Services.GetRequiredService<IChatClient>();
        model.Respond = () => new ChatResponse(new ChatMessage(ChatRole.Assistant, "Hello!"))
        {
            ModelId = "gpt-4o-mini",
            Usage = new UsageDetails { InputTokenCount = 200_000, OutputTokenCount = 10 },
        };

        var answer = await chat.GetResponseAsync([new(ChatRole.User, "Hi")], Call("user-costly"), ct);
        await host.Vault.FlushAsync(ct);

        Assert.Equal("Hello!", answer.Text);
        Assert.DoesNotContain(logs.Entries, e => e.EventId.Id is 2103 or 2202);
        Assert.Equal(sdkPrices ? 1 : 0, logs.Entries.Count(e => e.EventId.Id == 2203));
        var summary = (await server.Api.GetVersionMetricsAsync(name, version, MetricPeriod.All, ct)).Summary;
        Assert.Equal(1, summary.Count);
        Assert.Equal(1, summary.LatencyMs.N);
        Assert.Equal(200_000, summary.InputTokens.Total);
        Assert.Equal(new AmountSummary(0, null, null), summary.Cost);
    }

    [Fact]
    public async Task GetResponseAsync_ModelFails_RecordsTheErrorAndRethrows()
    {
        var ct = TestContext.Current.CancellationToken;
        var (host, chat, model, name, version) = await StartAsync("chat-error", ct);
        await using var _ = host;
        model.Respond = () => throw new TimeoutException("the model did not answer");

        await Assert.ThrowsAsync<TimeoutException>(() => chat.GetResponseAsync([new(ChatRole.User, "Hi")], Call("user-2"), ct));
        await host.Vault.FlushAsync(ct);

        var summary = (await Server.Api.GetVersionMetricsAsync(name, version, MetricPeriod.All, ct)).Summary;
        Assert.Equal(1, summary.Count);
        Assert.Equal(1, summary.Errors);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_RecordsTokensFromTheUsageUpdate()
    {
        var ct = TestContext.Current.CancellationToken;
        var (host, chat, model, name, version) = await StartAsync("chat-stream", ct);
        await using var _ = host;
        model.Stream = () =>
        [
            new ChatResponseUpdate(ChatRole.Assistant, "Hel") { ModelId = "gpt-4o-mini" },
            new ChatResponseUpdate(ChatRole.Assistant, "lo"),
            new ChatResponseUpdate { Contents = [new UsageContent(new UsageDetails { InputTokenCount = 50, OutputTokenCount = 7 })] },
        ];

        var text = "";
        await foreach (var update in chat.GetStreamingResponseAsync([new(ChatRole.User, "Hi")], Call("user-3"), ct))
        {
            text += update.Text;
            Assert.Equal(version, update.AdditionalProperties![PromptVaultChatClient.VersionIdProperty]);
        }
        await host.Vault.FlushAsync(ct);

        Assert.Equal("Hello", text);
        Assert.Equal("You help customers of Acme.", Assert.Single(model.Calls).Messages[0].Text);
        var summary = (await Server.Api.GetVersionMetricsAsync(name, version, MetricPeriod.All, ct)).Summary;
        Assert.Equal(1, summary.Count);
        Assert.Equal(0, summary.Errors);
        Assert.Equal(50, summary.InputTokens.Total);
        Assert.Equal(7, summary.OutputTokens.Total);
        Assert.True(summary.LatencyMs.Mean >= 15, $"latency {summary.LatencyMs.Mean} ms for three updates 5 ms apart");
    }

    [Fact]
    public async Task GetStreamingResponseAsync_OpenAIProviderOverTheWire_StreamsTheChunksAndRecordsTheirUsage()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var provider = await FakeModelServer.StartAsync(ct);
        provider.Script = _ => new FakeReply("Your order ships today.", PromptTokens: 40, CompletionTokens: 6);
        var name = Prompts.NewName("chat-wire");
        var version = await Prompts.CreateAsync(Server.Api, name, "You help customers of {{company}}.", [new("company", Required: true)], Settings, cancellationToken: ct);
        var openAI = new OpenAIClient(new ApiKeyCredential("sk-test"), new OpenAIClientOptions { Endpoint = new Uri(provider.Endpoint) });
        await using var host = await SdkHost.StartAsync(Server.BaseAddress, Server.AdminKey, o => o.EventFlushInterval = TimeSpan.FromMilliseconds(20),
            services => services.AddChatClient(openAI.GetChatClient("gpt-4o-mini").AsIChatClient()).UsePromptVault(o => o.PromptName = name), ct);
        var chat = host.Services.GetRequiredService<IChatClient>();

        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in chat.GetStreamingResponseAsync([new(ChatRole.User, "Where is my order?")], Call("user-wire"), ct))
            updates.Add(update);
        await host.Vault.FlushAsync(ct);

        Assert.Equal("Your order ships today.", string.Concat(updates.Select(u => u.Text)));
        Assert.True(updates.Count(u => u.Text.Length > 0) > 1, "the answer came in several chunks");
        var sent = Assert.Single(provider.Requests);
        Assert.True(sent["stream"]!.GetValue<bool>());
        Assert.Equal("You help customers of Acme.", sent["messages"]![0]!["content"]!.GetValue<string>());
        var summary = (await Server.Api.GetVersionMetricsAsync(name, version, MetricPeriod.All, ct)).Summary;
        Assert.Equal(1, summary.Count);
        Assert.Equal(0, summary.Errors);
        Assert.Equal(40, summary.InputTokens.Total);
        Assert.Equal(6, summary.OutputTokens.Total);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_ModelFailsMidStream_RecordsTheError()
    {
        var ct = TestContext.Current.CancellationToken;
        var (host, chat, model, name, version) = await StartAsync("chat-stream-error", ct);
        await using var _ = host;
        model.Stream = () => Fail();

        await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await foreach (var update in chat.GetStreamingResponseAsync([new(ChatRole.User, "Hi")], Call("user-4"), ct)) { }
        });
        await host.Vault.FlushAsync(ct);

        var summary = (await Server.Api.GetVersionMetricsAsync(name, version, MetricPeriod.All, ct)).Summary;
        Assert.Equal(1, summary.Errors);

        static IEnumerable<ChatResponseUpdate> Fail()
        {
            yield return new ChatResponseUpdate(ChatRole.Assistant, "partial");
            throw new InvalidOperationException("connection reset");
        }
    }
}
