using PromptVault.Server.Tests;
using System.Text.RegularExpressions;

namespace PromptVault.Cli.Tests;

/// <summary>
/// README.md's "A five-minute tour", run as a reader would on a fresh server: its prompt file is written from the tour's
/// markdown block, "Change the first line of the template" applies the tour's own diff, and every <c>$ promptvault …</c>
/// of the tour's transcripts prints what the README shows under it (times and ids aside; a cell the README shortens with
/// "…" is a prefix). The demo, after it, simulates random users and is left out.
/// </summary>
public sealed partial class ReadmeTourTests
{
    [Fact]
    public async Task EveryCommandOfTheTour_PrintsWhatTheReadmeShows()
    {
        var readme = await File.ReadAllTextAsync(Path.Combine(RepositoryFiles.Root, "README.md"), TestContext.Current.CancellationToken);
        var tour = readme[readme.IndexOf("## A five-minute tour", StringComparison.Ordinal)..readme.IndexOf("\n### Experiments", StringComparison.Ordinal)];
        tour = tour[tour.IndexOf("Write a prompt file", StringComparison.Ordinal)..]; // after the server's start
        await using var server = await RunningServer.StartAsync(TestContext.Current.CancellationToken);
        using var folder = new TempFolder();
        folder.Write("customer-support.md", PromptFile().Match(tour).Groups[1].Value);
        var wrong = new List<string>();
        var run = 0;

        foreach (var step in Steps().Matches(tour).Select(m => (Command: m.Groups[1].Value, Shown: m.Groups[2].Value.TrimEnd())))
        {
            var echo = Echo().Match(step.Command);
            if (echo.Success)
            {
                folder.Write(echo.Groups[2].Value, echo.Groups[1].Value);
                continue;
            }
            Assert.StartsWith("promptvault ", step.Command);
            var args = DocsCommandsTests.Tokens(step.Command)[1..]
                .Select(a => File.Exists(folder.File(a)) ? folder.File(a) : a).ToArray();
            if (args[0] == "push" && run > 0) ApplyTheTourDiff(folder, DiffBlock(tour)); // "Change the first line … and push again"
            var result = await Cli.RunAsync(server, null, args);
            run++;
            var printed = (result.Error + result.Out).Replace(folder.Path + Path.DirectorySeparatorChar, "", StringComparison.Ordinal).TrimEnd();
            var exitCode = step.Shown.StartsWith("error:", StringComparison.Ordinal) ? result.ExitCode != 0 : result.ExitCode == 0;
            if (!exitCode || !Same(step.Shown, printed))
                wrong.Add($"$ {step.Command}\n--- README\n{step.Shown}\n--- printed (exit {result.ExitCode})\n{printed}");
        }

        Assert.True(run >= 9, $"only {run} commands were found in README.md's tour");
        Assert.True(wrong.Count == 0, string.Join("\n\n", wrong));
    }

    /// <summary>"Change the first line of the template to two lines": the '-' line of the tour's diff becomes its '+' lines.</summary>
    private static void ApplyTheTourDiff(TempFolder folder, string diff)
    {
        var lines = diff.Split('\n');
        var removed = lines.Single(l => l.StartsWith('-') && !l.StartsWith("---", StringComparison.Ordinal))[1..];
        var added = string.Join('\n', lines.Where(l => l.StartsWith('+') && !l.StartsWith("+++", StringComparison.Ordinal)).Select(l => l[1..]));
        var file = folder.File("customer-support.md");
        File.WriteAllText(file, File.ReadAllText(file).Replace(removed, added, StringComparison.Ordinal));
    }

    private static string DiffBlock(string tour) => Steps().Matches(tour).Single(m => m.Groups[1].Value.StartsWith("promptvault diff", StringComparison.Ordinal)).Groups[2].Value;

    private static bool Same(string shown, string printed)
    {
        var expected = Rows(shown);
        var actual = Rows(printed);
        return expected.Count == actual.Count && expected.Zip(actual).All(pair =>
            pair.First.Length == pair.Second.Length && pair.First.Zip(pair.Second).All(cell =>
                cell.First.EndsWith('…') ? cell.Second.StartsWith(cell.First[..^1], StringComparison.Ordinal) : cell.First == cell.Second));
    }

    /// <summary>The lines, with times and ids made alike; a table's rows split into trimmed cells, its borders left out.</summary>
    private static List<string[]> Rows(string text) =>
        text.Split('\n').Select(l => Id().Replace(Time().Replace(l.TrimEnd(), "TIME"), "ID"))
            .Where(l => !l.StartsWith('╭') && !l.StartsWith('├') && !l.StartsWith('╰'))
            .Select(l => l.StartsWith('│') ? l.Trim('│').Split('│').Select(c => c.Trim()).ToArray() : [l]).ToList();

    [GeneratedRegex(@"```markdown\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex PromptFile();

    /// <summary>A transcript line <c>$ command</c> and what it printed: the lines up to the next blank line or fence.</summary>
    [GeneratedRegex(@"^\$ (.+)\n((?:(?!```|\$ ).*\S.*\n)*)", RegexOptions.Multiline)]
    private static partial Regex Steps();

    [GeneratedRegex(@"^echo '(.*)' > (\S+)$")]
    private static partial Regex Echo();

    [GeneratedRegex(@"\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ")]
    private static partial Regex Time();

    [GeneratedRegex(@"\b[0-9a-f]{8,}\b…?")]
    private static partial Regex Id();
}
