using System.Net;
using System.Security.Claims;
using System.Text;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using PromptVault.Core.Auth;
using PromptVault.Server.Auth;
using PromptVault.Server.Dashboard;
using static PromptVault.Server.Tests.ApiCalls;

namespace PromptVault.Server.Tests.Api;

/// <summary>
/// The dashboard's sign-in cookie, read as whoever holds the Data Protection key ring (the database) would read a captured
/// one: it names the key by id and holds no secret, and each request checks that key again.
/// </summary>
public sealed class DashboardSessionTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    /// <summary>A form left open across a restart with a new key ring carries a token nothing decrypts; another lost it.</summary>
    [Theory]
    [InlineData("CfDJ8NotATokenThisServersKeyRingCanRead")]
    [InlineData(null)]
    public async Task SignIn_ExpiredOrMissingAntiforgeryToken_SendsBackToTheSignInPageSayingTheFormExpired(string? token)
    {
        using var http = new HttpClient(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = fixture.Server.BaseAddress };
        var fields = new Dictionary<string, string> { ["_handler"] = "login", ["Input.ApiKey"] = "pv_any" };
        if (token is not null) fields["__RequestVerificationToken"] = token;

        using var posted = await http.PostAsync("/login?ReturnUrl=%2Fprompts", new FormUrlEncodedContent(fields), Cancel);
        var (status, page, _) = await DashboardSignIn.OpenAsync(fixture.Server.BaseAddress, posted.Headers.Location!.OriginalString, null, Cancel);

        Assert.Equal(HttpStatusCode.SeeOther, posted.StatusCode);
        Assert.Equal("/login?expired=true&ReturnUrl=%2Fprompts", posted.Headers.Location.OriginalString);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains(FormExpired, page, StringComparison.Ordinal);
    }

    private const string FormExpired = "The form expired (the server restarted, or the form was sent without its token). Submit it again.";

    /// <summary>Every dashboard form, not only the sign-in one: sent back to its page (its query kept), which says so, and
    /// nothing is stored. The API, posted the same form, keeps its own answer.</summary>
    [Theory]
    [InlineData("CfDJ8NotATokenThisServersKeyRingCanRead")]
    [InlineData(null)]
    public async Task NewPromptForm_ExpiredOrMissingAntiforgeryToken_SendsBackToItsPageSayingTheFormExpired_StoresNothing(string? token)
    {
        using var admin = fixture.Server.CreateClient();
        var (_, key) = await PostAsync(admin, "/api/keys", new { name = "expired-form-" + (token is null ? "none" : "bad"), role = "writer" });
        var cookies = await DashboardSignIn.SignInAsync(fixture.Server.BaseAddress, key.Str("key"), Cancel);
        var name = "expired-form-" + Guid.NewGuid().ToString("N")[..8];
        var fields = new Dictionary<string, string> { ["_handler"] = "new-prompt", ["Input.Name"] = name, ["Input.Type"] = "Text", ["Input.Template"] = "Hi" };
        if (token is not null) fields["__RequestVerificationToken"] = token;
        using var http = new HttpClient(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = fixture.Server.BaseAddress };

        using var request = new HttpRequestMessage(HttpMethod.Post, "/new?expired=true&from=list") { Content = new FormUrlEncodedContent(fields) };
        request.Headers.Add("Cookie", cookies);
        using var posted = await http.SendAsync(request, Cancel);
        var (status, page, _) = await DashboardSignIn.OpenAsync(fixture.Server.BaseAddress, posted.Headers.Location!.OriginalString, cookies, Cancel);
        using var api = new HttpRequestMessage(HttpMethod.Post, "/api/prompts") { Content = new FormUrlEncodedContent(fields) };
        api.Headers.Add("Cookie", cookies);
        using var apiPosted = await http.SendAsync(api, Cancel);

        Assert.Equal(HttpStatusCode.SeeOther, posted.StatusCode);
        Assert.Equal("/new?expired=true&from=list", posted.Headers.Location.OriginalString);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains(FormExpired, page, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, apiPosted.StatusCode); // its own answer to a form, not sent back
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(admin, $"/api/prompts/{name}")).Status);
    }

    [Fact]
    public async Task SignInCookie_NamesTheKeyById_HoldsNoSecret_AndARevokedKeyIsSignedOutOnTheNextRequest()
    {
        using var admin = fixture.Server.CreateClient();
        var (_, key) = await PostAsync(admin, "/api/keys", new { name = "cookie-reader", role = "writer" });
        var cookies = await DashboardSignIn.SignInAsync(fixture.Server.BaseAddress, key.Str("key"), Cancel);

        var ticket = Unprotect(DashboardSignIn.Session(cookies));

        Assert.Equal(key.Str("id"), ticket.Principal.FindFirstValue(ApiKeyAuthenticationHandler.KeyIdClaim));
        Assert.DoesNotContain(key.Str("key"), Serialized(ticket), StringComparison.Ordinal);
        Assert.DoesNotContain(key.Str("key")["pv_".Length..], Serialized(ticket), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await DashboardSignIn.OpenAsync(fixture.Server.BaseAddress, "/", cookies, Cancel)).Status);

        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(admin, HttpMethod.Delete, $"/api/keys/{key.Str("id")}")).Status);

        var (status, _, setCookies) = await DashboardSignIn.OpenAsync(fixture.Server.BaseAddress, "/", cookies, Cancel);
        Assert.Equal(HttpStatusCode.Redirect, status); // to /login
        Assert.Contains("pv_session=;", setCookies + ";", StringComparison.Ordinal); // signed out
    }

    /// <summary>A cookie issued before the cookie named its key by id carries the secret too: it still signs in, by the key's
    /// id, and is issued again without the secret.</summary>
    [Fact]
    public async Task CookieHoldingTheSecret_FromBeforeTheUpgrade_SignsIn_AndIsReissuedWithoutIt()
    {
        using var admin = fixture.Server.CreateClient();
        var (_, key) = await PostAsync(admin, "/api/keys", new { name = "old-cookie", role = "reader" });
        var keys = fixture.Server.Services.GetRequiredService<ApiKeyService>();
        var principal = ApiKeyAuthenticationHandler.PrincipalOf((await keys.AuthenticateAsync(key.Str("key"), Cancel))!, DashboardSetup.CookieScheme);
        var properties = new AuthenticationProperties { IssuedUtc = DateTimeOffset.UtcNow, ExpiresUtc = DateTimeOffset.UtcNow.AddHours(8) };
        properties.Items["pv:key"] = key.Str("key");
        var old = CookieOptions().TicketDataFormat.Protect(new AuthenticationTicket(principal, properties, DashboardSetup.CookieScheme));

        var (status, _, setCookies) = await DashboardSignIn.OpenAsync(fixture.Server.BaseAddress, "/", "pv_session=" + old, Cancel);

        Assert.Equal(HttpStatusCode.OK, status);
        var reissued = Unprotect(DashboardSignIn.Session(setCookies));
        Assert.Equal(key.Str("id"), reissued.Principal.FindFirstValue(ApiKeyAuthenticationHandler.KeyIdClaim));
        Assert.DoesNotContain(key.Str("key"), Serialized(reissued), StringComparison.Ordinal);
    }

    private CookieAuthenticationOptions CookieOptions() =>
        fixture.Server.Services.GetRequiredService<IOptionsMonitor<CookieAuthenticationOptions>>().Get(DashboardSetup.CookieScheme);

    private AuthenticationTicket Unprotect(string cookie) =>
        CookieOptions().TicketDataFormat.Unprotect(cookie) ?? throw new InvalidOperationException("the cookie could not be read");

    private static string Serialized(AuthenticationTicket ticket) => Encoding.UTF8.GetString(TicketSerializer.Default.Serialize(ticket));
}
