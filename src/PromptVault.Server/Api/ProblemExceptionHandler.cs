using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using PromptVault.Core;
using PromptVault.Server.Hosting;

namespace PromptVault.Server.Api;

/// <summary>The one map from expected exceptions to HTTP problems; anything else stays a 500.</summary>
internal sealed class ProblemExceptionHandler : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        var (status, code, detail, field) = exception switch
        {
            InvalidInputException e => (StatusCodes.Status400BadRequest, e.Code, e.Message, e.Field),
            NotFoundException e => (StatusCodes.Status404NotFound, e.Code, e.Message, e.Field),
            ConflictException e => (StatusCodes.Status409Conflict, e.Code, e.Message, e.Field),
            UnprocessableException e => (StatusCodes.Status422UnprocessableEntity, e.Code, e.Message, e.Field),
            ForbiddenException e => (StatusCodes.Status403Forbidden, e.Code, e.Message, e.Field),
            BadHttpRequestException { InnerException: JsonException json } =>
                (StatusCodes.Status400BadRequest, "invalid_json", DescribeJsonError(json), JsonField(json)),
            BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } =>
                (StatusCodes.Status413PayloadTooLarge, "payload_too_large", $"The request body is larger than the server accepts ({ServerDefaults.MaxRequestBodyBytes / (1024 * 1024)} MB).", null),
            BadHttpRequestException e when e.Message.Contains("body", StringComparison.OrdinalIgnoreCase) =>
                (StatusCodes.Status400BadRequest, "missing_body", "The request body is missing: send a JSON object.", null),
            BadHttpRequestException e => (e.StatusCode, "bad_request", e.Message, null),
            // The store's "still locked after the busy timeout": transient, so say so and invite a retry.
            TimeoutException => (StatusCodes.Status503ServiceUnavailable, "store_busy", "The database is busy; retry the request.", null),
            _ => (0, "", "", null),
        };
        if (status == 0) return false;
        if (status == StatusCodes.Status503ServiceUnavailable) context.Response.Headers.RetryAfter = "1";
        await Problems.WriteAsync(context, status, code, detail, field);
        return true;
    }

    private static string DescribeJsonError(JsonException json) =>
        // System.Text.Json's own conversion message names .NET types, which mean nothing to a caller.
        IsConversionError(json)
            ? (json.Path is null or "$" ? "The request body must be a JSON object." : $"'{JsonField(json)}' has a value of the wrong JSON type.")
            : json.Path is null or "$" ? $"The request body is not valid JSON: {json.Message}"
            : $"'{JsonField(json)}' is invalid: {json.Message}";

    private static bool IsConversionError(JsonException json) =>
        json.Message.StartsWith("The JSON value could not be converted", StringComparison.Ordinal);

    /// <summary>Turns System.Text.Json's path (<c>$.variables[0].type</c>) into the field name used in messages (<c>variables[0].type</c>).</summary>
    private static string? JsonField(JsonException json) =>
        json.Path is null or "$" ? null : json.Path.StartsWith("$.", StringComparison.Ordinal) ? json.Path[2..] : json.Path.TrimStart('$');
}
