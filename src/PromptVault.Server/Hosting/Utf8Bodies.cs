using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;
using PromptVault.Server.Api;

namespace PromptVault.Server.Hosting;

/// <summary>
/// Request bodies of the API and MCP are UTF-8 JSON (RFC 8259 §8.1), which is how the routes that read a body by hand read it.
/// A <c>charset</c> is therefore either UTF-8, however it is written (<c>utf-8</c>, <c>"UTF-8"</c>), and then taken off the
/// Content-Type so the framework's binding reads the body as those routes do, or another, which is refused with 415 naming it.
/// The framework's binding threw on a charset it did not know (<c>"utf-8"</c> quoted, <c>utf8</c>), a 500, and read one it
/// knew (<c>latin1</c>) differently from the routes that read by hand.
/// A body is read as sent: one with a Content-Encoding (gzip) is refused with 415 naming it and <c>Accept-Encoding: identity</c>
/// (RFC 9110 §15.5.16), where its compressed bytes were read as JSON and refused as "'0x1F' is an invalid start of a value".
/// </summary>
internal static class Utf8Bodies
{
    public static IApplicationBuilder UseUtf8Bodies(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        var request = context.Request;
        if (!(request.Path.StartsWithSegments("/api") || request.Path.StartsWithSegments("/mcp")) || JsonBody.IsAbsent(request))
            return next(context);
        if (ContentCoding(request) is { } coding)
        {
            context.Response.Headers.AcceptEncoding = "identity";
            return Problems.WriteAsync(context, StatusCodes.Status415UnsupportedMediaType, "unsupported_media_type",
                $"The request body must be sent uncompressed; Content-Encoding '{Core.Prompts.PromptRules.Shorten(coding)}' is not supported: send the JSON as it is, with no Content-Encoding.");
        }
        // Most requests name no charset: one search of the header, nothing allocated.
        if (request.ContentType is not { } header || !header.Contains("charset", StringComparison.OrdinalIgnoreCase)
            || !MediaTypeHeaderValue.TryParse(header, out var mediaType))
            return next(context);
        var charset = HeaderUtilities.RemoveQuotes(mediaType.Charset);
        if (!charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase))
        {
            return Problems.WriteAsync(context, StatusCodes.Status415UnsupportedMediaType, "unsupported_media_type",
                $"The request body must be UTF-8 JSON; charset '{Core.Prompts.PromptRules.Shorten(charset.Value ?? "")}' is not supported: send charset=utf-8 or none.");
        }
        mediaType.Charset = StringSegment.Empty;
        request.ContentType = mediaType.ToString();
        return next(context);
    });

    /// <summary>The body's content codings other than <c>identity</c> (which changes nothing), as sent; null when there are none.</summary>
    private static string? ContentCoding(HttpRequest request)
    {
        var codings = request.Headers.ContentEncoding.ToString();
        if (codings.Length == 0) return null;
        return codings.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .All(coding => coding.Equals("identity", StringComparison.OrdinalIgnoreCase)) ? null : codings;
    }
}
