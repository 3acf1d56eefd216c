using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using PromptVault.Client.Chat;
using PromptVault.Core.Prompts;

namespace PromptVault.Client.Tests;

/// <summary>A version's tools and response format reach <see cref="ChatOptions"/>: in a resolution, and through <c>UsePromptVault</c> to the model.</summary>
public sealed class ToolOptionsTests(SdkServerFixture fixture) : IClassFixture<SdkServerFixture>
{
    private SdkServer Server => fixture.Server;

    private const string LookupSchema = """{"type":"object","properties":{"orderId":{"type":"string"}},"required":["orderId"]}""";
    private const string AnswerSchema = """{"title":"answer","type":"object","properties":{"reply":{"type":"string"}},"required":["reply"]}""";

    private static readonly PromptMetadata WithTools = new()
    {
        Model = "gpt-4o-mini",
        Tools =
        [
            new ToolDefinition("lookup_order", "Finds an order by its id", Prompts.Json(LookupSchema)),
            new ToolDefinition("escalate", null, Prompts.Json("""{"type":"object"}""")),
        ],
        ResponseFormat = Prompts.Json(AnswerSchema),
    };

    private async Task<(SdkHost Host, FakeChatClient Model, string Name)> StartAsync(string stem, CancellationToken ct)
    {
        var name = Prompts.NewName(stem);
        await Prompts.CreateAsync(Server.Api, name, "You answer about orders.", metadata: WithTools, cancellationToken: ct);
        var model = new FakeChatClient();
        var host = await SdkHost.StartAsync(Server.BaseAddress, Server.AdminKey, null,
            services => services.AddChatClient(model).UsePromptVault(o => o.PromptName = name), ct);
        return (host, model, name);
    }

    private static void AssertVersionsToolsAndFormat(ChatOptions options)
    {
        var tools = options.Tools!.Cast<AIFunctionDeclaration>().ToDictionary(t => t.Name);
        Assert.Equal(["escalate", "lookup_order"], tools.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("Finds an order by its id", tools["lookup_order"].Description);
        Assert.Equal(LookupSchema, tools["lookup_order"].JsonSchema.GetRawText());
        var format = Assert.IsType<ChatResponseFormatJson>(options.ResponseFormat);
        Assert.Equal(AnswerSchema, format.Schema!.Value.GetRawText());
        Assert.Equal("answer", format.SchemaName);
    }

    [Fact]
    public async Task GetPromptAsync_VersionWithToolsAndResponseFormat_MapsThemToChatOptions()
    {
        var ct = TestContext.Current.CancellationToken;
        var (host, _, name) = await StartAsync("tools", ct);
        await using var _ = host;

        var resolved = await host.Vault.GetPromptAsync(name, cancellationToken: ct);

        AssertVersionsToolsAndFormat(resolved.Options);
        Assert.Equal("gpt-4o-mini", resolved.Options.ModelId);
    }

    [Fact]
    public async Task GetPromptAsync_TwoResolutions_EachGetsItsOwnToolList()
    {
        var ct = TestContext.Current.CancellationToken;
        var (host, _, name) = await StartAsync("tools-own", ct);
        await using var _ = host;

        var first = await host.Vault.GetPromptAsync(name, cancellationToken: ct);
        first.Options.Tools!.Clear();
        var second = await host.Vault.GetPromptAsync(name, cancellationToken: ct);

        Assert.Equal(2, second.Options.Tools!.Count);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Middleware_SendsTheVersionsToolsAndResponseFormat_KeepsTheCallersOwnFunctions(bool streaming)
    {
        var ct = TestContext.Current.CancellationToken;
        var (host, model, _) = await StartAsync("tools-chat", ct);
        await using var _ = host;
        var chat = host.Services.GetRequiredService<IChatClient>();
        var callersLookup = AIFunctionFactory.Create((string orderId) => $"order {orderId}", "lookup_order");
        var callersClock = AIFunctionFactory.Create(() => "noon", "clock");
        var options = new ChatOptions { Tools = [callersLookup, callersClock] };

        if (streaming)
            await foreach (var update in chat.GetStreamingResponseAsync([new(ChatRole.User, "Where is order 7?")], options, ct)) { }
        else
            await chat.GetResponseAsync([new(ChatRole.User, "Where is order 7?")], options, ct);

        var sent = Assert.Single(model.Calls).Options!;
        Assert.Equal(["lookup_order", "clock", "escalate"], sent.Tools!.Select(t => t.Name));
        Assert.Same(callersLookup, sent.Tools![0]); // the caller's runnable function, not the version's declaration
        Assert.IsType<AIFunctionDeclaration>(sent.Tools[2], exactMatch: false);
        var format = Assert.IsType<ChatResponseFormatJson>(sent.ResponseFormat);
        Assert.Equal(AnswerSchema, format.Schema!.Value.GetRawText());
        Assert.Equal(2, options.Tools.Count); // the caller's options are left alone
        Assert.Null(options.ResponseFormat);
    }

    [Fact]
    public async Task Middleware_NoCallerOptions_SendsTheVersionsDeclarations()
    {
        var ct = TestContext.Current.CancellationToken;
        var (host, model, _) = await StartAsync("tools-bare", ct);
        await using var _ = host;
        var chat = host.Services.GetRequiredService<IChatClient>();

        await chat.GetResponseAsync([new(ChatRole.User, "Hi")], cancellationToken: ct);

        AssertVersionsToolsAndFormat(Assert.Single(model.Calls).Options!);
    }
}
