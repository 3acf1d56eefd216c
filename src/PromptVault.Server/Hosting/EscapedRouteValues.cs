using Microsoft.AspNetCore.Http.Features;

namespace PromptVault.Server.Hosting;

/// <summary>
/// Every API route value as the caller meant it: Kestrel decodes a path except %2F, which routing leaves escaped so that a
/// prompt name's '/' stays in one segment, and a decoded %25 makes its path ambiguous ("a%2F" is either). A route value
/// holding '%' is therefore taken again from the request's raw target and unescaped once, for names, versions and ids
/// alike, so a lookup and a not-found message see "a/b" for a%2Fb and "a%41" for a%2541, never "aA".
/// </summary>
internal static class EscapedRouteValues
{
    public static IApplicationBuilder UseUnescapedRouteValues(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        if (context.Request.Path.StartsWithSegments("/api"))
        {
            foreach (var value in context.Request.RouteValues)
            {
                if (value.Value is string text && text.Contains('%'))
                {
                    FromRawTarget(context);
                    break;
                }
            }
        }
        return next(context);
    });

    private static void FromRawTarget(HttpContext context)
    {
        // Kestrel leaves %2F escaped, so the decoded path has a '/' exactly where the raw one has: their segments pair up,
        // counted from the end (the raw target also holds the path base).
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? "";
        var query = raw.IndexOf('?');
        var rawSegments = (query < 0 ? raw : raw[..query]).Split('/');
        var segments = context.Request.Path.Value!.Split('/');
        if (rawSegments.Length < segments.Length) return;
        var values = context.Request.RouteValues;
        foreach (var (key, value) in values.ToArray())
        {
            if (value is not string text || !text.Contains('%')) continue;
            var at = Array.IndexOf(segments, text);
            values[key] = Uri.UnescapeDataString(at < 0 ? text : rawSegments[rawSegments.Length - segments.Length + at]);
        }
    }

    /// <summary>
    /// A dashboard page's route value as the caller meant it (the pages are not reached by this middleware). The router has
    /// unescaped it once already but for %2F, which it leaves escaped so that a prompt name's '/' stays in one segment: only
    /// that is unescaped here. Unescaping it all again opened prompt 'xa' at a typed /prompts/x%2561; no name holds '%', so
    /// 'x%61' is refused as a name. (A typed %252F still reads as '/': the router's %2F and it are one string by then.)
    /// </summary>
    internal static string FromDashboardRoute(string value) => value.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase);
}
