using System.IO.Hashing;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace PromptVault.Server.Api;

/// <summary>
/// The answer of a read that clients poll (a prompt, a version): its JSON with a strong <c>ETag</c> hashed from those bytes, and
/// <c>Cache-Control: no-cache</c>. The tag comes from the answer itself because nothing stored covers the whole of it: a label's
/// <c>If-Match</c> tag covers that one label, and a version's answer also shows its status, its labels and the variables its
/// includes join. The file result answers <c>If-None-Match</c> with 304 (weak comparison, <c>*</c> included, RFC 9110 §13.1.2).
/// </summary>
internal static class RevalidatedJson
{
    public static FileContentHttpResult Of<T>(T answer, HttpContext http)
    {
        var options = http.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        var json = JsonSerializer.SerializeToUtf8Bytes(answer, options);
        // Revalidate every time: a label move must be seen at once, and answers need an API key, so no shared cache may keep them.
        http.Response.Headers.CacheControl = "no-cache";
        return TypedResults.Bytes(json, "application/json; charset=utf-8", entityTag: new EntityTagHeaderValue($"\"{Convert.ToHexStringLower(XxHash128.Hash(json))}\""));
    }

    /// <summary>Declares the route's JSON answer and its 304.</summary>
    public static RouteHandlerBuilder ProducesRevalidated<T>(this RouteHandlerBuilder route) =>
        route.Produces<T>(StatusCodes.Status200OK, "application/json").Produces(StatusCodes.Status304NotModified);
}
