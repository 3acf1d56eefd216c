namespace PromptVault.Server.Hosting;

/// <summary>Headers every response carries: no MIME sniffing, no referrer, never framed.</summary>
internal static class SecurityHeaders
{
    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        // OnStarting, because the exception handler clears the headers of a response it rewrites.
        context.Response.OnStarting(AddHeaders, context.Response);
        return next(context);
    });

    // One policy for every response, the dashboard's pages included: scripts only from this server (Blazor's own script and its
    // WebSocket), no inline script. Inline styles stay allowed: Blazor's reconnection dialog sets them.
    private const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; " +
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

    // Static, with the response as state: no closure allocated per request.
    private static Task AddHeaders(object state)
    {
        var headers = ((HttpResponse)state).Headers;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        headers.XFrameOptions = "DENY";
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        return Task.CompletedTask;
    }

    /// <summary>For responses that may carry a secret (a new API key): no cache may keep them.</summary>
    public static RouteGroupBuilder NeverCached(this RouteGroupBuilder group) => group.AddEndpointFilter((context, next) =>
    {
        context.HttpContext.Response.Headers.CacheControl = "no-store";
        return next(context);
    });
}
