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
/// </summary>
internal static class Utf8Bodies
{
    public static IApplicationBuilder UseUtf8Bodies(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        var request = context.Request;
        // Most requests name no charset: one search of the header, nothing allocated.
        if (request.ContentType is not { } header || !header.Contains("charset", StringComparison.OrdinalIgnoreCase)
            || !(request.Path.StartsWithSegments("/api") || request.Path.StartsWithSegments("/mcp")) || JsonBody.IsAbsent(request)
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
}
