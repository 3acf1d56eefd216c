using System.Net;
using PromptVault.Core.Auth;
using PromptVault.Server.Hosting;
using static PromptVault.Server.Tests.ApiCalls;

namespace PromptVault.Server.Tests.Api;

/// <summary>Limits per API key (<c>PromptVault:KeyLimits</c>): requests per window (off by default) and open SDK streams.</summary>
public sealed class KeyLimitsTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task SdkStreams_BeyondTheKeysLimit_Get429_WhileAnotherKeyStreams_AndClosingOneFreesAPlace()
    {
        await using var server = await RunningServer.StartAsync(new ServerSetup(["--PromptVault:KeyLimits:SdkStreams=2"]), Cancel);
        using var reader = server.CreateClient(await server.CreateKeyAsync("many-streams", ApiKeyRole.Reader, Cancel));
        using var other = server.CreateClient(await server.CreateKeyAsync("other-streams", ApiKeyRole.Reader, Cancel));

        using var first = await OpenStreamAsync(reader);
        var second = await OpenStreamAsync(reader);
        using var refused = await OpenStreamAsync(reader);
        using var ofAnotherKey = await OpenStreamAsync(other);

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (first.StatusCode, second.StatusCode));
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        var problem = await refused.Content.ReadAsStringAsync(Cancel);
        Assert.Contains("\"code\":\"too_many_streams\"", problem, StringComparison.Ordinal);
        Assert.Contains("PromptVault:KeyLimits:SdkStreams", problem, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, ofAnotherKey.StatusCode);

        second.Dispose(); // the server sees the connection go and ends the stream, which gives its place back
        // Until it has (a hundred tries 50 ms apart ran out first on a loaded machine).
        var again = await Eventually(async () =>
        {
            using var retry = await OpenStreamAsync(reader);
            return retry.StatusCode;
        }, status => status == HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.OK, again);
    }

    [Fact]
    public async Task Requests_BeyondTheKeysLimit_Get429WithRetryAfter_WhileAnotherKeyIsServed()
    {
        await using var server = await RunningServer.StartAsync(new ServerSetup(
            ["--PromptVault:KeyLimits:RequestsPerWindow=3", "--PromptVault:KeyLimits:WindowSeconds=3600"]), Cancel);
        using var limitedKey = server.CreateClient(await server.CreateKeyAsync("busy", ApiKeyRole.Reader, Cancel));
        using var admin = server.CreateClient();

        var served = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++) served.Add((await GetAsync(limitedKey, "/api/prompts")).Status);
        using var limited = await limitedKey.GetAsync("/api/prompts", Cancel);
        var (other, _) = await GetAsync(admin, "/api/prompts");

        Assert.All(served, status => Assert.Equal(HttpStatusCode.OK, status));
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal("application/problem+json", limited.Content.Headers.ContentType?.MediaType);
        Assert.InRange(limited.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 1, 3600);
        Assert.Contains("\"code\":\"too_many_requests\"", await limited.Content.ReadAsStringAsync(Cancel), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, other);
    }

    [Fact]
    public async Task Requests_ByDefault_HaveNoLimitPerKey()
    {
        await using var server = await RunningServer.StartAsync(Cancel);
        using var admin = server.CreateClient();

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 200; i++) statuses.Add((await GetAsync(admin, "/api/prompts")).Status);

        Assert.All(statuses, status => Assert.Equal(HttpStatusCode.OK, status));
    }

    [Theory]
    [InlineData("--PromptVault:KeyLimits:SdkStreams=0", "SdkStreams")]
    [InlineData("--PromptVault:KeyLimits:RequestsPerWindow=-1", "RequestsPerWindow")]
    [InlineData("--PromptVault:KeyLimits:WindowSeconds=0", "WindowSeconds")]
    public void ABadLimit_StopsStartUp_NamingIt(string setting, string name)
    {
        var error = Assert.Throws<InvalidOperationException>(() =>
            PromptVaultServer.Build(new ServerOptions { DatabasePath = Path.Combine(Path.GetTempPath(), "never-created.db"), Urls = "http://127.0.0.1:0" }, [setting]));

        Assert.Contains(name, error.Message, StringComparison.Ordinal);
    }

    private static Task<HttpResponseMessage> OpenStreamAsync(HttpClient client) =>
        client.GetAsync("/api/sdk/stream", HttpCompletionOption.ResponseHeadersRead, Cancel);
}
