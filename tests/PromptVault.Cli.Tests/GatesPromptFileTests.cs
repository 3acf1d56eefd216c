using PromptVault.Server.Tests;

namespace PromptVault.Cli.Tests;

/// <summary>Prompt files carry a prompt's gates (<c>requireApproval</c>, <c>requireTests</c>) through push and pull against a real server.</summary>
public sealed class GatesPromptFileTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private static string File(string name, string gates) => $"""
        ---
        name: {name}
        type: system
        {gates}
        ---
        You answer questions about orders.

        """;

    [Fact]
    public async Task PushPullPush_Gates_RoundTrip_AndADifferentGateIsNamedNotChanged()
    {
        var server = fixture.Server;
        var name = $"gates-{Guid.NewGuid():N}"[..20];
        using var folder = new TempFolder();
        var path = folder.Write("gated.md", File(name, "requireApproval: true\nrequireTests: true"));

        var created = await Cli.RunAsync(server, null, "push", path);
        var pulledPath = folder.File("pulled.md");
        var pulled = await Cli.RunAsync(server, null, "pull", name, "-o", pulledPath);
        var again = await Cli.RunAsync(server, null, "push", pulledPath);
        folder.Write("gated.md", File(name, "requireApproval: false"));
        var differs = await Cli.RunAsync(server, null, "push", path);
        var refused = await Cli.RunAsync(server, null, "promote", name, "1.0.0");

        Assert.True(created.ExitCode == 0, created.ToString());
        Assert.True(pulled.ExitCode == 0, pulled.ToString());
        var pulledText = await System.IO.File.ReadAllTextAsync(pulledPath, TestContext.Current.CancellationToken);
        Assert.Contains("\nrequireApproval: true\nrequireTests: true\n", pulledText, StringComparison.Ordinal);
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Equal($"{name} 1.0.0 unchanged", again.Out.Trim());
        Assert.DoesNotContain("differ", again.Error, StringComparison.Ordinal);
        Assert.True(differs.ExitCode == 0, differs.ToString());
        Assert.Contains($"requireApproval differs from prompt '{name}' on the server and was left unchanged;", differs.Error, StringComparison.Ordinal);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("approv", refused.Error, StringComparison.Ordinal);
    }
}
