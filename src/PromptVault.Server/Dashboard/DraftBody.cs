using PromptVault.Core.Contracts;
using PromptVault.Core.Prompts;
using PromptVault.Core.Templates;

namespace PromptVault.Server.Dashboard;

/// <summary>
/// What the editor's text field holds: a template, or for a chat prompt its messages in their text form (<see cref="ChatMarkdown"/>,
/// the prompt files' form: <c>## system</c>, <c>## user</c>, <c>## assistant</c>, <c>## placeholder: history</c> headings).
/// </summary>
internal sealed record DraftBody(string Content, IReadOnlyList<PromptMessage>? Messages)
{
    /// <param name="field">What a refusal names as its field: where the messages go in the request.</param>
    /// <exception cref="InvalidInputException">A chat draft has text outside a message.</exception>
    public static DraftBody Read(bool chat, string text, string field = "messages") => chat ? new("", ChatMarkdown.Parse(text, field)) : new(text, null);

    /// <summary>The editor's text for a version.</summary>
    public static string TextOf(VersionResponse version) =>
        version.Messages is { } messages ? ChatMarkdown.Format(messages).TrimEnd('\n') : version.Content;

    /// <summary>The variables the draft reads, in order of first use, with whether a placeholder splices it (so it is an array).</summary>
    /// <exception cref="InvalidInputException">A template breaks a rule of the grammar.</exception>
    public IReadOnlyList<(string Name, bool Placeholder)> Variables() => Messages is null
        ? TemplateEngine.VariableNames(Content).Select(n => (n, false)).ToList()
        : Messages.SelectMany(m => m.Role == MessageRole.Placeholder ? [(m.Content, true)] : TemplateEngine.VariableNames(m.Content).Select(n => (n, false)))
            .DistinctBy(v => v.Item1).ToList();
}
