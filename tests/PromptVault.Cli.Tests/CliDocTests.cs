using System.CommandLine;
using System.CommandLine.Help;
using PromptVault.Server.Tests;

namespace PromptVault.Cli.Tests;

/// <summary>
/// docs/cli.md documents every command and option the CLI defines: each command has a '### `promptvault PATH …`' section
/// naming each of its options (and their aliases) in backticks; an option several commands share (--server, --api-key,
/// --json) is documented once, in the section on the options of every command that talks to a server.
/// </summary>
public sealed class CliDocTests
{
    private const string SharedSection = "## Options of every command that talks to a server";

    [Fact]
    public void EveryCommandAndOption_IsInDocsCliMd()
    {
        var markdown = File.ReadAllText(RepositoryFiles.Docs("cli.md"));
        var sections = Sections(markdown);
        var root = Program.CreateRootCommand(new CliContext(TextWriter.Null, TextWriter.Null, _ => null, isTerminal: false, isErrorTerminal: false));
        var commands = Walk(root, "").ToList();
        var shared = commands.SelectMany(c => c.Command.Options).GroupBy(o => o).Where(g => g.Count() > 1).Select(g => g.Key).ToHashSet();
        var sharedText = sections.FirstOrDefault(s => s.Heading == SharedSection).Text ?? "";

        var missing = new List<string>();
        foreach (var (path, command) in commands)
        {
            var section = sections.FirstOrDefault(s => s.Heading.StartsWith($"### `promptvault {path}", StringComparison.Ordinal)
                && s.Heading.Length > $"### `promptvault {path}".Length && s.Heading[$"### `promptvault {path}".Length] is ' ' or '`');
            if (section.Heading is null)
            {
                missing.Add($"command '{path}': no '### `promptvault {path} …`' heading");
                continue;
            }
            if (HeadingProblem(section.Heading, path, command) is { } problem)
                missing.Add(problem);
            foreach (var option in command.Options.Where(o => o is not HelpOption))
            foreach (var name in option.Aliases.Prepend(option.Name))
            {
                var (where, text) = shared.Contains(option) ? (SharedSection, sharedText) : ($"'{path}'", section.Text);
                if (!text.Contains($"`{name}", StringComparison.Ordinal))
                    missing.Add($"option {name} of '{path}': not in the section {where}");
            }
        }

        Assert.True(commands.Count > 30, $"only {commands.Count} commands were found");
        Assert.True(missing.Count == 0, "docs/cli.md lacks:\n" + string.Join("\n", missing));
    }

    /// <summary>
    /// A heading whose usage, in one code span, says the command's arguments in order said "documented arguments: ''" of a heading
    /// that is not one code span, as if it named none; it now says which of the two is wrong.
    /// </summary>
    [Theory]
    [InlineData("### `promptvault pull` NAME", "is not one code span")]
    [InlineData("### `promptvault pull NAME` [--version V]", "is not one code span")]
    [InlineData("### `promptvault pull [NAME] [--version V]`", "it documents the arguments '[NAME]' where the command has 'NAME'")]
    public void HeadingProblem_NamesWhatIsWrong(string heading, string expected)
    {
        var pull = new Command("pull") { new Argument<string>("NAME") };

        Assert.Contains(expected, HeadingProblem(heading, "pull", pull));
        Assert.Null(HeadingProblem("### `promptvault pull NAME [--version V]`", "pull", pull));
    }

    /// <summary>What is wrong with a command's heading (null when nothing is): its usage must be one code span, its arguments the command's.</summary>
    private static string? HeadingProblem(string heading, string path, Command command)
    {
        var usage = UsageArguments(command);
        var expected = $"should read '### `promptvault {path} {usage}…`'";
        return HeadingArguments(heading, path) switch
        {
            null => $"command '{path}': its heading '{heading}' is not one code span; it {expected} (the whole usage in one code span)",
            var documented when documented != usage => $"command '{path}': its heading '{heading}' {expected}: it documents the arguments '{documented}' where the command has '{usage}'",
            _ => null,
        };
    }

    /// <summary>The arguments of a heading's usage, before its first option: null when the heading is not one code span.</summary>
    private static string? HeadingArguments(string heading, string path)
    {
        var prefix = $"### `promptvault {path}";
        if (!heading.EndsWith('`') || heading.IndexOf('`', prefix.Length) != heading.Length - 1) return null;
        return string.Join(' ', heading[prefix.Length..^1].Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .TakeWhile(word => !word.StartsWith('-') && !word.StartsWith("[-", StringComparison.Ordinal) && word != "[options]"));
    }

    /// <summary>The command's arguments as a usage line writes them: FILE..., [NAME].</summary>
    private static string UsageArguments(Command command) => string.Join(' ', command.Arguments.Select(argument =>
    {
        var name = argument.HelpName ?? argument.Name;
        return (argument.Arity.MinimumNumberOfValues == 0 ? $"[{name}]" : name) + (argument.Arity.MaximumNumberOfValues > 1 ? "..." : "");
    }));

    /// <summary>Every command that runs something (the leaves of the tree), with its path after 'promptvault'.</summary>
    internal static IEnumerable<(string Path, Command Command)> Walk(Command command, string path)
    {
        if (command.Action is not null && path.Length > 0) yield return (path, command);
        foreach (var subcommand in command.Subcommands)
        foreach (var found in Walk(subcommand, (path + " " + subcommand.Name).Trim()))
            yield return found;
    }

    /// <summary>The document's headings, each with its text up to the next heading.</summary>
    private static List<(string Heading, string Text)> Sections(string markdown)
    {
        var sections = new List<(string Heading, string Text)>();
        foreach (var line in markdown.Split('\n'))
        {
            if (line.StartsWith('#')) sections.Add((line.TrimEnd(), ""));
            else if (sections.Count > 0) sections[^1] = (sections[^1].Heading, sections[^1].Text + line + "\n");
        }
        return sections;
    }
}
