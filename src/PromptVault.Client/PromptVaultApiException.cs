using System.Net;

namespace PromptVault.Client;

/// <summary>
/// A request the server refused: the RFC 9457 problem document of a non-success response, with its stable
/// <see cref="Code"/> (e.g. <c>version_unchanged</c>) and the <see cref="Field"/> at fault.
/// </summary>
public sealed class PromptVaultApiException : Exception
{
    /// <summary>Creates an exception for a refused request.</summary>
    public PromptVaultApiException(HttpStatusCode statusCode, string code, string detail, string? field = null)
        : base(detail)
    {
        StatusCode = statusCode;
        Code = code;
        Detail = detail;
        Field = field;
    }

    /// <summary>The HTTP status of the response.</summary>
    public HttpStatusCode StatusCode { get; }

    /// <summary>The stable snake_case error code; <c>http_&lt;status&gt;</c> when the response carried none.</summary>
    public string Code { get; }

    /// <summary>The server's explanation of the refusal.</summary>
    public string Detail { get; }

    /// <summary>The request field the error is about (a camelCase JSON path), if any.</summary>
    public string? Field { get; }

    /// <summary>For a render's refusal (a required variable missing, a value of the wrong type), the prompt rendered; null for any other refusal.</summary>
    public string? PromptName { get; init; }

    /// <summary>For a render's refusal, the version rendered (in an experiment, the unit's variant's); null for any other refusal.</summary>
    public string? Version { get; init; }

    /// <summary>How long the server asked the caller to wait before trying again (its <c>Retry-After</c>, as on a 429 or 503), if it said.</summary>
    public TimeSpan? RetryAfter { get; init; }
}
