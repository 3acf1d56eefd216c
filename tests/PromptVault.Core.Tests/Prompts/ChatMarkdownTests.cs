using PromptVault.Core.Prompts;

namespace PromptVault.Core.Tests.Prompts;

public sealed class ChatMarkdownTests
{
    [Fact]
    public void Format_Messages_HeadingPerMessage()
    {
        PromptMessage[] messages = [new(MessageRole.System, "Be brief."), new(MessageRole.Placeholder, "history"), new(MessageRole.User, "{{question}}")];

        var text = ChatMarkdown.Format(messages);

        Assert.Equal("## system\n\nBe brief.\n\n## placeholder: history\n\n## user\n\n{{question}}\n", text);
    }

    public static TheoryData<string> AwkwardContents() =>
    [
        "plain",
        "two\nlines",
        "\nstarts blank",
        "ends blank\n",
        "## user",
        "\\## system\nand \\\\## assistant",
        "## Rules\n- one\n- two",
        "",
        "  indented\n\n\nwith gaps  ",
        "line\u2028separator, next\u0085line, form\ffeed and a lone\rreturn",
    ];

    [Theory]
    [MemberData(nameof(AwkwardContents))]
    public void Parse_WhatFormatWrote_GivesTheSameMessages(string content)
    {
        PromptMessage[] messages = [new(MessageRole.System, content), new(MessageRole.Placeholder, "history"), new(MessageRole.Assistant, content)];

        var read = ChatMarkdown.Parse(ChatMarkdown.Format(messages));

        Assert.Equal(messages, read);
    }

    [Fact]
    public void Parse_CrLfLineEndings_ReadAsNewLines()
    {
        var read = ChatMarkdown.Parse("## system\r\n\r\nfirst\r\nsecond\r\n\r\n## user\r\n\r\nq\r\n");

        Assert.Equal([new PromptMessage(MessageRole.System, "first\nsecond"), new PromptMessage(MessageRole.User, "q")], read);
    }

    [Fact]
    public void Parse_HandWrittenWithoutBlankLines_ReadsMessages()
    {
        var read = ChatMarkdown.Parse("## system\nBe brief.\n## user\nHi\n");

        Assert.Equal([new PromptMessage(MessageRole.System, "Be brief."), new PromptMessage(MessageRole.User, "Hi")], read);
    }

    [Fact]
    public void Parse_TextBeforeFirstHeading_RefusedNamingLine()
    {
        var error = Assert.Throws<InvalidInputException>(() => ChatMarkdown.Parse("\nHello\n## user\nHi", firstLine: 10));

        Assert.StartsWith("line 11:", error.Message);
    }

    [Fact]
    public void Parse_TextUnderPlaceholder_Refused()
    {
        var error = Assert.Throws<InvalidInputException>(() => ChatMarkdown.Parse("## placeholder: history\nstray"));

        Assert.Contains("placeholder", error.Message);
    }
}
