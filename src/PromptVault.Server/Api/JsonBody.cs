using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using PromptVault.Core.Contracts;

namespace PromptVault.Server.Api;

/// <summary>
/// A hot route's JSON body read into a document in pooled buffers, returned when it is disposed, with the refusals a body
/// bound by the framework gets. Bound, the body's values were copied into new arrays on every request: a metric batch of
/// 500 events (about 130 KB), a render's variables (a second document per render; docs/benchmarks.md).
/// </summary>
internal static class JsonBody
{
    /// <returns>The document; null when the body is not JSON, which the route answers with <see cref="UnsupportedMediaType"/>.</returns>
    /// <exception cref="BadHttpRequestException">No body, or one that is not JSON or holds invalid text: the 400 of a bound body.</exception>
    public static async Task<JsonDocument?> ReadAsync(HttpRequest http, CancellationToken cancellationToken)
    {
        // In the framework's order for a bound body: none at all, then not JSON.
        if (http.HttpContext.Features.Get<IHttpRequestBodyDetectionFeature>() is { CanHaveBody: false })
            throw new BadHttpRequestException("The request body is missing.");
        if (!http.HasJsonContentType())
            return null;
        JsonDocument? document = null;
        try
        {
            document = await JsonDocument.ParseAsync(http.Body, cancellationToken: cancellationToken);
            InvalidJsonTextException.ThrowIfIn(document.RootElement); // bound by the framework, the body was checked as it was read
            return document;
        }
        catch (JsonException e)
        {
            document?.Dispose();
            throw Invalid(e);
        }
    }

    /// <summary>A bare 415, as the framework answers a bound body of another media type (Problems words it).</summary>
    public static StatusCodeHttpResult UnsupportedMediaType() => TypedResults.StatusCode(StatusCodes.Status415UnsupportedMediaType);

    /// <summary><paramref name="body"/> bound to <typeparamref name="T"/> with the API's settings; a mismatch is the 400 of a bound body.</summary>
    public static T Read<T>(JsonElement body)
    {
        try
        {
            return body.Deserialize<T>(PromptVaultJson.Options)!;
        }
        catch (JsonException e)
        {
            throw Invalid(e);
        }
    }

    // The same 400 naming the field as a body bound by the framework.
    private static BadHttpRequestException Invalid(JsonException e) => new("The request body is invalid.", StatusCodes.Status400BadRequest, e);
}
