using System.IO.Hashing;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using PromptVault.Core;
using PromptVault.Core.Prompts;

namespace PromptVault.Server.Api;

/// <summary>
/// The answer of a read that clients poll (a prompt, a version, a list, an experiment, its results): its JSON with a strong <c>ETag</c> hashed from those bytes, and
/// <c>Cache-Control: no-cache</c>. The tag comes from the answer itself because nothing stored covers the whole of it: a label's
/// <c>If-Match</c> tag covers that one label, and a version's answer also shows its status, its labels and the variables its
/// includes join. The file result answers <c>If-None-Match</c> with 304 (weak comparison, <c>*</c> included, RFC 9110 §13.1.2);
/// an <c>If-Match</c> that does not hold the tag is refused here, as a problem, where the file result would answer 412 with no body.
/// </summary>
internal static class RevalidatedJson
{
    public static FileContentHttpResult Of<T>(T answer, HttpContext http)
    {
        var options = http.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        var json = JsonSerializer.SerializeToUtf8Bytes(answer, options);
        // Revalidate every time: a label move must be seen at once, and answers need an API key, so no shared cache may keep them.
        http.Response.Headers.CacheControl = "no-cache";
        var tag = new EntityTagHeaderValue($"\"{Convert.ToHexStringLower(XxHash128.Hash(json))}\"");
        EnsureIfMatchHolds(http.Request, tag);
        return TypedResults.Bytes(json, "application/json; charset=utf-8", entityTag: tag);
    }

    /// <summary>RFC 9110 §13.1.1: <c>If-Match</c> holds <c>*</c> or the current tag, compared strongly; a field that is not a list of
    /// entity tags is left to the file result, which ignores it.</summary>
    /// <exception cref="PreconditionFailedException">It holds neither (<c>precondition_failed</c>).</exception>
    private static void EnsureIfMatchHolds(HttpRequest request, EntityTagHeaderValue current)
    {
        var ifMatch = request.Headers.IfMatch;
        if (ifMatch.Count == 0 || !EntityTagHeaderValue.TryParseStrictList(ifMatch, out var tags)) return;
        if (tags.Any(t => t.Equals(EntityTagHeaderValue.Any) || t.Compare(current, useStrongComparison: true))) return;
        throw new PreconditionFailedException("precondition_failed",
            $"If-Match {PromptRules.Shorten(string.Join(", ", ifMatch.ToArray()))} does not hold this answer's current entity tag (compared strongly: " +
            "a weak W/ tag never matches): it changed since it was read. Read it again without If-Match; the ETag header of that answer is the current tag.",
            "If-Match");
    }

    /// <summary>Declares the route's JSON answer, its 304 and its 412.</summary>
    public static RouteHandlerBuilder ProducesRevalidated<T>(this RouteHandlerBuilder route) =>
        route.Produces<T>(StatusCodes.Status200OK, "application/json").Produces(StatusCodes.Status304NotModified)
            .ProducesProblem(StatusCodes.Status412PreconditionFailed);
}
