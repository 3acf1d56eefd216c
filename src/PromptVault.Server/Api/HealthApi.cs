using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using PromptVault.Server.Hosting;

namespace PromptVault.Server.Api;

/// <summary>
/// <c>GET /healthz</c>: ASP.NET Core's health checks, the database included, 200 <c>{"status":"ok"}</c> or 503: whether
/// this server can serve (a readiness probe). <c>GET /livez</c> runs none: whether the process answers at all (a liveness
/// probe), so that a database outage takes servers out of rotation without also restarting every one of them.
/// </summary>
internal static class HealthApi
{
    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder routes)
    {
        Map("/healthz", "Health", _ => true);
        Map("/livez", "Liveness", _ => false);
        return routes;

        // MapHealthChecks answers every method; like any other route these are GET (and so HEAD), 405 otherwise.
        void Map(string path, string name, Func<HealthCheckRegistration, bool> runs) =>
            routes.MapHealthChecks(path, new HealthCheckOptions { Predicate = runs, ResponseWriter = WriteAsync }).WithName(name).AllowAnonymous()
                .WithMetadata(new HttpMethodMetadata([HttpMethods.Get])).Polled();
    }

    private static Task WriteAsync(HttpContext context, HealthReport report)
    {
        var response = new HealthResponse(
            report.Status == HealthStatus.Healthy ? "ok" : report.Status.ToString().ToLowerInvariant(),
            report.Entries.ToDictionary(e => e.Key, e => new HealthCheckEntry(e.Value.Status.ToString().ToLowerInvariant(), e.Value.Description)));
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        return JsonSerializer.SerializeAsync(context.Response.Body, response, HealthJsonContext.Default.HealthResponse, context.RequestAborted);
    }
}

internal sealed record HealthResponse(string Status, IReadOnlyDictionary<string, HealthCheckEntry> Checks);

internal sealed record HealthCheckEntry(string Status, string? Description);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(HealthResponse))]
internal sealed partial class HealthJsonContext : JsonSerializerContext;
