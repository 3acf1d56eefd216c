using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace PromptVault.Server.Api;

/// <summary>Writes RFC 9457 problem documents with a stable <c>code</c> and, when known, the <c>field</c> at fault.</summary>
internal static class Problems
{
    /// <param name="rendered">For a render's refusal, the prompt and version rendered: members <c>promptName</c> and <c>version</c>, as a render's response names them.</param>
    public static Task WriteAsync(HttpContext context, int status, string code, string detail, string? field = null, (string PromptName, string Version)? rendered = null)
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
        if (rendered is var (promptName, version))
        {
            problem.Extensions["promptName"] = promptName;
            problem.Extensions["version"] = version;
        }
        context.Response.StatusCode = status;
        return context.RequestServices.GetRequiredService<IProblemDetailsService>()
            .TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem }).AsTask();
    }

    /// <summary>
    /// The problem for a request whose <c>Accept</c> names no JSON (a browser's <c>text/html</c>, an SDK's <c>text/event-stream</c>):
    /// the framework's writer declines it, which left the status with an empty body. The client still learns what went wrong, in the
    /// one error format the API speaks. Registered after <c>AddProblemDetails</c>, so it writes only what the framework's writer declines.
    /// </summary>
    internal sealed class WriterForAnyAccept(IOptions<ProblemDetailsOptions> options, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json) : IProblemDetailsWriter
    {
        public bool CanWrite(ProblemDetailsContext context) => true;

        public ValueTask WriteAsync(ProblemDetailsContext context)
        {
            var response = context.HttpContext.Response;
            context.ProblemDetails.Status ??= response.StatusCode;
            context.ProblemDetails.Title ??= ReasonPhrase(context.ProblemDetails.Status.Value);
            options.Value.CustomizeProblemDetails?.Invoke(context);
            return new ValueTask(response.WriteAsJsonAsync(context.ProblemDetails, json.Value.SerializerOptions, "application/problem+json"));
        }
    }

    /// <summary>
    /// Gives the framework's own problems (404 route, 405, 413, 415) a <c>code</c> too, derived from the status, and a
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
            StatusCodes.Status413PayloadTooLarge => ProblemExceptionHandler.TooLarge(context.HttpContext),
            _ => $"{ReasonPhrase(status)}: {Target(request)}.",
        };
    }

    /// <summary>The 415 of a body that is not sent as JSON, whether the framework answers it or throws it (no content type at all).</summary>
    public static string NotJson(HttpRequest request) => $"The request body must be sent as application/json: {Target(request)}.";

    private static string Target(HttpRequest request) => $"{request.Method} {Core.Prompts.PromptRules.Shorten(request.Path.Value ?? "")}";

    private static string ReasonPhrase(int status) => Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status);
}
