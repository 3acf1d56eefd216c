namespace PromptVault.Cli.Tests;

/// <summary>stdout and stderr are terminals or not each by their own redirection (<c>promptvault … &gt; out.json</c> leaves stderr one).</summary>
public sealed class TerminalTests
{
    [Fact]
    public void IsTerminal_EachStreamByItsOwnRedirection()
    {
        var stream = new StringWriter();

        Assert.True(CliApp.IsTerminal(stream, stream, redirected: false));
        Assert.False(CliApp.IsTerminal(stream, stream, redirected: true));
        Assert.False(CliApp.IsTerminal(stream, new StringWriter(), redirected: false));
    }

    [Fact]
    public void ErrorConsole_StderrATerminalWhileStdoutIsRedirected_IsFormattedForTheTerminal()
    {
        // The error console followed stdout's flag: redirecting stdout gave stderr the piped layout (240 columns, no colours), and the other way round.
        var redirectedStdout = new CliContext(new StringWriter(), new StringWriter(), _ => null, isTerminal: false, isErrorTerminal: true);
        var redirectedStderr = new CliContext(new StringWriter(), new StringWriter(), _ => null, isTerminal: true, isErrorTerminal: false);

        Assert.Equal(240, redirectedStdout.Console.Profile.Width);
        Assert.NotEqual(240, redirectedStdout.ErrorConsole.Profile.Width);
        Assert.NotEqual(240, redirectedStderr.Console.Profile.Width);
        Assert.Equal(240, redirectedStderr.ErrorConsole.Profile.Width);
        Assert.Equal(Spectre.Console.ColorSystem.NoColors, redirectedStderr.ErrorConsole.Profile.Capabilities.ColorSystem);
    }
}
