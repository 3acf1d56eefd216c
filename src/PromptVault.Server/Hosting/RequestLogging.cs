using System.Diagnostics;
using Microsoft.AspNetCore.Diagnostics;

namespace PromptVault.Server.Hosting;

/// <summary>One log line per request: method, route pattern, status, time, and the name (never the secret) of the key used.</summary>
internal static class RequestLogging
{
    /// <summary>
    /// Marks a route that machines call every few seconds (health probes, the metrics scrape): its requests that succeed log
    /// their line at Debug, so that the log is not mostly probes; a failure (a scraper's revoked key, an unhealthy answer)
    /// logs at Information as any request's does.
    /// </summary>
    public static TBuilder Polled<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(PolledRoute.Instance);

    public static IApplicationBuilder UseRequestLogging(this IApplicationBuilder app)
    {
        var logger = app.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger(Log.RequestCategory);
        return app.Use(async (context, next) =>
        {
            var started = Stopwatch.GetTimestamp();
            var status = StatusCodes.Status500InternalServerError;
            try
            {
                await next(context);
                status = context.Response.StatusCode;
            }
            finally
            {
                // Debug is on only where Information is, so with the log off (deployment.md) nothing more is read.
                if (logger.IsEnabled(LogLevel.Information))
                    Write(logger, context, status, started);
            }
        });
    }

    private static void Write(ILogger logger, HttpContext context, int status, long started)
    {
        var level = status < StatusCodes.Status400BadRequest && context.GetEndpoint()?.Metadata.GetMetadata<PolledRoute>() is not null
            ? LogLevel.Debug : LogLevel.Information;
        if (logger.IsEnabled(level))
        {
            Log.RequestCompleted(logger, level, context.Request.Method, Route(context), status,
                Stopwatch.GetElapsedTime(started).TotalMilliseconds, context.User.Identity?.Name ?? "-");
        }
    }

    /// <summary>The request's route pattern, not its path: it names the route without echoing what the caller typed.</summary>
    internal static string Route(HttpContext context) =>
        RouteGroups.Name(context.GetEndpoint() ?? context.Features.Get<IExceptionHandlerFeature>()?.Endpoint) ?? "(no route)";

    private sealed class PolledRoute
    {
        public static readonly PolledRoute Instance = new();
    }
}
