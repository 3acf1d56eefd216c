using System.Text;
using System.Text.RegularExpressions;

namespace PromptVault.Core.Prompts;

/// <summary>
/// The readable text form of a chat prompt's messages (docs/prompt-files.md): each message under a heading naming its role,
/// <c>## system</c>, <c>## user</c>, <c>## assistant</c>, or <c>## placeholder: history</c> for a placeholder. Prompt files,
/// the compare's unified diff and the dashboard use it; <see cref="Parse"/> reads back what <see cref="Format"/> writes.
/// </summary>
/// <remarks>
/// A content line that would read as a heading (<c>## user</c>, or one already escaped) is written with one more leading
/// <c>\</c> and read back with one less, so any content round-trips. Other <c>##</c> lines (<c>## Rules</c>) stay content.
/// </remarks>
public static partial class ChatMarkdown
{
    [GeneratedRegex(@"^## (?:(?<role>system|user|assistant)|placeholder:[ \t]*(?<variable>[A-Za-z_][A-Za-z0-9_]*))[ \t]*\z")]
    private static partial Regex Heading();

    // A heading-like line with any number of leading backslashes: the ones the writer escapes and the reader unescapes.
    [GeneratedRegex(@"^\\*## (?:system|user|assistant|placeholder)\b")]
    private static partial Regex HeadingLike();

    public static string Format(IReadOnlyList<PromptMessage> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var text = new StringBuilder();
        foreach (var message in messages)
        {
            if (text.Length > 0) text.Append('\n');
            if (message.Role == MessageRole.Placeholder)
            {
                text.Append("## placeholder: ").Append(message.Content).Append('\n');
                continue;
            }
            text.Append("## ").Append(Names.Of(message.Role)).Append("\n\n");
            foreach (var line in message.Content.Split('\n'))
                text.Append(HeadingLike().IsMatch(line) ? "\\" : "").Append(line).Append('\n');
        }
        return text.ToString();
    }

    /// <exception cref="InvalidInputException">Text stands before the first heading, or under a placeholder's heading (field
    /// <paramref name="field"/>, the message naming the line).</exception>
    /// <param name="firstLine">The number errors give the text's first line (a prompt file's body starts after its front matter).</param>
    /// <param name="sources">When given, receives where each message stands in the text; a prompt file's reader names the file's
    /// line and column of an error inside a message.</param>
    public static IReadOnlyList<PromptMessage> Parse(string text, string field = "content", int firstLine = 1, List<Source>? sources = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        var messages = new List<PromptMessage>();
        MessageRole? role = null;
        var body = new List<string>();
        // Only CRLF is a line ending here, as in a text prompt's file: ReplaceLineEndings would also turn a message's U+2028,
        // U+0085, form feed or lone CR into a new line, changing the content on its way to the server.
        var textLines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var contentStart = 0;
        var escapedLines = new HashSet<int>();
        for (var i = 0; i < textLines.Length; i++)
        {
            var heading = Heading().Match(textLines[i]);
            if (heading.Success)
            {
                Close();
                if (heading.Groups["variable"].Success)
                {
                    messages.Add(new PromptMessage(MessageRole.Placeholder, heading.Groups["variable"].Value));
                    sources?.Add(new Source(i + firstLine, escapedLines));
                    role = null;
                }
                else
                {
                    role = Names.TryParse<MessageRole>(heading.Groups["role"].Value, out var parsed) ? parsed : null;
                    contentStart = i + 1;
                }
                continue;
            }
            if (role is null && !string.IsNullOrWhiteSpace(textLines[i]))
                throw new InvalidInputException("invalid_messages",
                    $"line {i + firstLine}: text outside a message; chat messages start with a heading '## system', '## user', '## assistant' or '## placeholder: NAME'" +
                    (messages.Count > 0 ? ", and a placeholder's heading has nothing under it." : "."), field);
            var escaped = HeadingLike().IsMatch(textLines[i]) && textLines[i].StartsWith('\\');
            if (escaped) escapedLines.Add(i + firstLine);
            body.Add(escaped ? textLines[i][1..] : textLines[i]);
        }
        Close();
        return messages;

        void Close()
        {
            // Format writes a blank line after each heading and one before the next: those are layout, the rest is content.
            if (body.Count > 0 && body[0].Length == 0)
            {
                body.RemoveAt(0);
                contentStart++;
            }
            if (body.Count > 0 && body[^1].Length == 0) body.RemoveAt(body.Count - 1);
            if (role is { } open)
            {
                messages.Add(new PromptMessage(open, string.Join('\n', body)));
                sources?.Add(new Source(contentStart + firstLine, escapedLines));
            }
            body.Clear();
        }
    }

    /// <summary>Where a message's content stands in the text <see cref="Parse"/> read.</summary>
    /// <param name="Line">The text's line the content starts on, or a placeholder's heading.</param>
    /// <param name="EscapedLines">The text's lines read with one leading <c>\</c> less.</param>
    public sealed record Source(int Line, IReadOnlySet<int> EscapedLines)
    {
        /// <summary>The text's line and column of a 1-based place in the content.</summary>
        public (int Line, int Column) InText(int line, int column)
        {
            var textLine = Line + line - 1;
            return (textLine, EscapedLines.Contains(textLine) ? column + 1 : column);
        }
    }
}
