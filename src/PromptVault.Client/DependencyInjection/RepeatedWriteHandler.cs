using System.Net;
using System.Net.Http.Headers;
using Polly;

namespace PromptVault.Client.DependencyInjection;

/// <summary>
/// Sits inside the resilience handler, so it sees each attempt: it remembers, for the whole call, when an attempt of a
/// <c>DELETE</c> or of a write with <see cref="RequestRules.RepeatIfMatch"/> may have been carried out
/// (<see cref="RequestRules.MayHaveActed"/>). A later attempt of such a write adds that tag to its <c>If-Match</c> (one expecting
/// the label unset first tries as it is), so it changes nothing someone else set in between; a later attempt's 404 of a <c>DELETE</c> is the success the earlier attempt was
/// (<see cref="RequestRules.IsGoneAfterOwnAttempt"/>).
/// </summary>
internal sealed class RepeatedWriteHandler : DelegatingHandler
{
    private static readonly ResiliencePropertyKey<bool> EarlierAttemptMayHaveActed = new("PromptVault.EarlierAttemptMayHaveActed");

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var repeatIfMatch = request.Options.TryGetValue(RequestRules.RepeatIfMatch, out var tag) ? tag : null;
        if ((request.Method != HttpMethod.Delete && repeatIfMatch is null) || request.GetResilienceContext() is not { } context)
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var mayHaveActed = context.Properties.TryGetValue(EarlierAttemptMayHaveActed, out var earlier) && earlier;
        if (mayHaveActed && repeatIfMatch is not null)
        {
            // The earlier attempt acted (the label is where this call sets it) or did not (it is where the caller expected it):
            // either is safe. If-Match lists both; "unset or there" has no header, so that repeat is sent as it is first and,
            // refused because the label is set, once more expecting it where this call sets it.
            var repeatTag = new EntityTagHeaderValue(repeatIfMatch);
            if (request.Headers.IfNoneMatch.Count > 0)
            {
                var unset = await SendAttemptAsync(request, context, cancellationToken).ConfigureAwait(false);
                if (unset.StatusCode != HttpStatusCode.PreconditionFailed) return unset;
                unset.Dispose();
                request.Headers.IfNoneMatch.Clear();
                request.Options.Set(RequestRules.RepeatedAfterSetByOthers, true);
            }
            if (!request.Headers.IfMatch.Contains(EntityTagHeaderValue.Any) && !request.Headers.IfMatch.Contains(repeatTag))
                request.Headers.IfMatch.Add(repeatTag);
        }
        var response = await SendAttemptAsync(request, context, cancellationToken).ConfigureAwait(false);
        if (RequestRules.IsGoneAfterOwnAttempt(request, response.StatusCode, mayHaveActed))
        {
            response.Dispose();
            return new HttpResponseMessage(HttpStatusCode.NoContent) { RequestMessage = request };
        }
        return response;
    }

    /// <summary>Sends one attempt, remembering for the call when it may have been carried out.</summary>
    private async Task<HttpResponseMessage> SendAttemptAsync(HttpRequestMessage request, ResilienceContext context, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            context.Properties.Set(EarlierAttemptMayHaveActed, true);
            throw;
        }
        if (RequestRules.MayHaveActed(response.StatusCode) && !response.IsSuccessStatusCode)
            context.Properties.Set(EarlierAttemptMayHaveActed, true);
        return response;
    }
}
