using System.Diagnostics.CodeAnalysis;
using Microsoft.AspNetCore.Http.Metadata;

namespace PromptVault.Server.Hosting;

/// <summary>
/// The server's route groups. Routing joins a group's prefix and its routes with a slash, so a group's collection route
/// (<c>MapGet("/")</c> in <c>/api/prompts</c>) has the pattern <c>/api/prompts/</c>, which ASP.NET Core would name it by in its
/// <c>http.route</c> metric tag (Prometheus' <c>http_route</c> label, OTLP's metrics). Each group's routes carry their name
/// as requested instead, <c>/api/prompts</c>: the <see cref="IRouteDiagnosticsMetadata"/> the tag and the request log read.
/// </summary>
internal static class RouteGroups
{
    [SuppressMessage("ApiDesign", "RS0030:Do not use banned APIs", Justification = "The one place groups are made, with their routes' names.")]
    public static RouteGroupBuilder MapRouteGroup(this IEndpointRouteBuilder routes, string prefix)
    {
        var group = routes.MapGroup(prefix);
        ((IEndpointConventionBuilder)group).Add(endpoint =>
        {
            if (endpoint is RouteEndpointBuilder { RoutePattern.RawText: { Length: > 1 } pattern } && pattern.EndsWith('/'))
                endpoint.Metadata.Add(new RouteName(pattern.TrimEnd('/')));
        });
        return group;
    }

    /// <summary>The route a request is named by, in the request log and ASP.NET Core's <c>http.route</c> tag.</summary>
    public static string? Name(Endpoint? endpoint) => endpoint?.Metadata.GetMetadata<IRouteDiagnosticsMetadata>()?.Route;

    private sealed record RouteName(string Route) : IRouteDiagnosticsMetadata;
}
