using System.Diagnostics;
using Microsoft.AspNetCore.Diagnostics;

namespace PromptVault.Server.Hosting;

/// <summary>One log line per request: method, route pattern, status, time, and the name (never the secret) of the key used.</summary>
internal static class RequestLogging
{
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
                if (logger.IsEnabled(LogLevel.Information))
                {
                    Log.RequestCompleted(logger, context.Request.Method, Route(context), status,
                        Stopwatch.GetElapsedTime(started).TotalMilliseconds, context.User.Identity?.Name ?? "-");
                }
            }
        });
    }

    /// <summary>The request's route pattern, not its path: it names the route without echoing what the caller typed.</summary>
    internal static string Route(HttpContext context) =>
        RouteGroups.Name(context.GetEndpoint() ?? context.Features.Get<IExceptionHandlerFeature>()?.Endpoint) ?? "(no route)";
}
