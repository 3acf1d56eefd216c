using System.CommandLine.Parsing;
using System.Text;
using System.Text.RegularExpressions;
using PromptVault.Server.Tests;

namespace PromptVault.Cli.Tests;

/// <summary>
/// Every concrete `promptvault …` command the README, docs/ and the samples' READMEs show (in code spans, `$ promptvault`
/// lines and `dotnet run --project src/PromptVault.Cli -- …`) is one the command line accepts: no unknown command,
/// argument or option. Usage lines with [optional] or a|b parts or PLACEHOLDER words are skipped (CliDocTests holds usage
/// headings to the commands' real arguments); a bare mention such as `promptvault push` may leave out required arguments
/// or subcommand.
/// </summary>
public sealed partial class DocsCommandsTests
{
    [Fact]
    public void EveryCommandInTheDocs_ParsesWithoutAnUnknownToken()
    {
        var root = RepositoryFiles.Root;
        var wrong = new List<string>();
        var checkedCount = 0;

        foreach (var document in RepositoryFiles.MarkdownDocuments)
        foreach (var command in Commands(File.ReadAllText(document)))
        {
            using var output = new StringWriter();
            var context = new CliContext(output, output, _ => null, isTerminal: false, isErrorTerminal: false);
            var parseResult = Program.CreateRootCommand(context).Parse(Tokens(command));
            var errors = CliApp.MistypedOptions(parseResult).Select(option => option.Message).Concat(parseResult.Errors
                .Where(e => !e.Message.StartsWith("Required argument missing", StringComparison.Ordinal) && e.Message != "Required command was not provided.")
                .Select(e => e.Message)).ToList();
            checkedCount++;
            if (errors.Count > 0)
                wrong.Add($"{Path.GetRelativePath(root, document)}: promptvault {command}: {string.Join("; ", errors)}");
        }

        Assert.True(checkedCount > 40, $"only {checkedCount} commands were found in the docs");
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }

    /// <summary>The arguments after `promptvault` of each concrete command in a Markdown document.</summary>
    private static IEnumerable<string> Commands(string markdown)
    {
        var pieces = new List<string>();
        var prose = new StringBuilder();
        var inFence = false;
        foreach (var line in markdown.Split('\n'))
        {
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal)) inFence = !inFence;
            else if (inFence) pieces.Add(line);
            else prose.Append(line).Append(' ');
        }
        pieces.AddRange(CodeSpan().Matches(prose.ToString()).Select(m => m.Groups[1].Value));

        return pieces.SelectMany(piece => Command().Matches(piece).Select(m => m.Groups[1].Value.Trim()))
            .Where(command => command.IndexOfAny(['[', '|', '<', '…']) < 0 && !command.Contains("...", StringComparison.Ordinal)
                && !Tokens(command).Any(IsPlaceholder));
    }

    /// <summary><c>DELIVERY_ID</c> in <c>webhooks redeliver ID DELIVERY_ID</c>: a usage line's name for a value, which need not parse as one.</summary>
    private static bool IsPlaceholder(string token) =>
        char.IsAsciiLetterUpper(token[0]) && token.All(c => char.IsAsciiLetterUpper(c) || char.IsAsciiDigit(c) || c == '_');

    /// <summary>Splits a shell command line on spaces outside quotes, dropping the quotes.</summary>
    internal static string[] Tokens(string command)
    {
        var tokens = new List<string>();
        var current = new StringBuilder();
        char? quote = null;
        foreach (var c in command)
        {
            if (quote is not null) { if (c == quote) quote = null; else current.Append(c); }
            else if (c is '"' or '\'') quote = c;
            else if (c == ' ') { if (current.Length > 0) { tokens.Add(current.ToString()); current.Clear(); } }
            else current.Append(c);
        }
        if (current.Length > 0) tokens.Add(current.ToString());
        return [.. tokens];
    }

    [GeneratedRegex("`([^`]+)`")]
    private static partial Regex CodeSpan();

    [GeneratedRegex(@"(?:(?<![\w./-])promptvault|src/PromptVault\.Cli --) ((?:serve|admin-key|push|pull|list|history|diff|promote|status|rollback|render|experiment|metrics|demo|keys|audit|export|import|test|webhooks)\b[^`#]*)")]
    private static partial Regex Command();
}
