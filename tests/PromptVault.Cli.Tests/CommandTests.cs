using System.Net;
using PromptVault.Client;
using PromptVault.Core;
using PromptVault.Server.Tests;
using System.Text.Json;
using System.Text.Json.Nodes;
using PromptVault.Core.Auth;
using PromptVault.Core.Storage;
using PromptVault.Core.Versioning;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace PromptVault.Cli.Tests;

/// <summary>Exit codes, messages and JSON output of the commands against a real server.</summary>
public sealed class CommandTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    /// <param name="extraVariables">Front-matter lines after the <c>who</c> variable (more variables, or another block such as <c>tests:</c>).</param>
    internal static string PromptFile(string name, string body = "Hello {{who}}.", string extraVariables = "") => $"""
        ---
        name: {name}
        type: template
        variables:
          - name: who
            type: string
            required: true
        {extraVariables}
        ---
        {body}

        """;

    [Fact]
    public async Task Render_UnknownPrompt_ExitsOneWithTheServersProblem()
    {
        var result = await Cli.RunAsync(fixture.Server, null, "render", "no-such-prompt");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("", result.Out);
        Assert.Contains("error (prompt_not_found): prompt 'no-such-prompt' does not exist.", result.Error);
    }

    [Fact]
    public async Task Parse_UnknownOption_ExitsTwo()
    {
        var result = await Cli.RunAsync(fixture.Server, null, "list", "--no-such-option");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--no-such-option", result.Error);
        Assert.Contains("promptvault list --help", result.Error);
    }

    /// <summary>A mistyped command was answered "Required command was not provided." first, though a command was given.</summary>
    [Fact]
    public async Task MistypedCommand_ExitsTwoNamingIt_WithTheCloseCommand_AndNoCommandStillSaysSo()
    {
        var mistyped = await Cli.RunAsync(Cli.NoEnvironment, "pushh", "p.md");
        var far = await Cli.RunAsync(Cli.NoEnvironment, "xyzzy");
        var none = await Cli.RunAsync(Cli.NoEnvironment);

        Assert.Equal(2, mistyped.ExitCode);
        Assert.Equal("error: Unrecognized command 'pushh'; did you mean 'push'?\nRun 'promptvault --help' for usage.\n", mistyped.Error.ReplaceLineEndings("\n"));
        Assert.Equal(2, far.ExitCode);
        Assert.Equal("error: Unrecognized command 'xyzzy'.\nRun 'promptvault --help' for usage.\n", far.Error.ReplaceLineEndings("\n"));
        Assert.Equal(2, none.ExitCode);
        Assert.Equal("error: Required command was not provided.\nRun 'promptvault --help' for usage.\n", none.Error.ReplaceLineEndings("\n"));
    }

    /// <summary>
    /// Below the top level System.CommandLine said "Required command was not provided." and "Unrecognized command or argument
    /// 'redelivr'." with no close command; every level now says it as the top level does.
    /// </summary>
    [Theory]
    [InlineData("webhooks redelivr 1 2", "webhooks", "redelivr", "; did you mean 'redeliver'?")]
    [InlineData("experiment strat e1", "experiment", "strat", "; did you mean 'start'?")]
    [InlineData("keys lst", "keys", "lst", "; did you mean 'list'?")]
    [InlineData("keys xyzzy", "keys", "xyzzy", ".")]
    public Task MistypedSubcommand_ExitsTwoNamingIt_WithTheCloseCommand(string line, string group, string word, string suggestion) =>
        AssertBadUsageAsync(line, $"error: Unrecognized command '{word}'{suggestion}", " " + group);

    /// <summary>
    /// <c>pushh --hlep</c> said only the option (close to --help, which acts alone), not that pushh is no command: every word
    /// typed wrong is said, with its close one, the command first.
    /// </summary>
    [Theory]
    [InlineData("pushh --hlep", "", "Unrecognized command 'pushh'; did you mean 'push'?", "Unrecognized option '--hlep'; did you mean '--help'?")]
    [InlineData("webhooks redelivr --hlep", " webhooks", "Unrecognized command 'redelivr'; did you mean 'redeliver'?", "Unrecognized option '--hlep'; did you mean '--help'?")]
    [InlineData("pushh p.md --bumpp", "", "Unrecognized command 'pushh'; did you mean 'push'?", "Unrecognized option '--bumpp'.")]
    public Task MistypedCommandAndOption_SaysBoth_CommandFirst(string line, string path, string command, string option) =>
        AssertBadUsageAsync(line, $"error: {command}\nerror: {option}", path);

    /// <summary>Runs <paramref name="line"/> with no server: it exits 2 with <paramref name="errors"/>, then the usage hint of <paramref name="path"/>.</summary>
    private static async Task AssertBadUsageAsync(string line, string errors, string path)
    {
        var result = await Cli.RunAsync(Cli.NoEnvironment, line.Split(' '));

        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"{errors}\nRun 'promptvault{path} --help' for usage.\n", result.Error.ReplaceLineEndings("\n"));
    }

    /// <summary>
    /// <c>promptvault --verison</c> said "Required command was not provided." first, then the mistyped option: what was typed wrong
    /// is the option, and --version (or --help) typed right needs no command or argument, so the option is said alone.
    /// </summary>
    [Theory]
    [InlineData("--verison", "", "--verison", "--version")]
    [InlineData("experiment --hlep", " experiment", "--hlep", "--help")]
    [InlineData("render --hlep", " render", "--hlep", "--help")]
    public Task MistypedOptionCloseToOneThatActsAlone_IsSaidAlone(string line, string path, string token, string option) =>
        AssertBadUsageAsync(line, $"error: Unrecognized option '{token}'; did you mean '{option}'?", path);

    /// <summary>
    /// <c>experiment --json</c> said first that --json is unknown (a group takes no --json), though the user left out the command
    /// whose option it is: the missing command, with the group's commands, comes before anything else.
    /// </summary>
    [Fact]
    public async Task GroupWithoutCommand_SaysTheCommandIsMissingFirst_ListingThem()
    {
        var plain = await Cli.RunAsync(Cli.NoEnvironment, "webhooks");
        var json = await Cli.RunAsync(Cli.NoEnvironment, "experiment", "--json");

        Assert.Equal(2, plain.ExitCode);
        Assert.Equal("error: webhooks needs a command: list, add, remove, deliveries, enable, redeliver.\nRun 'promptvault webhooks --help' for usage.\n",
            plain.Error.ReplaceLineEndings("\n"));
        Assert.Equal(2, json.ExitCode);
        using var document = JsonDocument.Parse(json.Error);
        Assert.Equal("experiment needs a command: create, list, start, pause, complete, cancel, results.",
            document.RootElement.GetProperty("errors")[0].GetProperty("detail").GetString());
    }

    /// <summary>
    /// System.CommandLine said only "Unrecognized command or argument '--unti'." of a mistyped option, and then the same of its
    /// value 'u1', as a second error.
    /// </summary>
    [Fact]
    public async Task MistypedOption_ExitsTwo_WithTheCloseOption()
    {
        var mistyped = await Cli.RunAsync(Cli.NoEnvironment, "render", "p", "--unti", "u1");
        var far = await Cli.RunAsync(Cli.NoEnvironment, "render", "p", "--xyzzy");
        var sameWordAgain = await Cli.RunAsync(Cli.NoEnvironment, "render", "p", "--unti", "u1", "u1");

        Assert.Equal(2, mistyped.ExitCode);
        Assert.Equal("error: Unrecognized option '--unti'; did you mean '--unit'?\nRun 'promptvault render --help' for usage.\n", mistyped.Error.ReplaceLineEndings("\n"));
        Assert.Equal(2, far.ExitCode);
        Assert.StartsWith("error: Unrecognized option '--xyzzy'.\n", far.Error.ReplaceLineEndings("\n"));
        // The option's value is the token after it, not every token of that text: the second u1 is still an error.
        Assert.Equal(2, sameWordAgain.ExitCode);
        Assert.Equal("error: Unrecognized option '--unti'; did you mean '--unit'?\nerror: Unrecognized command or argument 'u1'.\n" +
            "Run 'promptvault render --help' for usage.\n", sameWordAgain.Error.ReplaceLineEndings("\n"));
    }

    /// <summary>
    /// The parser gives a mistyped option to an argument that takes it (push's FILE..., pull's NAME, audit's [NAME]): push said
    /// "Unrecognized option '--bumpp'." without the close one, pull and audit named the option's value (and the NAME) as unrecognized.
    /// </summary>
    [Theory]
    [InlineData("push FILE --bumpp minor", "push", "--bumpp", "--bump")]
    [InlineData("push --bumpp minor FILE", "push", "--bumpp", "--bump")]
    [InlineData("pull --verison 1.0.0 p", "pull", "--verison", "--version")]
    [InlineData("audit --lmit 3", "audit", "--lmit", "--limit")]
    [InlineData("pull --jsn p", "pull", "--jsn", "--json")]
    [InlineData("history --limt=3 p", "history", "--limt", "--limit")]
    public async Task MistypedOption_TakenByAnArgument_IsReportedAsAnUnknownOption_WithTheCloseOne(string line, string command, string token, string option)
    {
        using var folder = new TempFolder();
        var file = folder.Write("p.md", PromptFile(ApiCalls.UniqueName("cli-bumpp")));

        var result = await Cli.RunAsync(fixture.Server, null, line.Replace("FILE", file).Split(' '));

        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"error: Unrecognized option '{token}'; did you mean '{option}'?\nRun 'promptvault {command} --help' for usage.\n",
            result.Error.ReplaceLineEndings("\n"));
    }

    /// <summary>
    /// Only words starting with <c>--</c> were checked: <c>pull -x p</c> took -x as the NAME and called p unrecognized, and
    /// <c>list -x</c> said "Unrecognized command or argument". A short one is an unknown option too, with the close option by the same
    /// rule; '-' alone and a negative number stay arguments.
    /// </summary>
    [Theory]
    [InlineData("list -x", "list", "Unrecognized option '-x'.")]
    [InlineData("render p -unit u1", "render", "Unrecognized option '-unit'; did you mean '--unit'?")]
    [InlineData("pull -json p", "pull", "Unrecognized option '-json'; did you mean '--json'?")]
    public Task MistypedShortOption_IsReportedAsAnUnknownOption(string line, string command, string message) =>
        AssertBadUsageAsync(line, $"error: {message}", " " + command);

    /// <summary>
    /// A one-letter typo was compared with the long names only (<c>push p.md -n msg</c> had no close option), and a long name
    /// typed with one dash paid that dash as an edit (<c>-lable</c> was three from --label): a one-letter typo is given the
    /// command's close short alias, with its long name to say what the letter means, and a one-dash word the long name.
    /// </summary>
    [Theory]
    [InlineData("push p.md -n msg", "push", "Unrecognized option '-n'; did you mean '-m' (--message)?")]
    [InlineData("pull -O out p", "pull", "Unrecognized option '-O'; did you mean '-o' (--output)?")]
    [InlineData("promote p 1.0.0 -lable staging", "promote", "Unrecognized option '-lable'; did you mean '--label'?")]
    public Task MistypedShortOption_IsGivenTheCloseOptionInTheFormTyped(string line, string command, string message) =>
        AssertBadUsageAsync(line, $"error: {message}", " " + command);

    [Theory]
    [InlineData("-")]
    [InlineData("-5")]
    [InlineData("-0.5")]
    public async Task Push_DashAloneOrANegativeNumber_IsAFile(string word)
    {
        var result = await Cli.RunAsync(fixture.Server, null, "push", word);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"{word}: no such file", result.Error);
    }

    /// <summary>After <c>--</c> a word that looks like an option is an argument: a file may be named so (docs/cli.md).</summary>
    [Fact]
    public async Task Push_AfterDoubleDash_AnOptionLikeWordIsAFile()
    {
        var result = await Cli.RunAsync(fixture.Server, null, "push", "--", "--bumpp");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--bumpp: no such file", result.Error);
    }

    [Fact]
    public async Task Help_ListsTheCommandsOnStdout()
    {
        var result = await Cli.RunAsync(Cli.NoEnvironment, "--help");

        Assert.Equal(0, result.ExitCode);
        foreach (var command in new[] { "serve", "push", "pull", "list", "history", "diff", "promote", "rollback", "render", "keys", "audit" })
            Assert.Contains($"  {command}", result.Out);
    }

    /// <summary>The status line of the top-level help listed every status in its usage, widening the whole command column.</summary>
    [Fact]
    public async Task Help_Status_ShowsAPlaceholderInTheUsage_AndTheValuesInItsHelp()
    {
        var top = await Cli.RunAsync(Cli.NoEnvironment, "--help");
        var status = await Cli.RunAsync(Cli.NoEnvironment, "status", "--help");

        Assert.Contains("  status <NAME> <VERSION> <STATUS> ", top.Out);
        Assert.Contains(" status <NAME> <VERSION> <STATUS> [options]", status.Out);
        Assert.Contains("The new status: draft, review, approved, production, deprecated, archived;", status.Out);
        Assert.Equal(2, (await Cli.RunAsync(Cli.NoEnvironment, "status", "p", "1.0.0", "shipped")).ExitCode);
    }

    [Fact]
    public async Task Parse_NoCommand_ExitsTwo()
    {
        var result = await Cli.RunAsync(Cli.NoEnvironment);

        Assert.Equal(2, result.ExitCode);
    }

    [Fact]
    public async Task Parse_MissingArgument_ExitsTwo()
    {
        var result = await Cli.RunAsync(fixture.Server, null, "diff", "only-a-name");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("diff needs A: the older version (e.g. 1.0.0).", result.Error);
        Assert.Contains("diff needs B: the newer version (e.g. 1.0.1).", result.Error);
        Assert.DoesNotContain("Required argument missing", result.Error);
    }

    /// <summary>Every command's missing argument is named, a subcommand's with its path (System.CommandLine named only the command).</summary>
    [Theory]
    [InlineData(new[] { "diff", "p", "1.0.0" }, "diff needs B: the newer version (e.g. 1.0.1).")]
    [InlineData(new[] { "keys", "revoke" }, "keys revoke needs ID: the key's id (see 'keys list').")]
    [InlineData(new[] { "push" }, "push needs FILE: prompt files: Markdown with YAML front matter.")]
    public async Task Parse_MissingArgument_NamesItAndWhatItIs(string[] args, string expected)
    {
        var result = await Cli.RunAsync(Cli.NoEnvironment, args);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(expected, result.Error);
    }

    [Fact]
    public async Task Push_WithReaderKey_ExitsOneWithForbidden()
    {
        var reader = await fixture.Server.CreateKeyAsync("viewer", ApiKeyRole.Reader, TestContext.Current.CancellationToken);
        using var folder = new TempFolder();
        var file = folder.Write("p.md", PromptFile("reader-push"));

        var result = await Cli.RunAsync(fixture.Server, reader, "push", file);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("error (forbidden):", result.Error);
        Assert.Contains("reader", result.Error);
    }

    [Fact]
    public async Task Status_ApprovingYourOwnVersion_SaysAnotherKeyMustApprove_NotThatTheRoleIsTooWeak()
    {
        using var folder = new TempFolder();
        var file = folder.Write("p.md", PromptFile("self-approve"));
        Assert.Equal(0, (await Cli.RunAsync(fixture.Server, null, "push", file)).ExitCode);
        Assert.Equal(0, (await Cli.RunAsync(fixture.Server, null, "status", "self-approve", "1.0.0", "review")).ExitCode);

        var result = await Cli.RunAsync(fixture.Server, null, "status", "self-approve", "1.0.0", "approved");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("error (self_approval):", result.Error);
        Assert.Contains("a key with another name must approve it", result.Error);
        Assert.DoesNotContain("stronger role", result.Error); // the admin key has the strongest role already
    }

    [Fact]
    public async Task RollbackStatusAndPromote_Expect_AStaleVersionExitsOneWithLabelMovedAndChangesNothing_ANonNumberIsUsage()
    {
        using var folder = new TempFolder();
        Assert.Equal(0, (await Cli.RunAsync(fixture.Server, null, "push", folder.Write("p.md", PromptFile("cli-expect")))).ExitCode);
        Assert.Equal(0, (await Cli.RunAsync(fixture.Server, null, "push", folder.Write("p.md", PromptFile("cli-expect", "Hi {{who}}.")), "-m", "hi")).ExitCode);
        Assert.Equal(0, (await Cli.RunAsync(fixture.Server, null, "promote", "cli-expect", "1.0.0")).ExitCode);

        var stale = await Cli.RunAsync(fixture.Server, null, "status", "cli-expect", "1.0.1", "production", "--expect", "1.0.1");
        var usage = await Cli.RunAsync(fixture.Server, null, "rollback", "cli-expect", "1.0.0", "--expect", "latest");
        var promoted = await Cli.RunAsync(fixture.Server, null, "status", "cli-expect", "1.0.1", "production", "--expect", "1.0.0");
        var staleRollback = await Cli.RunAsync(fixture.Server, null, "rollback", "cli-expect", "1.0.0", "--expect", "1.0.0");
        var rolledBack = await Cli.RunAsync(fixture.Server, null, "rollback", "cli-expect", "1.0.0", "--expect", "1.0.1");

        Assert.Equal(1, stale.ExitCode);
        Assert.Contains("error (label_moved):", stale.Error);
        Assert.Equal(2, usage.ExitCode);
        Assert.Contains("--expect must be a version number such as 1.0.1, or none, got 'latest'.", usage.Error);
        Assert.True(promoted.ExitCode == 0, promoted.ToString());
        Assert.Equal(1, staleRollback.ExitCode);
        Assert.Contains("error (label_moved):", staleRollback.Error);
        Assert.True(rolledBack.ExitCode == 0, rolledBack.ToString());
        Assert.Equal("Rolled back cli-expect to 1.0.0: new version 1.0.2 is in production.", rolledBack.Out.Trim());

        var stalePromote = await Cli.RunAsync(fixture.Server, null, "promote", "cli-expect", "1.0.1", "--expect", "1.0.1");
        var promotedBack = await Cli.RunAsync(fixture.Server, null, "promote", "cli-expect", "1.0.1", "--expect", "1.0.2");
        Assert.Equal(1, stalePromote.ExitCode);
        Assert.Contains("error (label_moved):", stalePromote.Error);
        Assert.Contains("hint: to make this change from where the label is now, run the command again with --expect 1.0.2;", stalePromote.Error);
        Assert.Equal("Promoted cli-expect 1.0.1 to production.", promotedBack.Out.Trim());

        // none: only if the label is not set yet (If-None-Match: *).
        var firstStaging = await Cli.RunAsync(fixture.Server, null, "promote", "cli-expect", "1.0.0", "--label", "staging", "--expect", "none");
        var secondStaging = await Cli.RunAsync(fixture.Server, null, "promote", "cli-expect", "1.0.1", "--label", "staging", "--expect", "none");
        Assert.True(firstStaging.ExitCode == 0, firstStaging.ToString());
        Assert.Equal(1, secondStaging.ExitCode);
        Assert.Contains("error (label_moved):", secondStaging.Error);
        Assert.Contains("points at version 1.0.0", secondStaging.Error);
    }

    /// <summary>
    /// A move refused because the label moved since --expect read it is told in the CLI's words, never the server's HTTP ones
    /// (If-Match, GET /api/…): where the label is now, what --expect wanted, and the --expect to run again with.
    /// </summary>
    [Fact]
    public async Task PromoteRollbackAndStatus_Expect_RefusedBecauseTheLabelMoved_SayWhereItIsAndWhatToRun_InCliWordsOnly()
    {
        using var folder = new TempFolder();
        Assert.Equal(0, (await Cli.RunAsync(fixture.Server, null, "push", folder.Write("p.md", PromptFile("cli-words")))).ExitCode);
        Assert.Equal(0, (await Cli.RunAsync(fixture.Server, null, "push", folder.Write("p.md", PromptFile("cli-words", "Hi {{who}}.")), "-m", "hi")).ExitCode);
        Assert.Equal(0, (await Cli.RunAsync(fixture.Server, null, "promote", "cli-words", "1.0.0")).ExitCode);
        Assert.Equal(0, (await Cli.RunAsync(fixture.Server, null, "promote", "cli-words", "1.0.0", "--label", "staging")).ExitCode);

        var promote = await Cli.RunAsync(fixture.Server, null, "promote", "cli-words", "1.0.1", "--expect", "1.0.1");
        var rollback = await Cli.RunAsync(fixture.Server, null, "rollback", "cli-words", "1.0.1", "--expect", "none");
        var status = await Cli.RunAsync(fixture.Server, null, "status", "cli-words", "1.0.1", "production", "--expect", "1.0.1");
        var staging = await Cli.RunAsync(fixture.Server, null, "promote", "cli-words", "1.0.1", "--label", "staging", "--expect", "none", "--json");

        Assert.Equal(
            "error (label_moved): label 'production' of 'cli-words' points at version 1.0.0; --expect wants it at 1.0.1: someone else moved it, and this command changed nothing.\n" +
            "hint: to make this change from where the label is now, run the command again with --expect 1.0.0; 'promptvault audit cli-words' shows who moved it.\n",
            promote.Error.ReplaceLineEndings("\n"));
        Assert.Contains("error (label_moved): label 'production' of 'cli-words' points at version 1.0.0; --expect wants it unset:", rollback.Error);
        Assert.Contains("error (label_moved): label 'production' of 'cli-words' points at version 1.0.0; --expect wants it at 1.0.1:", status.Error);
        Assert.Contains("\"detail\":\"label 'staging' of 'cli-words' points at version 1.0.0; --expect wants it unset:", staging.Error);
        Assert.Contains("run the command again with --expect 1.0.0;", staging.Error);
        foreach (var refused in new[] { promote, rollback, status, staging })
        {
            Assert.Equal(1, refused.ExitCode);
            Assert.DoesNotContain("If-Match", refused.Error.Replace("\"field\":\"If-Match\"", "", StringComparison.Ordinal));
            Assert.DoesNotContain("If-None-Match", refused.Error.Replace("\"field\":\"If-None-Match\"", "", StringComparison.Ordinal));
            Assert.DoesNotContain("/api/", refused.Error);
        }
    }

    /// <summary>Refused (1), as the server refuses a version without a change description: the command line itself is valid.</summary>
    [Fact]
    public async Task Push_ChangedWithoutMessage_IsRefusedAndWritesNothing()
    {
        using var folder = new TempFolder();
        var file = folder.Write("p.md", PromptFile("needs-message"));
        Assert.Equal(0, (await Cli.RunAsync(fixture.Server, null, "push", file)).ExitCode);
        folder.Write("p.md", PromptFile("needs-message", "Hi {{who}}."));

        var result = await Cli.RunAsync(fixture.Server, null, "push", file);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("-m MESSAGE is required", result.Error);
        var history = await Cli.RunAsync(fixture.Server, null, "history", "needs-message", "--json");
        using var document = JsonDocument.Parse(history.Out);
        Assert.Single(document.RootElement.GetProperty("versions").EnumerateArray());
    }

    [Fact]
    public async Task HistoryAndAudit_Limit_ShowTheNewestAndSayHowManyThereAre()
    {
        using var folder = new TempFolder();
        var file = folder.Write("p.md", PromptFile("limited"));
        await Cli.RunAsync(fixture.Server, null, "push", file);
        folder.Write("p.md", PromptFile("limited", "Hi {{who}}."));
        await Cli.RunAsync(fixture.Server, null, "push", file, "-m", "Shorter");

        var history = await Cli.RunAsync(fixture.Server, null, "history", "limited", "--limit", "1");
        var audit = await Cli.RunAsync(fixture.Server, null, "audit", "limited", "--limit", "2", "--json");
        var tooMany = await Cli.RunAsync(fixture.Server, null, "audit", "--limit", "5000");

        Assert.Equal(0, history.ExitCode);
        Assert.Contains("1.0.1", history.Out);
        Assert.DoesNotContain("1.0.0", history.Out);
        Assert.Contains("Showing the newest 1 of 2 versions.", history.Error);
        using var document = JsonDocument.Parse(audit.Out);
        Assert.Equal(2, document.RootElement.GetProperty("entries").GetArrayLength());
        Assert.Equal(3, document.RootElement.GetProperty("total").GetInt32());
        Assert.Equal(2, tooMany.ExitCode);
        Assert.Contains("--limit must be between 1 and 1000, got 5000.", tooMany.Error);
    }

    /// <summary>
    /// A numeric option out of the server's range is bad usage (exit 2) naming the option and the range, refused before any
    /// request: <c>history --limit 0</c> went to the server and exited 1 with its <c>invalid_limit</c>.
    /// </summary>
    [Theory]
    [InlineData("--limit must be between 1 and 1000, got 0.", "history", "p", "--limit", "0")]
    [InlineData("--limit must be between 1 and 1000, got 0.", "audit", "--limit", "0")]
    [InlineData("--min-samples must be at least 1, got 0.", "experiment", "create", "e", "--prompt", "p", "--variant", "a=1.0.0:50", "--min-samples", "0")]
    [InlineData("--confidence must be between 0.5 and 0.9999, got 95.", "experiment", "create", "e", "--prompt", "p", "--variant", "a=1.0.0:50", "--confidence", "95")]
    [InlineData("--mde must be between 0.001 and 10, got 0.", "experiment", "create", "e", "--prompt", "p", "--variant", "a=1.0.0:50", "--mde", "0")]
    [InlineData("--power must be between 0.5 and 0.99, got 1.", "experiment", "create", "e", "--prompt", "p", "--variant", "a=1.0.0:50", "--power", "1")]
    [InlineData("--users must be at least 1, got 0.", "demo", "--users", "0")]
    [InlineData("--guardrail 'errorRate=1e400' is not METRIC=THRESHOLD", "experiment", "create", "e", "--prompt", "p", "--variant", "a=1.0.0:50", "--guardrail", "errorRate=1e400")]
    [InlineData("--guardrail 'errorRate=NaN' is not METRIC=THRESHOLD", "experiment", "create", "e", "--prompt", "p", "--variant", "a=1.0.0:50", "--guardrail", "errorRate=NaN")]
    public async Task NumericOption_OutOfTheServersRange_IsAUsageErrorNamingTheRange(string error, params string[] args)
    {
        var result = await Cli.RunAsync(fixture.Server, null, args);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(error, result.Error);
    }

    /// <summary>Both were sent and the server rendered the version, ignoring the label without a word.</summary>
    [Fact]
    public async Task Render_LabelAndVersionTogether_IsAUsageErrorNamingBoth()
    {
        var result = await Cli.RunAsync(fixture.Server, null, "render", "p", "--label", "staging", "--version", "1.0.0");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--label and --version cannot be given together", result.Error);
    }

    /// <summary>An unchanged file with --bump printed "unchanged" and exited 0 without a word about the bump it dropped.</summary>
    [Fact]
    public async Task Push_BumpOnAnUnchangedFile_SaysTheBumpWasNotApplied()
    {
        using var folder = new TempFolder();
        var file = folder.Write("p.md", PromptFile("bump-unchanged"));
        await Cli.RunAsync(fixture.Server, null, "push", file);

        var result = await Cli.RunAsync(fixture.Server, null, "push", file, "--bump", "major");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("bump-unchanged 1.0.0 unchanged", result.Out.Trim());
        Assert.Contains("unchanged: --bump major not applied", result.Error);
        Assert.Contains("(1.0.0 stays the latest)", result.Error);
    }

    /// <summary>With --json the warning was a plain 'warning:' line on stderr, beside nothing a script could read as JSON.</summary>
    [Fact]
    public async Task Push_Json_BumpOnAnUnchangedFile_StderrIsOneJsonDocumentWithTheWarning_StdoutTheResults()
    {
        using var folder = new TempFolder();
        var file = folder.Write("p.md", PromptFile("bump-unchanged-json"));
        await Cli.RunAsync(fixture.Server, null, "push", file);

        var result = await Cli.RunAsync(fixture.Server, null, "push", file, "--bump", "major", "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("unchanged", JsonNode.Parse(result.Out)![0]!["result"]!.GetValue<string>());
        var document = JsonNode.Parse(result.Error)!.AsObject();
        Assert.Equal(["warnings"], document.Select(p => p.Key));
        var warning = Assert.Single(document["warnings"]!.AsArray())!.GetValue<string>();
        Assert.Equal($"{file}: unchanged: --bump major not applied; the content, variables and metadata are unchanged, so no new version was made (1.0.0 stays the latest).", warning);
    }

    [Fact]
    public async Task Push_Bump_RaisesTheVersionMoreThanNeeded()
    {
        using var folder = new TempFolder();
        var file = folder.Write("p.md", PromptFile("bumped"));
        await Cli.RunAsync(fixture.Server, null, "push", file);
        folder.Write("p.md", PromptFile("bumped", "Hi {{who}}."));

        var result = await Cli.RunAsync(fixture.Server, null, "push", file, "-m", "Big rewrite", "--bump", "major");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("bumped 2.0.0 new version (was 1.0.0)", result.Out.Trim());
    }

    /// <summary>A file cannot carry CRLF line ends or trailing whitespace, which a version made through the API may have.</summary>
    [Theory]
    [InlineData("Hello {{who}}.\r\nBye.")]
    [InlineData("Hello {{who}}.  \nBye.\n\n")]
    [InlineData("Hello {{who}}.\r\n\r\nBye. \t\r\n")]
    public async Task PullThenPush_VersionMadeThroughTheApi_IsUnchanged(string content)
    {
        using var client = fixture.Server.CreateClient();
        var name = ApiCalls.UniqueName("api");
        var (status, body) = await ApiCalls.PostAsync(client, "/api/prompts", new
        {
            name, type = "template", content, variables = new[] { new { name = "who", type = "string", required = true } },
        });
        Assert.True(status == System.Net.HttpStatusCode.Created, body?.ToJsonString());
        using var folder = new TempFolder();
        var file = folder.File("pulled.md");

        var pulled = await Cli.RunAsync(fixture.Server, null, "pull", name, "-o", file);
        var pushed = await Cli.RunAsync(fixture.Server, null, "push", file);

        Assert.True(pulled.ExitCode == 0, pulled.ToString());
        Assert.True(pushed.ExitCode == 0, pushed.ToString());
        Assert.Equal($"{name} 1.0.0 unchanged", pushed.Out.Trim());
    }

    [Fact]
    public async Task Pull_JsonWithOutputFile_WritesTheFileAndPrintsTheVersion()
    {
        using var folder = new TempFolder();
        var name = ApiCalls.UniqueName("pull-json");
        Assert.Equal(0, (await Cli.RunAsync(fixture.Server, null, "push", folder.Write("a.md", PromptFile(name)))).ExitCode);
        var file = folder.File("pulled.md");

        var pulled = await Cli.RunAsync(fixture.Server, null, "pull", name, "-o", file, "--json");

        Assert.True(pulled.ExitCode == 0, pulled.ToString());
        Assert.Contains($"name: {name}", File.ReadAllText(file), StringComparison.Ordinal);
        var version = JsonDocument.Parse(pulled.Out).RootElement;
        Assert.Equal((name, "1.0.0"), (version.GetProperty("promptName").GetString(), version.GetProperty("version").GetString()));
        Assert.Equal("", pulled.Error);
    }

    [Fact]
    public async Task Push_BadFrontMatter_ExitsOneNamingTheFileAndProblem()
    {
        using var folder = new TempFolder();
        var file = folder.Write("broken.md", "---\nname: broken\nvariables:\n  - name: who\n    type: strng\n---\nHello {{who}}\n");

        var result = await Cli.RunAsync(fixture.Server, null, "push", file);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains(file, result.Error);
        Assert.Contains("variables[0].type", result.Error);
        Assert.Contains("'strng' is not one of string, number, boolean, array, object", result.Error);
    }

    [Fact]
    public async Task Push_OneFileWithABadName_ExitsOneNamingTheFileAndLine_AndWritesNothing()
    {
        using var folder = new TempFolder();
        var good = folder.Write("good.md", PromptFile("bad-name-neighbour"));
        var bad = folder.Write("bad.md", "---\nname: Bad Name\n---\nHello\n");

        var result = await Cli.RunAsync(fixture.Server, null, "push", good, bad);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"{bad}: name (line 2): name 'Bad Name' is invalid", result.Error);
        Assert.Equal(1, (await Cli.RunAsync(fixture.Server, null, "history", "bad-name-neighbour")).ExitCode);
    }

    [Fact]
    public async Task Push_MissingFile_ExitsTwo()
    {
        var result = await Cli.RunAsync(fixture.Server, null, "push", "/no/such/file.md");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("/no/such/file.md: no such file.", result.Error);
    }

    [Fact]
    public async Task Push_AFolder_ExitsTwoSayingItIsAFolder()
    {
        var folder = Directory.CreateTempSubdirectory("pv-push-folder").FullName;
        try
        {
            var result = await Cli.RunAsync(fixture.Server, null, "push", folder);

            Assert.Equal(2, result.ExitCode);
            Assert.Contains($"{folder}: a folder, not a file", result.Error);
        }
        finally
        {
            Directory.Delete(folder);
        }
    }

    [Fact]
    public async Task Push_TemplateWithUndeclaredVariable_ExitsOneNamingTheFilesLine()
    {
        using var folder = new TempFolder();
        var file = folder.Write("typo.md", PromptFile("typo", "Hello {{whom}}."));

        var result = await Cli.RunAsync(fixture.Server, null, "push", file);

        Assert.Equal(1, result.ExitCode);
        Assert.Matches(@"typo\.md: line \d+, column 7: content references 'whom', which is not a declared variable", result.Error);
    }

    [Fact]
    public async Task Push_LatestVersionSavedWithALiteralTag_UnchangedFileIsUnchanged_EditedFileIsRefused()
    {
        // A version saved before '{{1}}' was refused still holds it: the reader refused the file before comparing it with the version.
        var ct = TestContext.Current.CancellationToken;
        using var folder = new TempFolder();
        var name = ApiCalls.UniqueName("cli-legacy");
        Assert.Equal(0, (await Cli.RunAsync(fixture.Server, null, "push", folder.Write("first.md", PromptFile(name)))).ExitCode);
        var store = fixture.Server.Services.GetRequiredService<IPromptStore>();
        var prompt = (await store.FindPromptAsync(name, ct))!;
        var first = (await store.FindLatestVersionAsync(prompt.Id, ct))!;
        await store.SaveAsync(new PromptChanges
        {
            NewVersion = first with
            {
                Id = Guid.NewGuid().ToString("N"), Sequence = 2, Version = new SemanticVersion(1, 0, 1),
                Content = "Hi {{who}}, number {{1}}.", ChangeDescription = "saved before literal tags were refused",
            },
        }, ct);

        var unchanged = await Cli.RunAsync(fixture.Server, null, "push", folder.Write("legacy.md", PromptFile(name, "Hi {{who}}, number {{1}}.")));
        var edited = await Cli.RunAsync(fixture.Server, null, "push", folder.Write("edited.md", PromptFile(name, "Hello {{who}}, number {{1}}.")), "-m", "Say hello");

        Assert.True(unchanged.ExitCode == 0, unchanged.ToString());
        Assert.Equal($"{name} 1.0.1 unchanged\n", unchanged.Out.ReplaceLineEndings("\n"));
        Assert.Equal(1, edited.ExitCode);
        Assert.StartsWith($"error: {Path.Combine(folder.Path, "edited.md")}: line 10, column 23: content is not a valid template: '{{{{1}}}}' writes a literal",
            edited.Error, StringComparison.Ordinal);
        Assert.Equal(2, (await store.ListVersionsAsync(prompt.Id, ct)).Count);
    }

    [Fact]
    public async Task Push_NonAsciiVariableName_SaysOnlyAsciiLettersAreTaken()
    {
        using var folder = new TempFolder();
        var file = folder.Write("umlaut.md", $$"""
            ---
            name: {{ApiCalls.UniqueName("cli-umlaut")}}
            variables:
              - name: größe
            ---
            Size {{"{{größe}}"}}.
            """);

        var result = await Cli.RunAsync(fixture.Server, null, "push", file);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("umlaut.md: variables[0].name 'größe' is invalid: use a-z, A-Z or '_', then a-z, A-Z, 0-9 or '_' (at most 100 characters; no accented or other non-ASCII letters).", result.Error);
    }

    [Fact]
    public async Task Push_Json_PrintsOneResultPerFile()
    {
        using var folder = new TempFolder();
        var first = folder.Write("a.md", PromptFile("json-a"));
        var second = folder.Write("b.md", PromptFile("team/json-b"));

        var result = await Cli.RunAsync(fixture.Server, null, "push", first, second, "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        using var document = JsonDocument.Parse(result.Out);
        var results = document.RootElement.EnumerateArray().ToList();
        Assert.Equal(["json-a", "team/json-b"], results.Select(r => r.GetProperty("prompt").GetString()));
        Assert.All(results, r => Assert.Equal("created", r.GetProperty("result").GetString()));
        Assert.All(results, r => Assert.Equal("1.0.0", r.GetProperty("version").GetString()));
    }

    [Fact]
    public async Task Render_TypedVars_FollowTheDeclaredVariableTypes()
    {
        using var folder = new TempFolder();
        var file = folder.Write("typed.md", PromptFile("typed-vars",
            "Hello {{who}}.{{#if urgent}} URGENT.{{/if}} Show {{count}} items of {{#each tags}}[{{this}}]{{/each}}.",
            """
              - name: urgent
                type: boolean
              - name: count
                type: number
                required: true
              - name: tags
                type: array
            """));
        Assert.Equal(0, (await Cli.RunAsync(fixture.Server, null, "push", file)).ExitCode);

        var result = await Cli.RunAsync(fixture.Server, null, "render", "typed-vars", "--version", "1.0.0",
            "--var", "who=Sam", "--var", "urgent=false", "--var", "count=3", "--var", "tags=[\"a\",\"b\"]");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("Hello Sam. Show 3 items of [a][b].", result.Out.Trim());
    }

    /// <summary>Sent as a string, the server's refusal said the value was a string ("must be an array"), not how to pass JSON.</summary>
    [Theory]
    [InlineData("count=many", "error: --var count: 'many' is not a JSON number, as count is declared (number); pass one (quoted for the shell), e.g. --var count=3, or put it in a --vars FILE.json.")]
    [InlineData("history=x", "error: --var history: 'x' is not a JSON array, as history is declared (array); pass one (quoted for the shell), e.g. --var 'history=[\"a\", \"b\"]', or put it in a --vars FILE.json.")]
    public async Task Render_VarNotOfItsDeclaredType_ExitsTwoSayingHowToPassIt(string pair, string error)
    {
        using var folder = new TempFolder();
        var file = folder.Write("count.md", PromptFile("count-var", "{{who}} {{count}}{{#each history}}{{this}}{{/each}}",
            "  - name: count\n    type: number\n    required: true\n  - name: history\n    type: array"));
        Assert.Equal(0, (await Cli.RunAsync(fixture.Server, null, "push", file)).ExitCode);

        var result = await Cli.RunAsync(fixture.Server, null, "render", "count-var", "--version", "1.0.0", "--var", "who=x", "--var", "count=1", "--var", pair);

        Assert.Equal(2, result.ExitCode);
        Assert.Equal(error, result.Error.Trim());
    }

    /// <summary>The server ignores a variable the version does not declare: a misspelt --var rendered with the default, without a word.</summary>
    [Theory]
    [InlineData("custmer=Ann", "error: --var custmer: unknown-var 1.0.0 has no variable 'custmer' (it declares customer, greeting, who); did you mean 'customer'? The server would ignore it, so the CLI refuses it; a --vars FILE.json may hold variables a prompt does not declare.")]
    [InlineData("nosuch=1", "error: --var nosuch: unknown-var 1.0.0 has no variable 'nosuch' (it declares customer, greeting, who). The server would ignore it, so the CLI refuses it; a --vars FILE.json may hold variables a prompt does not declare.")]
    public async Task Render_VarTheVersionDoesNotDeclare_ExitsTwoNamingItAndTheDeclaredOnes(string pair, string error)
    {
        using var folder = new TempFolder();
        var file = folder.Write("unknown.md", PromptFile("unknown-var", "{{greeting}} {{who}}, {{customer}}.",
            "  - name: customer\n    type: string\n    defaultValue: friend\n  - name: greeting\n    type: string\n    defaultValue: Hi"));
        Assert.Equal(0, (await Cli.RunAsync(fixture.Server, null, "push", file)).ExitCode);

        var refused = await Cli.RunAsync(fixture.Server, null, "render", "unknown-var", "--version", "1.0.0", "--var", "who=x", "--var", pair);
        var declared = await Cli.RunAsync(fixture.Server, null, "render", "unknown-var", "--version", "1.0.0", "--var", "who=x", "--var", "customer=Ann");

        Assert.Equal(2, refused.ExitCode);
        Assert.Equal(error, refused.Error.Trim());
        Assert.Equal("", refused.Out);
        Assert.True(declared.ExitCode == 0, declared.ToString());
        Assert.Equal("Hi x, Ann.", declared.Out.Trim());
    }

    /// <summary>A --vars file naming a variable twice crashed building the dictionary; one repeating a name inside a value sent it.</summary>
    [Theory]
    [InlineData("""{"who": "a", "who": "b"}""", "who")]
    [InlineData("""{"who": "a", "history": [{"x": 1, "x": 2}]}""", "x")]
    public async Task Render_VarsFileGivingANameTwice_ExitsTwoNamingIt(string vars, string repeated)
    {
        using var folder = new TempFolder();
        var file = folder.Write("twice.md", PromptFile("twice-vars", "{{who}}{{#each history}}{{this}}{{/each}}", "  - name: history\n    type: array"));
        Assert.Equal(0, (await Cli.RunAsync(fixture.Server, null, "push", file)).ExitCode);

        var result = await Cli.RunAsync(fixture.Server, null, "render", "twice-vars", "--version", "1.0.0", "--vars", folder.Write("vars.json", vars));

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains($"'{repeated}'", result.Error, StringComparison.Ordinal);
    }

    /// <summary>The server's detail names the HTTP route that meets a gate; a CLI user is told the command.</summary>
    [Fact]
    public async Task LifecycleGateRefusals_HintTheCliCommandsThatMeetThem()
    {
        using var folder = new TempFolder();
        Assert.Equal(0, (await Cli.RunAsync(fixture.Server, null, "push", folder.Write("a.md", PromptFile("gate-approval", extraVariables: "requireApproval: true")))).ExitCode);
        Assert.Equal(0, (await Cli.RunAsync(fixture.Server, null, "push", folder.Write("t.md", PromptFile("gate-tests", extraVariables: "requireTests: true")))).ExitCode);

        var approval = await Cli.RunAsync(fixture.Server, null, "promote", "gate-approval", "1.0.0");
        var approvalJson = await Cli.RunAsync(fixture.Server, null, "promote", "gate-approval", "1.0.0", "--json");
        Assert.Equal(0, (await Cli.RunAsync(fixture.Server, null, "status", "gate-approval", "1.0.0", "review")).ExitCode);
        var self = await Cli.RunAsync(fixture.Server, null, "status", "gate-approval", "1.0.0", "approved");
        var inReview = await Cli.RunAsync(fixture.Server, null, "promote", "gate-approval", "1.0.0");
        var tests = await Cli.RunAsync(fixture.Server, null, "promote", "gate-tests", "1.0.0");

        Assert.Equal((1, 1, 1, 1, 1), (approval.ExitCode, approvalJson.ExitCode, self.ExitCode, inReview.ExitCode, tests.ExitCode));
        const string approve = "hint: from the CLI: 'promptvault status gate-approval 1.0.0 review' moves it to review, and 'promptvault status gate-approval 1.0.0 approved', " +
            "run with a key of another name (--api-key), approves it; then run this command again.";
        Assert.Contains("error (approval_required):", approval.Error, StringComparison.Ordinal);
        Assert.Contains(approve, approval.Error, StringComparison.Ordinal);
        Assert.Equal(approve["hint: ".Length..], JsonDocument.Parse(approvalJson.Error).RootElement.GetProperty("error").GetProperty("hint").GetString());
        Assert.Contains("hint: whoever approves it runs 'promptvault status gate-approval 1.0.0 approved' with their own key (--api-key).", self.Error, StringComparison.Ordinal);
        Assert.Contains("hint: from the CLI: 'promptvault status gate-approval 1.0.0 approved', run with a key of another name (--api-key), approves it; then run this command again.",
            inReview.Error, StringComparison.Ordinal);
        Assert.Contains("error (tests_required):", tests.Error, StringComparison.Ordinal);
        Assert.Contains("hint: 'promptvault test gate-tests --version 1.0.0' runs its tests and shows what fails; once they pass, run this command again.", tests.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_ApprovedByTheAuthorRefused_ByAnotherKeyShownInHistory()
    {
        using var folder = new TempFolder();
        var file = folder.Write("a.md", PromptFile("approve-cli"));
        await Cli.RunAsync(fixture.Server, null, "push", file);
        var reviewer = await fixture.Server.CreateKeyAsync("rev", ApiKeyRole.Writer, TestContext.Current.CancellationToken);

        var review = await Cli.RunAsync(fixture.Server, null, "status", "approve-cli", "1.0.0", "review");
        var self = await Cli.RunAsync(fixture.Server, null, "status", "approve-cli", "1.0.0", "approved");
        var other = await Cli.RunAsync(fixture.Server, reviewer, "status", "approve-cli", "1.0.0", "approved");
        var history = await Cli.RunAsync(fixture.Server, null, "history", "approve-cli");
        var unknown = await Cli.RunAsync(fixture.Server, null, "status", "approve-cli", "1.0.0", "shipped");

        Assert.True(review.ExitCode == 0, review.ToString());
        Assert.Equal(1, self.ExitCode);
        Assert.Contains("cannot approve", self.Error);
        Assert.True(other.ExitCode == 0, other.ToString());
        Assert.Contains("approve-cli 1.0.0 is approved, approved by rev.", other.Out);
        Assert.Contains("Approved by", history.Out);
        Assert.Contains("rev", history.Out);
        Assert.Equal(2, unknown.ExitCode);
    }

    [Fact]
    public async Task Render_Json_ParsesAndCarriesTheVersion()
    {
        using var folder = new TempFolder();
        var file = folder.Write("r.md", PromptFile("render-json"));
        await Cli.RunAsync(fixture.Server, null, "push", file);
        await Cli.RunAsync(fixture.Server, null, "promote", "render-json", "1.0.0");

        var result = await Cli.RunAsync(fixture.Server, null, "render", "render-json", "--var", "who=world", "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        using var document = JsonDocument.Parse(result.Out);
        Assert.Equal("Hello world.", document.RootElement.GetProperty("content").GetString());
        Assert.Equal("1.0.0", document.RootElement.GetProperty("version").GetString());
        Assert.Equal(JsonValueKind.Null, document.RootElement.GetProperty("unitId").ValueKind);
    }

    [Fact]
    public async Task Render_BadVarSyntax_ExitsTwo()
    {
        var result = await Cli.RunAsync(fixture.Server, null, "render", "anything", "--var", "no-equals-sign");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("NAME=VALUE", result.Error);
    }

    [Fact]
    public async Task List_Json_ParsesAndHoldsPushedPrompts()
    {
        using var folder = new TempFolder();
        await Cli.RunAsync(fixture.Server, null, "push", folder.Write("l.md", PromptFile("listed")));

        var json = await Cli.RunAsync(fixture.Server, null, "list", "--json");
        var table = await Cli.RunAsync(fixture.Server, null, "list");

        Assert.True(json.ExitCode == 0, json.ToString());
        using var document = JsonDocument.Parse(json.Out);
        Assert.Contains(document.RootElement.GetProperty("prompts").EnumerateArray(), p => p.GetProperty("name").GetString() == "listed");
        Assert.Contains(table.Out.Split('\n'), line => line.Contains("listed", StringComparison.Ordinal) && line.Contains("1.0.0", StringComparison.Ordinal));
    }

    [Fact]
    public async Task List_NothingMatches_SaysWhatWasAskedOnStderr_NotAHeadersOnlyTable()
    {
        using var folder = new TempFolder();
        await Cli.RunAsync(fixture.Server, null, "push", folder.Write("e.md", PromptFile("no-experiments")));

        var prompts = await Cli.RunAsync(fixture.Server, null, "list", "--tag", "no-such-tag");
        var experiments = await Cli.RunAsync(fixture.Server, null, "experiment", "list", "--prompt", "no-experiments");

        Assert.True(prompts.ExitCode == 0, prompts.ToString());
        Assert.Equal("", prompts.Out);
        Assert.Contains("No prompts match --tag no-such-tag; 'promptvault list' without it shows them all.", prompts.Error);
        Assert.True(experiments.ExitCode == 0, experiments.ToString());
        Assert.Equal("", experiments.Out);
        Assert.Contains("No experiments on prompt 'no-experiments' yet.", experiments.Error);
    }

    [Fact]
    public async Task Promote_OtherLabel_MovesOnlyThatLabel()
    {
        using var folder = new TempFolder();
        await Cli.RunAsync(fixture.Server, null, "push", folder.Write("s.md", PromptFile("staged")));

        var result = await Cli.RunAsync(fixture.Server, null, "promote", "staged", "1.0.0", "--label", "staging");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("Moved label staging of staged to 1.0.0.", result.Out.Trim());
        var rendered = await Cli.RunAsync(fixture.Server, null, "render", "staged", "--label", "staging", "--var", "who=QA");
        Assert.Equal("Hello QA.", rendered.Out.Trim());
        var production = await Cli.RunAsync(fixture.Server, null, "render", "staged", "--var", "who=QA");
        Assert.Equal(1, production.ExitCode);
        Assert.Contains("label_not_found", production.Error);
    }

    [Fact]
    public async Task Keys_CreateListRevoke_TheNewKeyWorksUntilRevoked()
    {
        var created = await Cli.RunAsync(fixture.Server, null, "keys", "create", "--name", "ci-bot", "--role", "writer", "--json");
        Assert.True(created.ExitCode == 0, created.ToString());
        using var document = JsonDocument.Parse(created.Out);
        var key = document.RootElement.GetProperty("key").GetString()!;
        var id = document.RootElement.GetProperty("id").GetString()!;
        Assert.StartsWith("pv_", key);

        var list = await Cli.RunAsync(fixture.Server, null, "keys", "list");
        Assert.Contains(list.Out.Split('\n'), line => line.Contains(id, StringComparison.Ordinal) && line.Contains("ci-bot", StringComparison.Ordinal) && line.Contains("writer", StringComparison.Ordinal));
        Assert.DoesNotContain(key, list.Out);
        Assert.Equal(0, (await Cli.RunAsync(fixture.Server, key, "list")).ExitCode);

        var revoked = await Cli.RunAsync(fixture.Server, null, "keys", "revoke", id);
        Assert.True(revoked.ExitCode == 0, revoked.ToString());
        var refused = await Cli.RunAsync(fixture.Server, key, "list");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("error (unauthorized):", refused.Error);
    }

    [Fact]
    public async Task Keys_Create_PrintsTheKeyOnceForPeople()
    {
        var result = await Cli.RunAsync(fixture.Server, null, "keys", "create", "--role", "reader");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Created API key 'reader' (reader)", result.Out);
        Assert.Single(result.Out.Split('\n'), line => line.StartsWith("Key (shown once, store it now): pv_", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Keys_CreateWithUnknownRole_ExitsTwo()
    {
        var result = await Cli.RunAsync(fixture.Server, null, "keys", "create", "--name", "x", "--role", "superuser");

        Assert.Equal(2, result.ExitCode);
    }

    [Fact]
    public async Task AnyCommand_NoApiKey_ExitsOneWithAHint()
    {
        var environment = new Dictionary<string, string?> { ["PROMPTVAULT_URL"] = fixture.Server.BaseAddress.ToString() };

        var result = await Cli.RunAsync(environment, "list");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("error (unauthorized):", result.Error);
        Assert.Contains("PROMPTVAULT_API_KEY", result.Error);
    }

    [Fact]
    public async Task AnyCommand_WrongApiKey_HintSaysTheGivenKeyWasRefused_AndWhereItCameFrom()
    {
        var url = fixture.Server.BaseAddress.ToString();

        var fromEnvironment = await Cli.RunAsync(new Dictionary<string, string?> { ["PROMPTVAULT_URL"] = url, ["PROMPTVAULT_API_KEY"] = "pv_wrong" }, "list");
        var fromFlag = await Cli.RunAsync(new Dictionary<string, string?> { ["PROMPTVAULT_URL"] = url }, "list", "--api-key", "pv_wrong");
        var none = await Cli.RunAsync(new Dictionary<string, string?> { ["PROMPTVAULT_URL"] = url }, "list");

        Assert.Equal(1, fromEnvironment.ExitCode);
        Assert.Contains("hint: the key given by PROMPTVAULT_API_KEY was refused", fromEnvironment.Error, StringComparison.Ordinal);
        Assert.Contains("hint: the key given by --api-key was refused", fromFlag.Error, StringComparison.Ordinal);
        // The key 'serve' printed stops working after an import of a full export; the hint says why such a key is refused.
        Assert.Contains("an import of another server's export replaces the keys: then that server's keys work here, and the ones from before do not",
            fromFlag.Error, StringComparison.Ordinal);
        Assert.Contains("hint: pass --api-key KEY or set PROMPTVAULT_API_KEY.", none.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnyCommand_OptionsWinOverEnvironment()
    {
        var environment = new Dictionary<string, string?> { ["PROMPTVAULT_URL"] = "http://127.0.0.1:1", ["PROMPTVAULT_API_KEY"] = "pv_wrong" };

        var result = await Cli.RunAsync(environment, "list", "--server", fixture.Server.BaseAddress.ToString(), "--api-key", fixture.Server.AdminKey);

        Assert.True(result.ExitCode == 0, result.ToString());
    }

    [Fact]
    public async Task AnyCommand_ServerDown_ExitsOneWithCannotReach()
    {
        var environment = new Dictionary<string, string?> { ["PROMPTVAULT_API_KEY"] = "pv_x" };

        var result = await Cli.RunAsync(environment, "list", "--server", "http://127.0.0.1:1");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("cannot reach the server at http://127.0.0.1:1/", result.Error);
    }

    /// <summary>The template problem was hidden behind "cannot reach the server", as push asks the server whether the file is unchanged.</summary>
    [Fact]
    public async Task Push_TemplateErrorWhileServerDown_ReportsTheConnectionAndTheTemplate()
    {
        using var folder = new TempFolder();
        var good = folder.Write("good.md", PromptFile(ApiCalls.UniqueName("cli-down")));
        var bad = folder.Write("bad.md", PromptFile(ApiCalls.UniqueName("cli-down"), body: "Hello {{whoo}}."));
        var environment = new Dictionary<string, string?> { ["PROMPTVAULT_API_KEY"] = "pv_x" };

        var result = await Cli.RunAsync(environment, "push", good, bad, "--server", "http://127.0.0.1:1");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("cannot reach the server at http://127.0.0.1:1/", result.Error);
        Assert.Contains($"error: {bad}: line 10, column 7:", result.Error);
        Assert.Contains("whoo", result.Error);
        Assert.Contains("hint: the server refuses this template unless the file says what the prompt's latest version says, which could not be checked.", result.Error);
        Assert.DoesNotContain(good + ":", result.Error);
    }

    [Fact]
    public async Task Push_ServerStopsAnsweringMidPush_PrintsWhatWasStoredAndNamesWhatWasNot()
    {
        var ct = TestContext.Current.CancellationToken;
        var creates = 0;
        // After the first create, the server drops every create's connection, as one that stopped mid-push.
        await using var server = await RunningServer.StartAsync(new ServerSetup([], builder => builder.Services.AddSingleton<IStartupFilter>(
            new DropConnections(request => request.Method == "POST" && request.Path == "/api/prompts" && Interlocked.Increment(ref creates) > 1))), ct);
        using var folder = new TempFolder();
        var names = Enumerable.Range(0, 3).Select(_ => ApiCalls.UniqueName("cli-stop")).ToList();
        var files = names.Select((name, i) => folder.Write($"p{i}.md", PromptFile(name))).ToArray();

        var result = await Cli.RunAsync(server, null, ["push", .. files]);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Equal($"{names[0]} 1.0.0 created", result.Out.Trim());
        Assert.Contains($"warning: push stopped at {files[1]}, which may or may not have been stored; the file after it was not pushed.", result.Error);
        Assert.Contains("cannot reach the server", result.Error);

        // With --json, stderr is one document: the error, with the warning beside it (every create is dropped by now).
        var again = folder.Write("again.md", PromptFile(ApiCalls.UniqueName("cli-stop")));
        var json = await Cli.RunAsync(server, null, "push", again, "--json");
        Assert.True(json.ExitCode == 1 && json.Error.TrimEnd('\n').Split('\n').Length == 1, json.ToString());
        var document = JsonNode.Parse(json.Error)!;
        Assert.StartsWith("cannot reach the server", document["error"]!["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.StartsWith($"push stopped at {again}, which may or may not have been stored", Assert.Single(document["warnings"]!.AsArray())!.GetValue<string>(), StringComparison.Ordinal);
    }

    private sealed class DropConnections(Func<HttpRequest, bool> drop) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(async (context, then) =>
            {
                if (drop(context.Request)) context.Abort();
                else await then(context);
            });
            next(app);
        };
    }

    /// <summary>The first mistakes a newcomer makes get a hint saying what to do, not only what is wrong.</summary>
    [Theory]
    [InlineData("server-path", "hint: --server (or PROMPTVAULT_URL) takes the root URL 'promptvault serve' prints (default http://127.0.0.1:5180), with no path such as /api.")]
    [InlineData("server-down", "hint: is 'promptvault serve' running there? --server (or PROMPTVAULT_URL) takes the root URL")]
    [InlineData("prompt-typo", "hint: 'promptvault list' shows the prompts there are.")]
    [InlineData("missing-variable", "hint: pass --var who=VALUE, or put it in a --vars FILE.json.")]
    public async Task FirstMistakes_PrintAHintSayingWhatToDo(string mistake, string hint)
    {
        var name = $"first-mistakes-{mistake}";
        using var folder = new TempFolder();
        Assert.Equal(0, (await Cli.RunAsync(fixture.Server, null, "push", folder.Write("p.md", PromptFile(name)))).ExitCode);
        var server = fixture.Server.BaseAddress.ToString().TrimEnd('/');
        var args = mistake switch
        {
            "server-path" => new[] { "list", "--server", server + "/api" },
            "server-down" => ["list", "--server", "http://127.0.0.1:1"],
            "prompt-typo" => ["render", name + "x", "--var", "who=Ana"],
            _ => ["render", name, "--version", "1.0.0"],
        };

        var result = await Cli.RunAsync(fixture.Server, null, args);
        var json = await Cli.RunAsync(fixture.Server, null, [.. args, "--json"]);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains(hint, result.Error, StringComparison.Ordinal);
        Assert.StartsWith(hint["hint: ".Length..], JsonDocument.Parse(json.Error).RootElement.GetProperty("error").GetProperty("hint").GetString(), StringComparison.Ordinal);
    }

    /// <summary>A push that found no prompt and then lost the race to create it: the server's detail names its HTTP route, the hint the CLI's way.</summary>
    [Fact]
    public void WriteError_PromptExists_HintsAPush()
    {
        var error = new StringWriter();
        var context = new CliContext(TextWriter.Null, error, _ => null, isTerminal: false, isErrorTerminal: false);
        var exists = ConflictException.PromptExists("greeting");

        context.WriteError(new PromptVaultApiException(HttpStatusCode.Conflict, exists.Code, exists.Message, exists.Field), "p.md");

        Assert.Equal("error (prompt_exists): p.md: prompt 'greeting' already exists; create a new version of it with POST /api/prompts/greeting/versions instead.\n" +
            "hint: 'promptvault push FILE' adds a new version to a prompt that exists.\n", error.ToString());
    }

    [Fact]
    public async Task AnyCommand_ServerNotAUrl_ExitsTwo()
    {
        var result = await Cli.RunAsync(Cli.NoEnvironment, "list", "--server", "localhost:5180");

        Assert.Equal(2, result.ExitCode);
    }

    [Fact]
    public async Task Serve_Postgres_ExitsTwoNotAvailableYet()
    {
        var result = await Cli.RunAsync(Cli.NoEnvironment, "serve", "--postgres", "Host=localhost");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("PostgreSQL", result.Error);
    }
}
