using PromptVault.Server.Tests;
using PromptVault.Cli.PromptFiles;
using PromptVault.Core.Prompts;

namespace PromptVault.Cli.Tests;

/// <summary>Chat prompts (SPEC §7) as prompt files (docs/prompt-files.md): read, and pushed, pulled and pushed again unchanged.</summary>
public sealed class ChatPromptFileTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private static string ChatFile(string name, string system = "You help {{company}} customers.\n## Rules\n- be brief") => $"""
        ---
        name: {name}
        type: chat
        variables:
          - name: company
            required: true
          - name: question
            required: true
          - name: history
            type: array
        ---
        ## system

        {system}

        ## placeholder: history

        ## user

        {"{{question}}"}
        """;

    [Fact]
    public void Parse_TemplateErrorInAMessage_NamesTheFilesLineAndColumnAndTheMessage()
    {
        // The error's place was counted inside the message ("line 2, column 5"), which is nowhere in the file.
        var unclosed = PromptFileReader.Parse(
            ChatFile("p", system: "You help {{company}} customers.\nBe {{#if question}}brief."), "p.md").TemplateProblem!;
        var unknown = PromptFileReader.Parse(
            ChatFile("p").Replace("{{question}}", "Q:\n\n  {{questoin}}", StringComparison.Ordinal), "p.md").TemplateProblem!;

        Assert.Equal("p.md: line 15, column 4 (messages[0], system): content is not a valid template: '{{#if}}' is never closed with '{{/if}}'.",
            unclosed.Message);
        Assert.StartsWith("p.md: line 24, column 3 (messages[2], user): content references 'questoin'", unknown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_TemplateErrorOnAnEscapedHeadingLine_NamesTheColumnTheEditorShows()
    {
        // The file's line 14 is '\## user asks {{questoin}}': the column was counted in the content, one '\' short ("column 14").
        var onTheLine = PromptFileReader.Parse(
            ChatFile("p", system: "\\## user asks {{questoin}}"), "p.md").TemplateProblem!;
        var twiceEscaped = PromptFileReader.Parse(
            ChatFile("p", system: "\\\\## user asks {{questoin}}"), "p.md").TemplateProblem!;
        var afterIt = PromptFileReader.Parse(
            ChatFile("p", system: "\\## user asks\nthen {{questoin}}"), "p.md").TemplateProblem!;

        Assert.StartsWith("p.md: line 14, column 15 (messages[0], system): content references 'questoin'", onTheLine.Message, StringComparison.Ordinal);
        Assert.StartsWith("p.md: line 14, column 16 (messages[0], system): content references 'questoin'", twiceEscaped.Message, StringComparison.Ordinal);
        Assert.StartsWith("p.md: line 15, column 6 (messages[0], system): content references 'questoin'", afterIt.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ChatFile_ReadsMessagesUnderTheirHeadings()
    {
        var file = PromptFileReader.Parse(ChatFile("assistant"), "chat.md");

        Assert.Equal(PromptType.Chat, file.Type);
        Assert.Equal("", file.Content);
        Assert.Equal(
        [
            new PromptMessage(MessageRole.System, "You help {{company}} customers.\n## Rules\n- be brief"),
            new PromptMessage(MessageRole.Placeholder, "history"),
            new PromptMessage(MessageRole.User, "{{question}}"),
        ], file.Messages);
    }

    [Fact]
    public void Parse_TextBeforeTheFirstHeading_RefusedNamingTheFileLine()
    {
        var text = ChatFile("assistant").Replace("---\n## system", "---\nstray text\n## system", StringComparison.Ordinal);

        var error = Assert.Throws<PromptFileException>(() => PromptFileReader.Parse(text, "chat.md"));

        Assert.StartsWith("chat.md: the chat messages: line 12:", error.Message);
    }

    [Fact]
    public async Task PushPullPush_ChatPrompt_RoundTripsUnchanged_AndRendersMessages()
    {
        using var folder = new TempFolder();
        var name = $"chat-{Guid.NewGuid():N}"[..20];
        Assert.Equal(0, (await Cli.RunAsync(fixture.Server, null, "push", folder.Write("chat.md", ChatFile(name)))).ExitCode);
        var changed = await Cli.RunAsync(fixture.Server, null, "push", folder.Write("chat2.md", ChatFile(name, "## user is a heading-like line\nYou help {{company}}.")), "-m", "shorter");
        Assert.True(changed.ExitCode == 0, changed.ToString());

        var pulledPath = folder.File("pulled.md");
        var pulled = await Cli.RunAsync(fixture.Server, null, "pull", name, "-o", pulledPath);
        var again = await Cli.RunAsync(fixture.Server, null, "push", pulledPath);
        var rendered = await Cli.RunAsync(fixture.Server, null, "render", name, "--version", "1.0.1",
            "--var", "company=Acme", "--var", "question=Where is my parcel?", "--var", """history=[{"role":"assistant","content":"Hi!"}]""");

        Assert.True(pulled.ExitCode == 0, pulled.ToString());
        Assert.Contains("\\## user is a heading-like line", File.ReadAllText(pulledPath));
        Assert.Equal($"{name} 1.0.1 unchanged", again.Out.Trim());
        Assert.True(rendered.ExitCode == 0, rendered.ToString());
        Assert.Equal("## system\n\n\\## user is a heading-like line\nYou help Acme.\n\n## assistant\n\nHi!\n\n## user\n\nWhere is my parcel?", rendered.Out.Trim());
    }
}
