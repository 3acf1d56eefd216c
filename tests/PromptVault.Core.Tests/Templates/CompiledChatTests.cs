using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using PromptVault.Core.Prompts;
using PromptVault.Core.Templates;
using static PromptVault.Core.Tests.Support.Values;

namespace PromptVault.Core.Tests.Templates;

public sealed class CompiledChatTests
{
    private static readonly VariableDefinition Company = new("company", Required: true);
    private static readonly VariableDefinition Question = new("question", Required: true);
    private static readonly VariableDefinition History = new("history", VariableType.Array);

    private static readonly PromptMessage[] Support =
    [
        new(MessageRole.System, "You help {{company}} customers."),
        new(MessageRole.Placeholder, "history"),
        new(MessageRole.User, "{{question}}"),
    ];

    private readonly TemplateEngine _engine = new();

    [Fact]
    public void Render_Placeholder_SplicesHistoryBetweenMessagesWithItsRoles()
    {
        var chat = _engine.ChatFor("v1", Support, [Company, Question, History]);

        var messages = chat.Render(Inputs(("company", "\"Acme\""), ("question", "\"Where is my order?\""),
            ("history", """[{"role":"user","content":"Hi {{company}}"},{"role":"assistant","content":"Hello!"}]""")));

        Assert.Equal(
        [
            new PromptMessage(MessageRole.System, "You help Acme customers."),
            new PromptMessage(MessageRole.User, "Hi {{company}}"),
            new PromptMessage(MessageRole.Assistant, "Hello!"),
            new PromptMessage(MessageRole.User, "Where is my order?"),
        ], messages);
    }

    [Fact]
    public void Render_PlaceholderAbsent_LeavesItOut()
    {
        var chat = _engine.ChatFor("v1", Support, [Company, Question, History]);

        var messages = chat.Render(Inputs(("company", "\"Acme\""), ("question", "\"Hi\"")));

        Assert.Equal([MessageRole.System, MessageRole.User], messages.Select(m => m.Role));
    }

    [Fact]
    public void RenderValues_PlaceholderOfDictionariesAndMessages_SplicesThem()
    {
        var chat = _engine.ChatFor("v1", Support, [Company, Question, History]);

        var messages = chat.RenderValues(new Dictionary<string, object?>
        {
            ["company"] = "Acme",
            ["question"] = "Thanks",
            ["history"] = new object[]
            {
                new Dictionary<string, object?> { ["role"] = "user", ["content"] = "Hi" },
                new PromptMessage(MessageRole.Assistant, "Hello!"),
            },
        });

        Assert.Equal(["You help Acme customers.", "Hi", "Hello!", "Thanks"], messages.Select(m => m.Content));
        Assert.Equal(MessageRole.Assistant, messages[2].Role);
    }

    [Theory]
    [InlineData("""[{"role":"tool","content":"x"}]""")]
    [InlineData("""[{"role":"user"}]""")]
    [InlineData("""["just text"]""")]
    public void Render_BadHistoryItem_RefusedNamingVariableAndItem(string history)
    {
        var chat = _engine.ChatFor("v1", Support, [Company, Question, History]);

        var error = Assert.Throws<InvalidInputException>(() =>
            chat.Render(Inputs(("company", "\"Acme\""), ("question", "\"Hi\""), ("history", history))));

        Assert.Equal("variables.history[0]", error.Field);
        Assert.Contains("'history'", error.Message);
    }

    [Fact]
    public void Render_MissingRequiredVariable_RefusedNamingIt()
    {
        var chat = _engine.ChatFor("v1", Support, [Company, Question, History]);

        var error = Assert.Throws<InvalidInputException>(() => chat.Render(Inputs(("company", "\"Acme\""))));

        Assert.Equal("missing_variable", error.Code);
        Assert.Contains("'question'", error.Message);
    }

    [Fact]
    public void Render_OnlyAPlaceholder_StillChecksTheContract()
    {
        var chat = _engine.ChatFor("v1", [new PromptMessage(MessageRole.Placeholder, "history")], [History, Question]);

        var error = Assert.Throws<InvalidInputException>(() => chat.Render(Inputs(("history", "[]"))));

        Assert.Contains("'question'", error.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Render_MessagesTogetherPastTheOutputLimit_RefusedAsRenderTooLarge(bool values)
    {
        // Each message writes 900,000 characters, under the limit; 100 of them write 90,000,000. A clock that stands still,
        // so only the output limit can end the render.
        var messages = Enumerable.Repeat(new PromptMessage(MessageRole.User, "{{x}}{{x}}"), CompiledChat.MaxMessages).ToArray();
        var chat = new TemplateEngine(new FakeTimeProvider()).CompileChatDraft(messages, [new VariableDefinition("x", Required: true)]);
        var x = new string('a', 450_000);

        var error = Assert.Throws<InvalidInputException>(() => values
            ? chat.RenderValues(new Dictionary<string, object?> { ["x"] = x })
            : chat.Render(Inputs(("x", JsonSerializer.Serialize(x)))));

        Assert.Equal(("render_too_large", "variables"), (error.Code, error.Field));
    }

    [Fact]
    public void Render_MessagesTogetherPastTheTimeLimit_RefusedAsRenderTimeout()
    {
        // Each message visits 100 items, so on its own it reads the clock once (after 64 steps); the two together read it
        // twice, and every reading moves the clock on 1 s.
        var time = new FakeTimeProvider { AutoAdvanceAmount = TimeSpan.FromSeconds(1) };
        var messages = Enumerable.Repeat(new PromptMessage(MessageRole.User, "{{#each items}}{{/each}}"), 2).ToArray();
        var chat = new TemplateEngine(time).CompileChatDraft(messages, [new VariableDefinition("items", VariableType.Array)]);

        var error = Assert.Throws<InvalidInputException>(() => chat.Render(Inputs(("items", JsonSerializer.Serialize(Enumerable.Range(0, 100))))));

        Assert.Equal(("render_timeout", "variables"), (error.Code, error.Field));
    }

    [Fact]
    public void ValidateChat_UnknownVariableInSecondMessage_NamesMessageIndexAndVariable()
    {
        PromptMessage[] messages = [new(MessageRole.System, "Hi"), new(MessageRole.User, "{{questoin}}")];

        var error = Assert.Throws<InvalidInputException>(() => _engine.ValidateChat(messages, [Question]));

        Assert.Equal("unknown_variable", error.Code);
        Assert.Equal("messages[1].content", error.Field);
        Assert.StartsWith("messages[1].content references 'questoin'", error.Message);
    }

    [Theory]
    [InlineData("history", VariableType.String, "declared as a string")]
    [InlineData("nothing", VariableType.Array, "not declared")]
    public void ValidateChat_PlaceholderNotADeclaredArray_Refused(string name, VariableType type, string expected)
    {
        PromptMessage[] messages = [new(MessageRole.User, "Hi"), new(MessageRole.Placeholder, name)];

        var error = Assert.Throws<InvalidInputException>(() => _engine.ValidateChat(messages, [new VariableDefinition("history", type)]));

        Assert.Equal("invalid_placeholder", error.Code);
        Assert.Equal("messages[1].content", error.Field);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void ValidateChat_NoMessages_Refused()
    {
        var error = Assert.Throws<InvalidInputException>(() => _engine.ValidateChat([], []));

        Assert.Equal("missing_messages", error.Code);
        Assert.Equal("messages", error.Field);
    }

    [Fact]
    public void ValidateChat_NullContent_NamesMessageIndex()
    {
        PromptMessage[] messages = [new(MessageRole.User, "Hi"), new(MessageRole.Assistant, null!)];

        var error = Assert.Throws<InvalidInputException>(() => _engine.ValidateChat(messages, []));

        Assert.Equal("messages[1].content", error.Field);
    }
}
