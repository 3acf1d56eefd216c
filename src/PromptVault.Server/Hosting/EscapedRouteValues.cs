using RouteData = Microsoft.AspNetCore.Components.RouteData;
using Microsoft.AspNetCore.Http.Features;

namespace PromptVault.Server.Hosting;

/// <summary>
/// Every route value as the caller meant it, the API's and the dashboard pages' alike: Kestrel decodes a path except %2F,
/// which routing leaves escaped so that a prompt name's '/' stays in one segment, and a decoded %25 makes its path
/// ambiguous ("a%2F" is either). A route value holding '%' is therefore taken again from the request's raw target and
/// unescaped once, for names, versions and ids alike, so a lookup and a not-found message see "a/b" for a%2Fb and "a%41"
/// for a%2541, never "aA", and "a%2Fb" for a%252Fb, never "a/b".
/// </summary>
/// <remarks>The dashboard's router takes a page's parameters from these route values but turns every "%2F" in them into '/'
/// again, so "a%2Fb" meant by a%252Fb opened prompt 'a/b': <see cref="AsRequested"/> hands the pages these values instead.</remarks>
internal static class EscapedRouteValues
{
    public static IApplicationBuilder UseUnescapedRouteValues(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        foreach (var value in context.Request.RouteValues)
        {
            if (value.Value is string text && text.Contains('%'))
            {
                FromRawTarget(context);
                break;
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
    /// <paramref name="routeData"/> with the request's route values as this middleware left them: Blazor's router replaces
    /// "%2F" with '/' in a page's string parameters (its RouteTable.ProcessParameters), which unescapes a '/' the caller
    /// escaped twice. Only while the router runs on a request (<paramref name="context"/>); an interactive page keeps the
    /// parameters it was first rendered with.
    /// </summary>
    internal static RouteData AsRequested(RouteData routeData, HttpContext? context)
    {
        if (context is null) return routeData;
        var values = routeData.RouteValues.ToDictionary(
            value => value.Key,
            value => value.Value is string && context.Request.RouteValues.TryGetValue(value.Key, out var requested) && requested is string ? requested : value.Value);
        return new RouteData(routeData.PageType, values) { Template = routeData.Template };
    }
}
