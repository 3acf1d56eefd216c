using Microsoft.AspNetCore.Mvc;

namespace PromptVault.Server.Api;

/// <summary>Writes RFC 9457 problem documents with a stable <c>code</c> and, when known, the <c>field</c> at fault.</summary>
internal static class Problems
{
    public static Task WriteAsync(HttpContext context, int status, string code, string detail, string? field = null)
    {
        var problem = new ProblemDetails
        {
            Status = status,
            Title = ReasonPhrase(status),
            Detail = detail,
            Type = $"https://promptvault.dev/errors/{code}",
            Extensions = { ["code"] = code },
        };
        if (field is not null) problem.Extensions["field"] = field;
        context.Response.StatusCode = status;
        // A request that accepts no JSON (an SDK's text/event-stream reconnecting with a revoked key) gets the status alone:
        // WriteAsync would throw, turning the 401 into a 500.
        return context.RequestServices.GetRequiredService<IProblemDetailsService>()
            .TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem }).AsTask();
    }

    /// <summary>
    /// Gives the framework's own problems (404 route, 405, 415) a <c>code</c> too, derived from the status, and a
    /// <c>detail</c> naming what was asked for.
    /// </summary>
    public static void AddStatusCode(ProblemDetailsContext context)
    {
        var status = context.ProblemDetails.Status ?? context.HttpContext.Response.StatusCode;
        context.ProblemDetails.Extensions.TryAdd("code", ReasonPhrase(status).ToLowerInvariant().Replace(' ', '_'));
        var request = context.HttpContext.Request;
        context.ProblemDetails.Detail ??= status switch
        {
            StatusCodes.Status404NotFound => $"No route matches {Target(request)}; docs/api.md lists the routes.",
            StatusCodes.Status405MethodNotAllowed => $"The method is not allowed on this route: {Target(request)}.",
            StatusCodes.Status415UnsupportedMediaType => NotJson(request),
            _ => $"{ReasonPhrase(status)}: {Target(request)}.",
        };
    }

    /// <summary>The 415 of a body that is not sent as JSON, whether the framework answers it or throws it (no content type at all).</summary>
    public static string NotJson(HttpRequest request) => $"The request body must be sent as application/json: {Target(request)}.";

    private static string Target(HttpRequest request) => $"{request.Method} {Core.Prompts.PromptRules.Shorten(request.Path.Value ?? "")}";

    private static string ReasonPhrase(int status) => Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status);
}
