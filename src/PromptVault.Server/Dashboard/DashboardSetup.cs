using System.Net;
using System.Security.Claims;
using System.Text;
using System.Text.Unicode;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Endpoints;
using Microsoft.AspNetCore.Components.Server.Circuits;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.Extensions.FileProviders;
using PromptVault.Core;
using PromptVault.Core.Auth;
using PromptVault.Core.Prompts;
using PromptVault.Core.Storage;
using PromptVault.Server.Auth;

namespace PromptVault.Server.Dashboard;

/// <summary>
/// The web dashboard (SPEC §9): Razor components rendered on the server, signed in with an API key whose id (never its
/// secret) is kept in an encrypted, HttpOnly, SameSite=Strict cookie. The cookie scheme is used only by dashboard routes;
/// the API still reads only <c>Authorization: Bearer</c>, so a browser's cookie can never call the API on a user's behalf.
/// </summary>
internal static class DashboardSetup
{
    public const string CookieScheme = "Dashboard";

    // Where cookies issued before the cookie named the key by id held the key's secret: dropped when such a cookie is next read.
    private const string SecretItem = "pv:key";

    public static IServiceCollection AddPromptVaultDashboard(this IServiceCollection services)
    {
        services.AddRazorComponents().AddInteractiveServerComponents();
        services.AddCascadingAuthenticationState();
        services.AddScoped<AuthenticationStateProvider, DashboardAuthenticationState>();
        services.AddScoped<CircuitHandler, SignedOutCircuitHandler>();
        services.AddScoped<MissingPage>();
        services.AddKeyRingInDatabase();
        services.AddAntiforgery(antiforgery =>
        {
            antiforgery.Cookie.SameSite = SameSiteMode.Strict;
            antiforgery.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        });
        services.AddAuthentication().AddCookie(CookieScheme, cookie =>
        {
            cookie.Cookie.Name = "pv_session";
            cookie.Cookie.HttpOnly = true;
            cookie.Cookie.SameSite = SameSiteMode.Strict;
            cookie.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            cookie.LoginPath = "/login";
            cookie.LogoutPath = "/logout";
            cookie.SlidingExpiration = true;
            cookie.ExpireTimeSpan = TimeSpan.FromHours(8);
            cookie.Events.OnValidatePrincipal = ValidateAsync;
            // A signed-in user who lacks the role gets a plain 403, not a redirect.
            cookie.Events.OnRedirectToAccessDenied = context =>
            {
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
                return Task.CompletedTask;
            };
        });
        services.AddAuthorizationBuilder()
            .AddPolicy(DashboardPolicies.Reader, policy => policy.AddAuthenticationSchemes(CookieScheme).RequireAssertion(c => c.User.HasRole(ApiKeyRole.Reader)))
            .AddPolicy(DashboardPolicies.Writer, policy => policy.AddAuthenticationSchemes(CookieScheme).RequireAssertion(c => c.User.HasRole(ApiKeyRole.Writer)))
            .AddPolicy(DashboardPolicies.Admin, policy => policy.AddAuthenticationSchemes(CookieScheme).RequireAssertion(c => c.User.HasRole(ApiKeyRole.Admin)));
        return services;
    }

    /// <summary>
    /// The keys that encrypt the cookie and the antiforgery tokens live in the database (<see cref="StoredKeyRing"/>), so that
    /// every server on it reads what another issued, and a restarted one what it issued before. The application name, not the
    /// content root (the working directory, which differs between machines), sets what they protect for.
    /// </summary>
    internal static IServiceCollection AddKeyRingInDatabase(this IServiceCollection services)
    {
        services.AddDataProtection().SetApplicationName("PromptVault");
        services.AddOptions<KeyManagementOptions>().Configure<IKeyRingStore>((keys, store) => keys.XmlRepository = new StoredKeyRing(store));
        return services;
    }

    /// <summary>
    /// A browser's GET of a dashboard address that has no page (a 404 without a body) gets the dashboard's not-found page,
    /// still with status 404, and of a page its key's role may not open (a 403) that page saying so, still with 403 (it
    /// showed the API's JSON problem). The API's addresses (and MCP, OpenAPI, health, metrics) keep their JSON problems, and
    /// other statuses keep the problem that <c>UseStatusCodePages</c>, which must come before this, writes.
    /// </summary>
    public static WebApplication UseDashboardStatusPages(this WebApplication app)
    {
        app.UseStatusCodePagesWithReExecute(Links.NotFound, createScopeForStatusCodePages: true);
        app.Use(async (context, next) =>
        {
            await next(context);
            if ((context.Response.StatusCode is not (StatusCodes.Status404NotFound or StatusCodes.Status403Forbidden) || !IsDashboardPageRequest(context))
                && context.Features.Get<IStatusCodePagesFeature>() is { } page)
                page.Enabled = false; // left to UseStatusCodePages' problem
        });
        return app;
    }

    private static readonly string[] NotDashboard = ["/api", "/mcp", "/openapi", "/healthz", "/livez", "/metrics", "/_framework", CircuitPath];

    private static bool IsDashboardPageRequest(HttpContext context) =>
        (HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method))
        && !NotDashboard.Any(prefix => context.Request.Path.StartsWithSegments(prefix, StringComparison.OrdinalIgnoreCase));

    public static WebApplication MapDashboard(this WebApplication app)
    {
        app.Use(RefuseFormNotUtf8Async); // before the antiforgery check, the form's first reader
        app.UseAntiforgery();
        app.Use(ExpiredFormAsync);
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = new EmbeddedFileProvider(typeof(DashboardSetup).Assembly, "PromptVault.Server.Assets"),
            OnPrepareResponse = file => file.Context.Response.Headers.CacheControl = "no-cache",
        });
        app.MapRazorComponents<App>()
            .AddInteractiveServerRenderMode()
            .RequireAuthorization(DashboardPolicies.Reader)
            .ExcludeFromDescription();
        app.MapPost("/logout", (Delegate)SignOutAsync).RequireAuthorization(DashboardPolicies.Reader).ExcludeFromDescription();
        return app;
    }

    private const string CircuitPath = "/_blazor";

    /// <summary>
    /// Ends a page's circuit requests once the host is stopping (<see cref="EndCircuitsWhenStoppingAsync"/>). Before
    /// authentication: a request refused for the stop need not have its sign-in cookie read.
    /// </summary>
    public static WebApplication UseCircuitsEndedWhenStopping(this WebApplication app)
    {
        app.UseWhen(context => context.Request.Path.StartsWithSegments(CircuitPath), circuits => circuits.Use(EndCircuitsWhenStoppingAsync));
        return app;
    }

    /// <summary>
    /// Once the host is stopping, a page's circuit requests are ended: new ones get 503 (the page shows its reconnecting
    /// banner and retries until the restarted server answers) and those under way are aborted. SignalR closes the circuits
    /// as the host begins stopping, but a page reconnects at once, and that request was never ended: Kestrel's graceful stop
    /// waited the host's whole shutdown timeout for it (dotnet/aspnetcore#58947). Only aborting ends it: the transport
    /// ignores <see cref="HttpContext.RequestAborted"/>.
    /// </summary>
    private static async Task EndCircuitsWhenStoppingAsync(HttpContext context, RequestDelegate next)
    {
        var stopping = context.RequestServices.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        if (stopping.IsCancellationRequested)
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            context.Response.Headers.RetryAfter = "1";
            context.Response.Headers.Connection = "close";
            return;
        }
        await using var abort = stopping.Register(context.Abort);
        await next(context);
    }

    /// <summary>The query parameter that makes the layout say the form just posted had expired.</summary>
    public const string ExpiredForm = "expired";

    /// <summary>
    /// A dashboard form whose antiforgery token does not validate (left open across a restart with a new key ring, or too
    /// long, or posted without it) is sent back to the page it was on with <c>?expired=true</c>, its query kept, which the
    /// layout shows as "the form expired"; the framework would answer an empty 400. Only the pages' own forms are: the
    /// API, and <c>/logout</c>, keep their answers.
    /// </summary>
    private static Task ExpiredFormAsync(HttpContext context, RequestDelegate next)
    {
        if (!IsPagePost(context)
            || context.Features.Get<IAntiforgeryValidationFeature>() is not { IsValid: false } antiforgery)
            return next(context);
        // The token is looked for in the form, so a form that cannot be read (past the body or form limits, or holding a NUL)
        // fails it too: that form did not expire, and sending it again would fail again.
        if (antiforgery.Error?.InnerException is InvalidDataException or BadHttpRequestException)
            return UnreadableFormAsync(context, antiforgery.Error.InnerException);
        var query = QueryString.Create(ExpiredForm, "true")
            .Add(QueryString.Create(context.Request.Query.Where(p => !p.Key.Equals(ExpiredForm, StringComparison.OrdinalIgnoreCase))));
        // One leading slash: "//host" would send the browser to another site.
        var path = "/" + context.Request.PathBase.Add(context.Request.Path).ToUriComponent().TrimStart('/');
        context.Response.StatusCode = StatusCodes.Status303SeeOther;
        context.Response.Headers.Location = path + query;
        return Task.CompletedTask;
    }

    /// <summary>A form posted to one of the pages (a component's endpoint): not the API's, nor <c>/logout</c>.</summary>
    private static bool IsPagePost(HttpContext context) =>
        HttpMethods.IsPost(context.Request.Method) && context.GetEndpoint()?.Metadata.GetMetadata<ComponentTypeMetadata>() is not null;

    private static Task UnreadableFormAsync(HttpContext context, Exception unreadable) =>
        UnreadableFormAsync(context, unreadable is BadHttpRequestException { StatusCode: var status } ? status : StatusCodes.Status400BadRequest, unreadable.Message);

    private static Task UnreadableFormAsync(HttpContext context, int status, string why)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync($"The form could not be read, so nothing was saved: {why}", context.RequestAborted);
    }

    /// <summary>
    /// A page's urlencoded form holding bytes that are not UTF-8 (a raw <c>%FF</c>) is refused with 400 naming the field: the
    /// framework's form reader put U+FFFD in their place, and the page stored that. The API refuses such bodies; the forms now
    /// do too. The body is read here whole (the form reader would buffer it too) and read again by the form reader.
    /// </summary>
    private static async Task RefuseFormNotUtf8Async(HttpContext context, RequestDelegate next)
    {
        if (!IsPagePost(context)
            || !Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(context.Request.ContentType, out var type)
            || !type.MediaType.Equals("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase))
        {
            await next(context);
            return;
        }
        context.Request.EnableBuffering();
        using var body = new MemoryStream();
        try
        {
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
        }
        catch (BadHttpRequestException tooLarge)
        {
            await UnreadableFormAsync(context, tooLarge);
            return;
        }
        context.Request.Body.Position = 0;
        if (FieldNotUtf8(body.GetBuffer(), (int)body.Length) is { } field)
        {
            await UnreadableFormAsync(context, StatusCodes.Status400BadRequest, $"the field '{PromptRules.Echo(field)}' is not UTF-8 text.");
            return;
        }
        await next(context);
    }

    /// <summary>The name of the first field of a urlencoded <paramref name="body"/> (its first <paramref name="length"/> bytes) whose name or value, unescaped, is not UTF-8.</summary>
    private static string? FieldNotUtf8(byte[] body, int length)
    {
        for (var start = 0; start < length;)
        {
            var end = Array.IndexOf(body, (byte)'&', start, length - start);
            if (end < 0) end = length;
            var equals = Array.IndexOf(body, (byte)'=', start, end - start);
            var nameEnd = equals < 0 ? end : equals;
            var name = WebUtility.UrlDecodeToBytes(body, start, nameEnd - start);
            var value = equals < 0 ? [] : WebUtility.UrlDecodeToBytes(body, equals + 1, end - equals - 1);
            if (!Utf8.IsValid(name) || !Utf8.IsValid(value)) return Encoding.UTF8.GetString(name);
            start = end + 1;
        }
        return null;
    }

    public static async Task<ClaimsPrincipal?> SignInAsync(HttpContext http, ApiKeyService keys, string presented)
    {
        var key = await keys.AuthenticateAsync(presented, http.RequestAborted);
        if (key is null) return null;
        var principal = Principal(key);
        await http.SignInAsync(CookieScheme, principal, new AuthenticationProperties { IsPersistent = false });
        return principal;
    }

    /// <summary>Binding the form is what makes the framework check its antiforgery token: with metadata alone it checked only
    /// a form body, and a POST without one signed out.</summary>
    private static async Task<IResult> SignOutAsync(HttpContext http, IFormCollection form)
    {
        await http.SignOutAsync(CookieScheme);
        return Results.LocalRedirect("/login");
    }

    /// <summary>The cookie names its key by id (whoever can read the database's key ring and captures a cookie learns no
    /// secret); each request reads that key again, so a revoked key signs out at once and the principal has the key's role.</summary>
    private static async Task ValidateAsync(CookieValidatePrincipalContext context)
    {
        var keys = context.HttpContext.RequestServices.GetRequiredService<ApiKeyService>();
        var key = context.Principal?.FindFirstValue(ApiKeyAuthenticationHandler.KeyIdClaim) is { } id
            ? await keys.FindActiveAsync(id, context.HttpContext.RequestAborted)
            : null;
        if (key is null)
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(CookieScheme);
            return;
        }
        context.ReplacePrincipal(Principal(key));
        if (context.Properties.Items.Remove(SecretItem))
            context.ShouldRenew = true;
    }

    private static ClaimsPrincipal Principal(ApiKey key) => ApiKeyAuthenticationHandler.PrincipalOf(key, CookieScheme);
}

/// <summary>The dashboard's role policies: the API's roles, read from the dashboard's cookie.</summary>
internal static class DashboardPolicies
{
    public const string Reader = "dashboard-reader";
    public const string Writer = "dashboard-writer";
    public const string Admin = "dashboard-admin";
}
