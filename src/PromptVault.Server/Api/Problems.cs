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

    private static string ReasonPhrase(int status) => Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status);
}
