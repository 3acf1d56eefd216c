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
        return context.RequestServices.GetRequiredService<IProblemDetailsService>()
            .WriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem }).AsTask();
    }

    /// <summary>Gives the framework's own problems (404 route, 405, 415) a <c>code</c> too, derived from the status.</summary>
    public static void AddStatusCode(ProblemDetailsContext context)
    {
        var status = context.ProblemDetails.Status ?? context.HttpContext.Response.StatusCode;
        context.ProblemDetails.Extensions.TryAdd("code", ReasonPhrase(status).ToLowerInvariant().Replace(' ', '_'));
    }

    private static string ReasonPhrase(int status) => Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status);
}
