namespace PromptVault.Server.Hosting;

/// <summary>
/// A HEAD is answered wherever a GET is (RFC 9110 §9.3.2), with the GET route's status and headers and no body: routing
/// matches it as a GET, then the route runs with the request's own method, HEAD, so a file result answers it without its
/// bytes and Kestrel drops whatever else a route writes. Routes are mapped for GET only, so without this every HEAD was 405
/// while the Allow header listed GET.
/// </summary>
internal static class HeadRequests
{
    /// <summary>Marks a HEAD routed as a GET, until routing is done.</summary>
    private sealed class RoutedAsGet
    {
        public static readonly RoutedAsGet Instance = new();
    }

    /// <summary>Must come first: it includes the routing middleware, which must see the HEAD as a GET.</summary>
    public static WebApplication UseRoutingWithHeadAsGet(this WebApplication app)
    {
        app.Use((context, next) =>
        {
            if (HttpMethods.IsHead(context.Request.Method))
            {
                context.Request.Method = HttpMethods.Get;
                context.Features.Set(RoutedAsGet.Instance);
            }
            return next(context);
        });
        app.UseRouting();
        app.Use((context, next) =>
        {
            if (HttpMethods.IsGet(context.Request.Method) && context.Features.Get<RoutedAsGet>() is not null)
            {
                context.Request.Method = HttpMethods.Head;
                context.Features.Set<RoutedAsGet>(null);
            }
            return next(context);
        });
        return app;
    }
}
