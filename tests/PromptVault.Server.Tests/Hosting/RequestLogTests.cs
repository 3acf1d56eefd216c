using System.Net;
using Microsoft.Extensions.Logging;
using PromptVault.Core.Auth;
using static PromptVault.Server.Tests.ApiCalls;

namespace PromptVault.Server.Tests.Hosting;

/// <summary>One Information line per request (method, route, status, time, key name) and the server's own decisions; never a secret or prompt text.</summary>
public sealed class RequestLogTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task EachRequest_LogsOneLine_WithRouteStatusAndKeyName_NeverTheKeyOrContent()
    {
        var capture = new LogCapture();
        await using var server = await RunningServer.StartAsync(capture.Setup(), Cancel);
        var key = await server.CreateKeyAsync("log-writer", ApiKeyRole.Writer, Cancel);
        using var writer = server.CreateClient(key);
        using var wrong = server.CreateClient("pv_wrong-secret-value");
        var name = await CreateSupportPromptAsync(writer);
        await PostAsync(writer, $"/api/prompts/{name}/render", new { version = "1.0.0", variables = new { company_name = "SecretCorp-42" } });
        await GetAsync(wrong, "/api/prompts");
        await GetAsync(writer, "/api/prompts/does-not-exist");

        var requests = capture.Lines.Where(l => l.Category == "PromptVault.Requests").ToList();
        var all = string.Join("\n", capture.Lines.Select(l => l.Message));

        Assert.All(requests, line => Assert.Equal(LogLevel.Information, line.Level));
        Assert.Contains(requests, l => l.Message.StartsWith("POST /api/prompts/{name}/render responded 200 in ", StringComparison.Ordinal)
            && l.Message.EndsWith("ms (key log-writer)", StringComparison.Ordinal));
        Assert.Contains(requests, l => l.Message.StartsWith("GET /api/prompts responded 401 ", StringComparison.Ordinal) && l.Message.EndsWith("(key -)", StringComparison.Ordinal));
        Assert.Contains(requests, l => l.Message.StartsWith("GET /api/prompts/{name} responded 404 ", StringComparison.Ordinal));
        Assert.Equal(5, requests.Count); // one key created, one prompt created, a render, a refused key, a 404
        Assert.DoesNotContain(key, all);
        Assert.DoesNotContain(key[10..], all);
        Assert.DoesNotContain(server.AdminKey[10..], all);
        Assert.DoesNotContain("wrong-secret-value", all);
        Assert.DoesNotContain("SecretCorp-42", all);
        Assert.DoesNotContain("helpful customer support agent", all);
    }

    [Fact]
    public async Task RequestCategoryAtWarning_LogsNoRequestLines_ButStillTheServersDecisions()
    {
        var capture = new LogCapture();
        await using var server = await RunningServer.StartAsync(capture.Setup("--Logging:LogLevel:PromptVault.Requests=Warning"), Cancel);
        using var admin = server.CreateClient();
        var name = await CreateSupportPromptAsync(admin);
        await PostAsync(admin, $"/api/prompts/{name}/render", new { version = "1.0.0", variables = new { company_name = "Acme" } });
        await GetAsync(admin, "/api/prompts/does-not-exist");

        Assert.DoesNotContain(capture.Lines, l => l.Category == "PromptVault.Requests");
        Assert.Contains(capture.Lines, l => l.EventId == 1101); // the first admin key, logged at Information in its own category
    }

    [Fact]
    public async Task KeyDecisions_AreLogged_WithoutTheSecret()
    {
        var capture = new LogCapture();
        await using var server = await RunningServer.StartAsync(capture.Setup(), Cancel);
        using var admin = server.CreateClient();
        var (_, created) = await PostAsync(admin, "/api/keys", new { name = "short-lived", role = "reader" });

        await SendAsync(admin, HttpMethod.Delete, $"/api/keys/{created.Str("id")}");

        var all = string.Join("\n", capture.Lines.Select(l => l.Message));
        Assert.Contains(capture.Lines, l => l.EventId == 1101 && l.Message.Contains("first admin API key", StringComparison.Ordinal));
        Assert.Contains(capture.Lines, l => l.EventId == 1103 && l.Message.Contains(created.Str("id"), StringComparison.Ordinal));
        Assert.DoesNotContain(server.AdminKey[10..], all);
        Assert.DoesNotContain(created.Str("key")[10..], all);
    }
}
