using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using PromptVault.Core.Auth;
using static PromptVault.Server.Tests.ApiCalls;

namespace PromptVault.Server.Tests.Mcp;

/// <summary>What the server logs when an MCP client's <c>prompts/get</c> is refused: one line with the reason, no stack trace.</summary>
public sealed class McpLoggingTests(LoggedServerFixture fixture) : IClassFixture<LoggedServerFixture>
{
    [Fact]
    public async Task PromptsGet_UnknownPromptOrBadArguments_ClientGetsTheError_ServerLogsOneLineWithTheReason()
    {
        var ct = TestContext.Current.CancellationToken;
        using var admin = fixture.Server.CreateClient();
        var served = await CreateSupportPromptAsync(admin);
        await PutAsync(admin, $"/api/prompts/{served}/labels/production", new { version = "1.0.0" });
        var unknown = UniqueName("nobody");
        await using var client = await McpEndpointTests.ConnectAsync(fixture.Server, await fixture.Server.CreateKeyAsync("agent", ApiKeyRole.Reader, ct));

        var missing = await Assert.ThrowsAsync<McpProtocolException>(async () => await client.GetPromptAsync(unknown, cancellationToken: ct));
        var bad = await Assert.ThrowsAsync<McpProtocolException>(async () => await client.GetPromptAsync(served, cancellationToken: ct));

        Assert.Contains($"prompt '{unknown}' does not exist", missing.Message, StringComparison.Ordinal);
        Assert.Contains("company_name", bad.Message, StringComparison.Ordinal);
        var lines = fixture.Logs.Lines;
        foreach (var (prompt, reason) in new[] { (unknown, "does not exist"), (served, "company_name") })
        {
            var refused = Assert.Single(lines, l => l.EventId == 2201 && l.Message.Contains($"'{prompt}'", StringComparison.Ordinal));
            Assert.Equal(LogLevel.Information, refused.Level);
            Assert.Contains(reason, refused.Message, StringComparison.Ordinal);
        }
        Assert.DoesNotContain(lines, l => (l.Message.Contains(unknown, StringComparison.Ordinal) || l.Message.Contains("company_name", StringComparison.Ordinal))
            && l.Message.Contains("   at ", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Level >= LogLevel.Error);
    }
}
