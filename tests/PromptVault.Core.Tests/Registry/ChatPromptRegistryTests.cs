using Microsoft.Extensions.Time.Testing;
using PromptVault.Core.Contracts;
using PromptVault.Core.Idempotency;
using PromptVault.Core.Prompts;
using PromptVault.Core.Registry;
using PromptVault.Core.Templates;
using PromptVault.Storage.Sqlite.Tests;
using static PromptVault.Core.Tests.Support.Values;

namespace PromptVault.Core.Tests.Registry;

/// <summary>Chat prompts (SPEC §7) through the registry, on a real SQLite store.</summary>
public sealed class ChatPromptRegistryTests : IAsyncLifetime
{
    private const string Actor = "alice";
    private readonly TempDatabase _database = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 1, 1, 12, 0, 0, TimeSpan.Zero));
    private PromptRegistry _registry = null!;

    private static readonly VariableDefinition Question = new("question", Required: true);
    private static readonly VariableDefinition History = new("history", VariableType.Array);

    private static readonly PromptMessage[] Messages =
    [
        new(MessageRole.System, "You are brief."),
        new(MessageRole.Placeholder, "history"),
        new(MessageRole.User, "{{question}}"),
    ];

    public async ValueTask InitializeAsync()
    {
        var store = await _database.CreateStoreAsync();
        var changes = new RegistryChangeFeed();
        _registry = new PromptRegistry(store, store, store, new TemplateEngine(), _time, new IdempotentRequests(store, _time),
            new RegistryCache(store, store, store, changes), changes);
    }

    public ValueTask DisposeAsync()
    {
        _database.Dispose();
        return ValueTask.CompletedTask;
    }

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private Task<PromptResponse> CreateChatAsync() =>
        _registry.CreatePromptAsync(new CreatePromptRequest("assistant", Type: PromptType.Chat, Variables: [Question, History], Messages: Messages), Actor, Token);

    [Fact]
    public async Task CreatePromptAsync_Chat_StoresAndReadsBackMessages()
    {
        await CreateChatAsync();

        var version = await _registry.GetVersionAsync("assistant", "1.0.0", Token);

        Assert.Equal(Messages, version.Messages);
        Assert.Equal("", version.Content);
    }

    [Fact]
    public async Task CreatePromptAsync_ChatWithContent_Refused()
    {
        var error = await Assert.ThrowsAsync<InvalidInputException>(() => _registry.CreatePromptAsync(
            new CreatePromptRequest("assistant", Type: PromptType.Chat, Content: "Hi", Messages: Messages, Variables: [Question, History]), Actor, Token));

        Assert.Equal("content", error.Field);
    }

    [Fact]
    public async Task CreatePromptAsync_TextPromptWithMessages_Refused()
    {
        var error = await Assert.ThrowsAsync<InvalidInputException>(() => _registry.CreatePromptAsync(
            new CreatePromptRequest("plain", Content: "Hi", Messages: Messages), Actor, Token));

        Assert.Equal("messages", error.Field);
    }

    [Fact]
    public async Task CreateVersionAsync_SameMessages_RefusedAsUnchanged()
    {
        await CreateChatAsync();

        var error = await Assert.ThrowsAsync<ConflictException>(() => _registry.CreateVersionAsync("assistant",
            new CreateVersionRequest(null, ChangeDescription: "again", Messages: Messages), Actor, Token));

        Assert.Equal("version_unchanged", error.Code);
    }

    [Fact]
    public async Task CreateVersionAsync_RequiredVariableAddedInOneMessage_BumpsMajor()
    {
        await CreateChatAsync();

        var version = await _registry.CreateVersionAsync("assistant", new CreateVersionRequest(null,
            [Question, History, new VariableDefinition("tone", Required: true)], ChangeDescription: "tone",
            Messages: [new(MessageRole.System, "You are {{tone}}."), .. Messages[1..]]), Actor, Token);

        Assert.Equal("2.0.0", version.Version);
    }

    [Fact]
    public async Task CreateVersionAsync_OnlyAMessageChanged_BumpsPatch()
    {
        await CreateChatAsync();

        var version = await _registry.CreateVersionAsync("assistant", new CreateVersionRequest(null, ChangeDescription: "kinder",
            Messages: [new(MessageRole.System, "You are kind."), .. Messages[1..]]), Actor, Token);

        Assert.Equal("1.0.1", version.Version);
    }

    [Fact]
    public async Task RenderAsync_Chat_ReturnsMessagesInsteadOfContent()
    {
        await CreateChatAsync();

        var rendered = await _registry.RenderAsync("assistant", new RenderRequest(
            Inputs(("question", "\"Why?\""), ("history", """[{"role":"assistant","content":"Ask me."}]""")), Version: "1.0.0"), Token);

        Assert.Null(rendered.Content);
        Assert.Equal(
        [
            new PromptMessage(MessageRole.System, "You are brief."),
            new PromptMessage(MessageRole.Assistant, "Ask me."),
            new PromptMessage(MessageRole.User, "Why?"),
        ], rendered.Messages);
    }

    [Fact]
    public async Task RollbackAsync_Chat_CopiesMessages()
    {
        await CreateChatAsync();
        await _registry.CreateVersionAsync("assistant", new CreateVersionRequest(null, ChangeDescription: "kinder",
            Messages: [new(MessageRole.System, "You are kind."), .. Messages[1..]]), Actor, Token);

        var rolledBack = await _registry.RollbackAsync("assistant", "1.0.0", null, Actor, cancellationToken: Token);

        Assert.Equal(Messages, rolledBack.Messages);
    }

    [Fact]
    public async Task CompareAsync_MessageInsertedAndOneChanged_ReportsEachMessage()
    {
        await CreateChatAsync();
        await _registry.CreateVersionAsync("assistant", new CreateVersionRequest(null, ChangeDescription: "examples",
            Messages:
            [
                new(MessageRole.System, "You are brief.\nAnswer in English."),
                new(MessageRole.User, "Example question"),
                new(MessageRole.Assistant, "Example answer"),
                Messages[1],
                Messages[2],
            ]), Actor, Token);

        var comparison = await _registry.CompareAsync("assistant", "1.0.0", "1.0.1", Token);

        var diff = Assert.IsType<MessagesDiff>(comparison.MessagesDiff);
        var changed = Assert.Single(diff.Changed);
        Assert.Equal((0, 0), (changed.A, changed.B));
        Assert.Contains("+Answer in English.", changed.UnifiedDiff.Split('\n'));
        Assert.Equal([1, 2], diff.Added.Select(a => a.Index));
        Assert.Empty(diff.Removed);
        Assert.Contains("+## assistant", comparison.UnifiedDiff.Split('\n'));
    }
}
