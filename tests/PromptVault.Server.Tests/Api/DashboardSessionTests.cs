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

    /// <summary>A form the server could not read failed its antiforgery check too, as the token is read from it, and was sent
    /// back as expired: sending it again failed again, for a reason never shown.</summary>
    [Theory]
    [InlineData("NUL", "The form could not be read, so nothing was saved:")]
    [InlineData("fields", "Form value count limit 1024 exceeded.")]
    [InlineData("size", "Form key length limit 2048 or value length limit 4194304 exceeded.")]
    public async Task NewPromptForm_TheServerCannotRead_Is400SayingWhy_NotExpired_StoresNothing(string shape, string says)
    {
        var name = "unreadable-form-" + Guid.NewGuid().ToString("N")[..8];
        var fields = new Dictionary<string, string>
        {
            ["Input.Name"] = name, ["Input.Type"] = "Template",
            ["Input.Template"] = shape switch { "NUL" => "Hi\0", "size" => new string('x', 5 * 1024 * 1024), _ => "Hi" },
        };
        if (shape == "fields")
            foreach (var i in Enumerable.Range(0, 1_100)) fields[$"extra{i}"] = "x";

        var (status, page, stored) = await PostNewPromptFormAsync(name, fields);

        Assert.True(status == HttpStatusCode.BadRequest, $"{status} {page}");
        Assert.True(page.Contains(says, StringComparison.Ordinal), page);
        Assert.Equal(HttpStatusCode.NotFound, stored);
    }

    /// <summary>
    /// A form value holding a byte that is not UTF-8 (a raw <c>%FF</c>) was read as U+FFFD and stored so; the API refuses such
    /// bodies. The form is now refused with 400 naming the field, and nothing is stored.
    /// </summary>
    [Theory]
    [InlineData("Input.Template", "Hi%FF")]
    [InlineData("Input.Template", "%C3")] // a sequence cut short
    [InlineData("Input.Name", "%ED%A0%80")] // a lone surrogate's encoding
    public async Task NewPromptForm_AValueThatIsNotUtf8_Is400NamingTheField_StoresNothing(string field, string raw)
    {
        var name = "not-utf8-form-" + Guid.NewGuid().ToString("N")[..8];
        var fields = new Dictionary<string, string> { ["Input.Name"] = name, ["Input.Type"] = "Template", ["Input.Template"] = "Hi", [field] = RawMarker };

        var (status, page, stored) = await PostNewPromptFormAsync(name, fields, raw);

        Assert.True(status == HttpStatusCode.BadRequest, $"{status} {page}");
        Assert.Equal($"The form could not be read, so nothing was saved: the field '{field}' is not UTF-8 text.", page);
        Assert.Equal(HttpStatusCode.NotFound, stored);
    }

    private const string RawMarker = "RAW-BYTES-HERE";

    /// <summary>A type the form's binding could not read was left at the enum's first value: a system prompt nobody asked for.</summary>
    [Fact]
    public async Task NewPromptForm_TypeThatIsNotOne_SaysSo_StoresNothing()
    {
        var name = "unknown-type-" + Guid.NewGuid().ToString("N")[..8];

        var (status, page, stored) = await PostNewPromptFormAsync(name, new() { ["Input.Name"] = name, ["Input.Type"] = "Bogus", ["Input.Template"] = "Hi" });

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("'Bogus'", WebUtility.HtmlDecode(page), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, stored);
    }

    /// <summary>Posts the new-prompt form, signed in as a new writer with the page's own token: the answer, and how
    /// <c>GET /api/prompts/{name}</c> answers after it.</summary>
    /// <param name="raw">Escaped bytes sent as they are in place of the value <see cref="RawMarker"/>.</param>
    private async Task<(HttpStatusCode Status, string Page, HttpStatusCode Stored)> PostNewPromptFormAsync(string name, Dictionary<string, string> fields, string? raw = null)
    {
        using var admin = fixture.Server.CreateClient();
        var (_, key) = await PostAsync(admin, "/api/keys", new { name = "form-writer", role = "writer" });
        var session = await DashboardSignIn.SignInAsync(fixture.Server.BaseAddress, key.Str("key"), Cancel);
        var (token, cookies) = await DashboardSignIn.OpenFormAsync(fixture.Server.BaseAddress, "/new", session, Cancel);
        fields["_handler"] = "new-prompt";
        fields["__RequestVerificationToken"] = token;
        using var http = new HttpClient(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = fixture.Server.BaseAddress };
        HttpContent content = new FormUrlEncodedContent(fields);
        if (raw is not null)
        {
            content = new ByteArrayContent(Encoding.ASCII.GetBytes((await content.ReadAsStringAsync(Cancel)).Replace(RawMarker, raw, StringComparison.Ordinal)));
            content.Headers.ContentType = new("application/x-www-form-urlencoded"); // no charset, as a browser sends it
        }
        using var request = new HttpRequestMessage(HttpMethod.Post, "/new") { Content = content };
        request.Headers.Add("Cookie", cookies);
        using var posted = await http.SendAsync(request, Cancel);
        return (posted.StatusCode, await posted.Content.ReadAsStringAsync(Cancel), (await GetAsync(admin, $"/api/prompts/{name}")).Status);
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
