using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using PromptVault.Client.Chat;
using PromptVault.Core.Contracts;
using PromptVault.Core.Prompts;

namespace PromptVault.Client.Tests;

/// <summary>Chat prompts (SPEC §7) in the SDK: rendered from the snapshot as Microsoft.Extensions.AI messages, and sent by the middleware.</summary>
public sealed class ChatPromptTests(SdkServerFixture fixture) : IClassFixture<SdkServerFixture>
{
    private static readonly VariableDefinition[] Variables =
    [
        new("company", Required: true),
        new("question", Required: true),
        new("history", VariableType.Array),
    ];

    private static readonly PromptMessage[] Messages =
    [
        new(MessageRole.System, "You help {{company}} customers."),
        new(MessageRole.Placeholder, "history"),
        new(MessageRole.User, "{{question}}"),
    ];

    /// <summary>The chat prompt in production on <paramref name="server"/> (under a name of its own), and an SDK host started against it.</summary>
    private static async Task<(SdkHost Host, string Name, string VersionId)> StartAsync(SdkServer server, string stem, CancellationToken ct,
        Func<string, Action<IServiceCollection>>? services = null)
    {
        var name = Prompts.NewName(stem);
        var created = await server.Api.CreatePromptAsync(new CreatePromptRequest(name, Type: PromptType.Chat, Variables: Variables, Messages: Messages), ct);
        await server.Api.MoveLabelAsync(name, Label.Production, created.LatestVersion.Id, ct);
        var host = await SdkHost.StartAsync(server.BaseAddress, server.AdminKey, services: services?.Invoke(name), cancellationToken: ct);
        return (host, name, created.LatestVersion.Id);
    }

    [Fact]
    public async Task GetPromptAsync_ChatPrompt_RendersMessagesFromTheSnapshotWithTheServerDown()
    {
        var ct = TestContext.Current.CancellationToken;
        // A server of its own: the test stops it.
        await using var server = await SdkServer.StartAsync(ct);
        var (host, name, versionId) = await StartAsync(server, "chat", ct);
        await using var _ = host;
        var rendered = await server.Api.RenderAsync(name, new RenderRequest(new Dictionary<string, System.Text.Json.JsonElement>
        {
            ["company"] = Prompts.Json("\"Acme\""),
            ["question"] = Prompts.Json("\"Where is my parcel?\""),
            ["history"] = Prompts.Json("""[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello!"}]"""),
        }), ct);
        await server.StopAsync();

        var served = await host.Vault.GetPromptAsync(name, new Dictionary<string, object?>
        {
            ["company"] = "Acme",
            ["question"] = "Where is my parcel?",
            ["history"] = new List<ChatMessage> { new(ChatRole.User, "Hi"), new(ChatRole.Assistant, "Hello!") },
        }, cancellationToken: ct);

        Assert.Equal(versionId, served.VersionId);
        Assert.Equal("", served.Content);
        Assert.Equal([ChatRole.System, ChatRole.User, ChatRole.Assistant, ChatRole.User], served.Messages.Select(m => m.Role));
        Assert.Equal(rendered.Messages!.Select(m => m.Content), served.Messages.Select(m => m.Text));
        Assert.Equal("You help Acme customers.", served.Messages[0].Text);
    }

    [Fact]
    public async Task GetPromptAsync_HistoryWithAToolMessage_RefusedNamingTheVariable()
    {
        var ct = TestContext.Current.CancellationToken;
        var (host, name, _) = await StartAsync(fixture.Server, "chat-bad", ct);
        await using var _ = host;

        var error = await Assert.ThrowsAsync<Core.InvalidInputException>(() => host.Vault.GetPromptAsync(name, new Dictionary<string, object?>
        {
            ["company"] = "Acme",
            ["question"] = "?",
            ["history"] = new List<ChatMessage> { new(ChatRole.Tool, "42") },
        }, cancellationToken: ct).AsTask());

        Assert.Equal("variables.history[0]", error.Field);
    }

    [Fact]
    public async Task Middleware_ChatPrompt_SendsItsMessagesBeforeTheCallersMessages()
    {
        var ct = TestContext.Current.CancellationToken;
        var model = new FakeChatClient();
        var (host, _, _) = await StartAsync(fixture.Server, "chat-mw", ct, name => services => services.AddChatClient(model).UsePromptVault(o => o.PromptName = name));
        await using var _ = host;
        var chat = host.Services.GetRequiredService<IChatClient>();
        var options = new ChatOptions
        {
            AdditionalProperties = new()
            {
                [PromptVaultChatClient.VariablesProperty] = new Dictionary<string, object?> { ["company"] = "Acme", ["question"] = "Where is my parcel?" },
            },
        };

        await chat.GetResponseAsync([new(ChatRole.User, "It was due Monday.")], options, ct);

        var (sent, _) = Assert.Single(model.Calls);
        Assert.Equal([ChatRole.System, ChatRole.User, ChatRole.User], sent.Select(m => m.Role));
        Assert.Equal(["You help Acme customers.", "Where is my parcel?", "It was due Monday."], sent.Select(m => m.Text));
    }
}
