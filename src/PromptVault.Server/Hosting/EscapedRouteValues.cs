namespace PromptVault.Server.Hosting;

/// <summary>
/// Every API route value as the caller meant it: Kestrel decodes a path except %2F, which routing leaves escaped so that a
/// prompt name's '/' stays in one segment; it is unescaped here once, for names, versions and ids alike, so a lookup and a
/// not-found message see "a/b", never "a%2Fb".
/// </summary>
internal static class EscapedRouteValues
{
    public static IApplicationBuilder UseUnescapedRouteValues(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        if (context.Request.Path.StartsWithSegments("/api"))
        {
            var values = context.Request.RouteValues;
            foreach (var value in values)
            {
                if (value.Value is string text && text.Contains('%'))
                {
                    Unescape(values);
                    break;
                }
            }
        }
        return next(context);
    });

    private static void Unescape(RouteValueDictionary values)
    {
        foreach (var (key, value) in values.ToArray())
        {
            if (value is string text) values[key] = Unescape(text);
        }
    }

    /// <summary>A route value as the caller meant it (a prompt name's '/' arrives as %2F); the dashboard's pages, which this middleware does not reach, call it too.</summary>
    internal static string Unescape(string value) => Uri.UnescapeDataString(value);
}
