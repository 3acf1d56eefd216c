namespace PromptVault.Server.Hosting;

/// <summary>Headers every response carries: no MIME sniffing, no referrer, never framed.</summary>
internal static class SecurityHeaders
{
    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        // OnStarting, because the exception handler clears the headers of a response it rewrites.
        context.Response.OnStarting(() =>
        {
            var headers = context.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";
            headers.XFrameOptions = "DENY";
            headers.ContentSecurityPolicy = "frame-ancestors 'none'";
            return Task.CompletedTask;
        });
        return next(context);
    });

    /// <summary>For responses that may carry a secret (a new API key): no cache may keep them.</summary>
    public static RouteGroupBuilder NeverCached(this RouteGroupBuilder group) => group.AddEndpointFilter((context, next) =>
    {
        context.HttpContext.Response.Headers.CacheControl = "no-store";
        return next(context);
    });
}
