using Microsoft.Net.Http.Headers;
using PromptVault.Core;
using PromptVault.Core.Prompts;

namespace PromptVault.Server.Hosting;

/// <summary>
/// A write's <c>If-Match</c> is checked only by the routes that declare it (<see cref="Api.LabelPrecondition.AcceptsLabelPrecondition"/>:
/// a label's, a rollback's, a status change's). Sent to another write (a <c>PATCH</c> of a prompt, a new version) it was ignored
/// and the write made, so a client meaning "only if nothing changed since I read it" changed what had. It is refused instead,
/// 400 <c>invalid_if_match</c>, as a status change other than a promotion refuses it; <c>*</c> (the target exists) is met.
/// </summary>
internal static class UncheckedIfMatch
{
    /// <summary>The endpoint's metadata saying it checks <c>If-Match</c> itself.</summary>
    public sealed class ChecksIfMatch
    {
        public static ChecksIfMatch Instance { get; } = new();

        private ChecksIfMatch() { }
    }

    public static IApplicationBuilder UseUncheckedIfMatchRefused(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        var request = context.Request;
        if (request.Headers.IfMatch.Count > 0 && !HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method)
            && request.Path.StartsWithSegments("/api") && context.GetEndpoint() is { } endpoint
            && endpoint.Metadata.GetMetadata<ChecksIfMatch>() is null
            && !(EntityTagHeaderValue.TryParseStrictList(request.Headers.IfMatch, out var tags) && tags is [var any] && any.Equals(EntityTagHeaderValue.Any)))
        {
            throw new InvalidInputException("invalid_if_match",
                $"{request.Method} {PromptRules.Shorten(request.Path.Value ?? "")} does not check If-Match, so it cannot make this write conditional: " +
                $"send it without If-Match (or with *), not {PromptRules.Shorten(string.Join(", ", request.Headers.IfMatch.ToArray()))}.", "If-Match");
        }
        return next(context);
    });
}
