using PromptVault.Server.Tests;

namespace PromptVault.Cli.Tests;

/// <summary>Prompt files carry a version's tools and response format through push and pull against a real server.</summary>
public sealed class ToolsPromptFileTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private static string File(string name, string idType) => $"""
        ---
        name: {name}
        type: system
        metadata:
          model: gpt-4o
          tools:
            - name: lookup_order
              description: Finds an order by its id
              parameters:
                type: object
                properties:
                  orderId: {"{"} type: {idType} {"}"}
                required: [orderId]
          responseFormat:
            title: answer
            type: object
            properties:
              reply: {"{"} type: string {"}"}
        ---
        You answer questions about orders.

        """;

    [Fact]
    public async Task PushPullPush_ToolsAndResponseFormat_RoundTripUnchanged_SchemaChangeIsANewVersion()
    {
        var server = fixture.Server;
        var name = $"tools-{Guid.NewGuid():N}"[..20];
        using var folder = new TempFolder();
        var path = folder.Write("tools.md", File(name, "string"));

        var created = await Cli.RunAsync(server, null, "push", path);
        var pulledPath = folder.File("pulled.md");
        var pulled = await Cli.RunAsync(server, null, "pull", name, "-o", pulledPath);
        var again = await Cli.RunAsync(server, null, "push", pulledPath);
        folder.Write("tools.md", File(name, "integer"));
        var changed = await Cli.RunAsync(server, null, "push", path, "-m", "Order ids are numbers");
        var bad = folder.Write("bad.md", File(name, "integr"));
        var refused = await Cli.RunAsync(server, null, "push", bad, "-m", "Typo");

        Assert.True(created.ExitCode == 0, created.ToString());
        Assert.True(pulled.ExitCode == 0, pulled.ToString());
        var pulledText = await System.IO.File.ReadAllTextAsync(pulledPath, TestContext.Current.CancellationToken);
        Assert.Contains("    - name: lookup_order\n", pulledText, StringComparison.Ordinal);
        Assert.Contains("responseFormat: {", pulledText, StringComparison.Ordinal);
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Equal($"{name} 1.0.0 unchanged", again.Out.Trim());
        Assert.True(changed.ExitCode == 0, changed.ToString());
        Assert.Equal($"{name} 1.0.1 new version (was 1.0.0)", changed.Out.Trim());
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("metadata.tools[0].parameters", refused.Error, StringComparison.Ordinal);
        Assert.Contains("tool 'lookup_order'", refused.Error, StringComparison.Ordinal);
    }
}
