using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Net.Http.Headers;

namespace PromptVault.Server.Tests;

/// <summary>The dashboard's sign-in as a browser does it, without a browser: plain HTTP with the cookies passed by hand.</summary>
public static partial class DashboardSignIn
{
    /// <summary>The login form's antiforgery token and cookie, then the form; returns the session's Cookie header.</summary>
    public static async Task<string> SignInAsync(Uri server, string apiKey, CancellationToken cancellationToken) =>
        CookieHeader((await SignInAnswersAsync(server, apiKey, cancellationToken)).SignedIn);

    /// <summary>
    /// Signs in as <see cref="SignInAsync"/> does and returns every cookie both answers set, as set (the login form's antiforgery
    /// cookie, then the session's, with their attributes), for a browser to hold.
    /// </summary>
    public static async Task<IList<SetCookieHeaderValue>> SignInSetCookiesAsync(Uri server, string apiKey, CancellationToken cancellationToken)
    {
        var (form, signedIn) = await SignInAnswersAsync(server, apiKey, cancellationToken);
        return SetCookieHeaderValue.ParseList([.. form, .. signedIn]);
    }

    /// <summary>The Set-Cookie headers of the login form's answer and of the sign-in's.</summary>
    private static async Task<(string[] Form, string[] SignedIn)> SignInAnswersAsync(Uri server, string apiKey, CancellationToken cancellationToken)
    {
        using var http = Client(server);
        using var form = await http.GetAsync("/login", cancellationToken);
        Assert.Equal(HttpStatusCode.OK, form.StatusCode);
        var token = AntiforgeryField().Match(await form.Content.ReadAsStringAsync(cancellationToken));
        Assert.True(token.Success, "the login form has no antiforgery token");
        using var post = new HttpRequestMessage(HttpMethod.Post, "/login")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["_handler"] = "login",
                ["__RequestVerificationToken"] = WebUtility.HtmlDecode(token.Groups[1].Value),
                ["Input.ApiKey"] = apiKey,
            }),
        };
        var formCookies = SetCookiesOf(form);
        post.Headers.Add("Cookie", CookieHeader(formCookies));
        using var signedIn = await http.SendAsync(post, cancellationToken);
        var session = SetCookiesOf(signedIn);
        Assert.True(signedIn.StatusCode == HttpStatusCode.Redirect && CookieHeader(session).Contains("pv_session=", StringComparison.Ordinal),
            $"sign-in answered {signedIn.StatusCode}: {await signedIn.Content.ReadAsStringAsync(cancellationToken)}");
        return (formCookies, session);
    }

    /// <summary>A dashboard page with the Cookie header given (none when null): its status, body and the cookies it set.</summary>
    public static async Task<(HttpStatusCode Status, string Body, string SetCookies)> OpenAsync(Uri server, string path, string? cookie,
        CancellationToken cancellationToken)
    {
        using var http = Client(server);
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (cookie is not null) request.Headers.Add("Cookie", cookie);
        using var response = await http.SendAsync(request, cancellationToken);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken), CookieHeader(SetCookiesOf(response)));
    }

    /// <summary>A dashboard page's form, signed in with <paramref name="session"/>: its antiforgery token, and the Cookie header to post it with.</summary>
    public static async Task<(string Token, string Cookies)> OpenFormAsync(Uri server, string path, string session, CancellationToken cancellationToken)
    {
        var (status, page, setCookies) = await OpenAsync(server, path, session, cancellationToken);
        var token = AntiforgeryField().Match(page);
        Assert.True(status == HttpStatusCode.OK && token.Success, $"{path} answered {status} with no form");
        return (WebUtility.HtmlDecode(token.Groups[1].Value), setCookies.Length == 0 ? session : $"{session}; {setCookies}");
    }

    /// <summary>The value of the <c>pv_session</c> cookie in a Cookie header.</summary>
    public static string Session(string cookies) =>
        cookies.Split("; ").Single(c => c.StartsWith("pv_session=", StringComparison.Ordinal))["pv_session=".Length..];

    private static HttpClient Client(Uri server) =>
        new(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = server };

    private static string[] SetCookiesOf(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Set-Cookie", out var cookies) ? [.. cookies] : [];

    /// <summary>The Cookie header that sends back what <paramref name="setCookies"/> set.</summary>
    private static string CookieHeader(IEnumerable<string> setCookies) => string.Join("; ", setCookies.Select(c => c.Split(';')[0]));

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();
}
