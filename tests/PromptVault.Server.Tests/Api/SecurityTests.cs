using System.Net;
using System.Net.Http.Json;
using PromptVault.Core.Auth;
using PromptVault.Server.Hosting;
using static PromptVault.Server.Tests.ApiCalls;

namespace PromptVault.Server.Tests.Api;

/// <summary>Authentication messages, the failed-authentication limit, response headers, reserved names, the last admin key.</summary>
public sealed class SecurityTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task WrongKey_Returns401_SayingInvalidOrRevoked()
    {
        using var wrong = fixture.Server.CreateClient("pv_not-a-real-key");
        using var missing = fixture.Server.CreateClient(apiKey: "");

        var (wrongStatus, wrongProblem) = await GetAsync(wrong, "/api/prompts");
        var (missingStatus, missingProblem) = await GetAsync(missing, "/api/prompts");

        Assert.Equal(HttpStatusCode.Unauthorized, wrongStatus);
        Assert.StartsWith("invalid or revoked API key", wrongProblem.Str("detail"));
        Assert.Equal(HttpStatusCode.Unauthorized, missingStatus);
        Assert.StartsWith("An API key is required", missingProblem.Str("detail"));
    }

    [Theory]
    [InlineData("/healthz", null)]
    [InlineData("/api/prompts", "")]
    [InlineData("/api/prompts", null)]
    [InlineData("/api/prompts/no-such-prompt", null)]
    [InlineData("/no/such/route", null)]
    public async Task EveryResponse_CarriesSecurityHeaders_AndNoServerHeader(string path, string? apiKey)
    {
        using var client = fixture.Server.CreateClient(apiKey);

        using var response = await client.GetAsync(path, Cancel);

        Assert.Equal(["nosniff"], response.Headers.GetValues("X-Content-Type-Options"));
        Assert.Equal(["no-referrer"], response.Headers.GetValues("Referrer-Policy"));
        Assert.Equal(["DENY"], response.Headers.GetValues("X-Frame-Options"));
        Assert.Contains("frame-ancestors 'none'", response.Headers.GetValues("Content-Security-Policy").Single());
        Assert.False(response.Headers.Contains("Server"), "the response names the server software");
    }

    [Fact]
    public async Task CreateKey_TheResponseWithTheSecret_IsNeverStored()
    {
        using var admin = fixture.Server.CreateClient();

        using var created = await admin.PostAsJsonAsync("/api/keys", new { name = "cache-check", role = "reader" }, Cancel);
        using var listed = await admin.GetAsync("/api/keys", Cancel);

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.True(created.Headers.CacheControl?.NoStore, "POST /api/keys must carry Cache-Control: no-store");
        Assert.True(listed.Headers.CacheControl?.NoStore, "GET /api/keys must carry Cache-Control: no-store");
    }

    [Theory]
    [InlineData("promptvault")]
    [InlineData(" PromptVault ")]
    [InlineData("promptvault serve")]
    [InlineData("promptvault admin-key")]
    [InlineData("anonymous")]
    public async Task CreateKey_ReservedActorName_Returns400NamingTheField(string name)
    {
        using var admin = fixture.Server.CreateClient();

        var (status, problem) = await PostAsync(admin, "/api/keys", new { name, role = "writer" });

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("reserved_name", problem.Str("code"));
        Assert.Equal("name", problem.Str("field"));
    }

    [Fact]
    public async Task CreateKey_NameStartingWithPromptVault_IsAllowed()
    {
        using var admin = fixture.Server.CreateClient();

        var (status, body) = await PostAsync(admin, "/api/keys", new { name = "promptvault-ci", role = "reader" });

        Assert.True(status == HttpStatusCode.Created, body?.ToJsonString());
    }

    [Fact]
    public async Task Audit_UnknownPrompt_Returns404()
    {
        using var reader = fixture.Server.CreateClient();

        var (status, problem) = await GetAsync(reader, "/api/audit?prompt=no-such-prompt");

        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("prompt_not_found", problem.Str("code"));
    }

    [Fact]
    public async Task FailedAuthentications_BeyondTheLimit_Get429WithRetryAfter_WhileAValidKeyIsServed()
    {
        await using var server = await RunningServer.StartAsync(new ServerSetup(
            ["--PromptVault:FailedAuthentication:PermitLimit=3", "--PromptVault:FailedAuthentication:WindowSeconds=3600"]), Cancel);
        using var wrong = server.CreateClient("pv_wrong");
        using var admin = server.CreateClient();
        using var anonymous = server.CreateClient(apiKey: "");

        var failures = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++) failures.Add((await GetAsync(wrong, "/api/prompts")).Status);
        using var limited = await wrong.GetAsync("/api/prompts", Cancel);
        var (valid, _) = await GetAsync(admin, "/api/prompts");
        var (none, _) = await GetAsync(anonymous, "/api/prompts");

        Assert.All(failures, status => Assert.Equal(HttpStatusCode.Unauthorized, status));
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal("application/problem+json", limited.Content.Headers.ContentType?.MediaType);
        Assert.InRange(limited.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 1, 3600);
        Assert.Contains("too_many_failed_authentications", await limited.Content.ReadAsStringAsync(Cancel));
        Assert.Equal(HttpStatusCode.OK, valid);
        Assert.Equal(HttpStatusCode.Unauthorized, none);
    }

    [Fact]
    public async Task FailedAuthentications_FromManyAddressesOfOneIPv6Network_ShareOneLimit()
    {
        // Behind a proxy (forwarded headers on), each request's client address is the one the proxy names.
        await using var server = await RunningServer.StartAsync(new ServerSetup(
            ["--FORWARDEDHEADERS_ENABLED=true", "--PromptVault:FailedAuthentication:PermitLimit=3", "--PromptVault:FailedAuthentication:WindowSeconds=3600"]), Cancel);
        using var wrong = server.CreateClient("pv_wrong");

        async Task<HttpStatusCode> FromAsync(string client)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/prompts");
            request.Headers.Add("X-Forwarded-For", client);
            using var response = await wrong.SendAsync(request, Cancel);
            return response.StatusCode;
        }

        var sameNetwork = new List<HttpStatusCode>();
        for (var i = 1; i <= 5; i++) sameNetwork.Add(await FromAsync($"2001:db8:0:1::{i:x}"));
        var otherNetwork = await FromAsync("2001:db8:0:2::1");
        var mappedIPv4 = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++) mappedIPv4.Add(await FromAsync(i % 2 == 0 ? "192.0.2.7" : "::ffff:192.0.2.7"));

        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests,
            HttpStatusCode.TooManyRequests], sameNetwork);
        Assert.Equal(HttpStatusCode.Unauthorized, otherNetwork);
        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests], mappedIPv4);
    }

    [Fact]
    public async Task AStaleKeyOnAnonymousRoutes_IsNotCounted_SoTheHealthProbeKeepsBeingServed()
    {
        await using var server = await RunningServer.StartAsync(new ServerSetup(
            ["--PromptVault:FailedAuthentication:PermitLimit=3", "--PromptVault:FailedAuthentication:WindowSeconds=3600"]), Cancel);
        using var stale = server.CreateClient("pv_bad");

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            statuses.Add((await stale.GetAsync("/healthz", Cancel)).StatusCode);
            statuses.Add((await stale.GetAsync("/openapi/v1.json", Cancel)).StatusCode);
        }
        var (refused, _) = await GetAsync(stale, "/api/prompts");

        Assert.All(statuses, status => Assert.Equal(HttpStatusCode.OK, status));
        Assert.Equal(HttpStatusCode.Unauthorized, refused); // the first refusal that counts
    }

    [Fact]
    public void FailedAuthenticationLimit_BadSetting_StopsStartUpNamingIt()
    {
        var options = new ServerOptions { DatabasePath = Path.Combine(Path.GetTempPath(), "unused.db"), Urls = "http://127.0.0.1:0" };

        var error = Assert.Throws<InvalidOperationException>(() =>
            PromptVaultServer.Build(options, ["--PromptVault:FailedAuthentication:PermitLimit=0"]));

        Assert.Contains("PermitLimit", error.Message);
    }

    [Fact]
    public async Task RevokeKey_LastActiveAdmin_Returns409_AndTheKeyStillWorks()
    {
        await using var server = await RunningServer.StartAsync(Cancel);
        using var admin = server.CreateClient();
        var (_, keys) = await GetAsync(admin, "/api/keys");
        var id = keys!["keys"]!.AsArray().Single().Str("id");

        var (status, problem) = await SendAsync(admin, HttpMethod.Delete, $"/api/keys/{id}");
        var (after, _) = await GetAsync(admin, "/api/keys");

        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal("last_admin_key", problem.Str("code"));
        Assert.Equal(HttpStatusCode.OK, after);
    }

    [Fact]
    public async Task RevokeKey_AdminWhileAnotherAdminIsActive_Succeeds()
    {
        await using var server = await RunningServer.StartAsync(Cancel);
        var second = await server.CreateKeyAsync("second-admin", ApiKeyRole.Admin, Cancel);
        using var admin = server.CreateClient(second);
        var (_, keys) = await GetAsync(admin, "/api/keys");
        var first = keys!["keys"]!.AsArray().Single(k => k.Str("name") == "admin").Str("id");

        var (status, _) = await SendAsync(admin, HttpMethod.Delete, $"/api/keys/{first}");

        Assert.Equal(HttpStatusCode.NoContent, status);
    }
}
