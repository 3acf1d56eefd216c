using System.Net;
using PromptVault.Server.Tests;
using static PromptVault.Server.Tests.ApiCalls;

namespace PromptVault.Cli.Tests;

/// <summary>Prompt files of prompts that include others (SPEC §7), pulled and pushed against a real server.</summary>
public sealed class IncludesPromptFileTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task PullThenPush_KeepsWhatTheVersionDeclared_NotWhatItsIncludesJoined()
    {
        // The includer declares name; policy joins from the guard. The guard then drops policy: a push of the pulled file, edited,
        // must not declare policy again.
        var server = fixture.Server;
        var client = server.CreateClient();
        var guard = UniqueName("guard");
        var includer = UniqueName("includer");
        await PostAsync(client, "/api/prompts", new { name = guard, description = "", type = "system", content = "Follow the policy: {{policy}}.",
            variables = new[] { new { name = "policy", type = "string", required = true } } });
        await PutAsync(client, $"/api/prompts/{guard}/labels/production", new { version = "1.0.0" });
        var (created, _) = await PostAsync(client, "/api/prompts", new { name = includer, description = "", type = "system",
            content = $"Hello {{{{name}}}}.\n{{{{> {guard}}}}}", variables = new[] { new { name = "name", type = "string", required = true } } });
        Assert.Equal(HttpStatusCode.Created, created);
        using var folder = new TempFolder();
        var path = folder.File("includer.md");

        var pulled = await Cli.RunAsync(server, null, "pull", includer, "-o", path);
        await NewVersionAsync(client, guard, new { content = "Be safe.", variables = Array.Empty<object>(), changeDescription = "no policy" });
        await PutAsync(client, $"/api/prompts/{guard}/labels/production", new { version = "2.0.0" });
        var text = await File.ReadAllTextAsync(path, TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(path, text.Replace("Hello", "Hi", StringComparison.Ordinal), TestContext.Current.CancellationToken);
        var pushed = await Cli.RunAsync(server, null, "push", path, "-m", "say hi");
        var (status, rendered) = await PostAsync(client, $"/api/prompts/{includer}/render", new { variables = new { name = "Ada" }, version = "latest" });

        Assert.True(pulled.ExitCode == 0, pulled.ToString());
        Assert.DoesNotContain("policy", text, StringComparison.Ordinal);
        Assert.True(pushed.ExitCode == 0, pushed.ToString());
        Assert.True(status == HttpStatusCode.OK, rendered?.ToJsonString());
        Assert.Equal("Hi Ada.\nBe safe.", rendered.Str("content"));
    }

    [Fact]
    public async Task Push_IncludesAPartialWithNoProductionLabel_HintsToPromoteItFirst()
    {
        var guard = UniqueName("guard");
        var includer = UniqueName("includer");
        using var folder = new TempFolder();
        var guardPath = folder.File("guard.md");
        var includerPath = folder.File("includer.md");
        await File.WriteAllTextAsync(guardPath, $"---\nname: {guard}\n---\nBe safe.\n", TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(includerPath, $"---\nname: {includer}\n---\nHello.\n{{{{> {guard}}}}}\n", TestContext.Current.CancellationToken);

        var pushed = await Cli.RunAsync(fixture.Server, null, "push", guardPath, includerPath);

        Assert.Equal(1, pushed.ExitCode);
        Assert.Contains("reference_not_found", pushed.Error, StringComparison.Ordinal);
        Assert.Contains("'promptvault promote NAME VERSION'", pushed.Error, StringComparison.Ordinal);
    }
}
