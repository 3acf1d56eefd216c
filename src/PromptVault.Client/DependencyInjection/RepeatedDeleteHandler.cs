using System.Net;
using Polly;

namespace PromptVault.Client.DependencyInjection;

/// <summary>
/// Sits inside the resilience handler, so it sees each attempt: it remembers, for the whole call, when an attempt of a
/// <c>DELETE</c> may have been carried out (<see cref="RequestRules.MayHaveActed"/>), and answers a later attempt's 404 as
/// the success the earlier attempt was (<see cref="RequestRules.IsGoneAfterOwnAttempt"/>).
/// </summary>
internal sealed class RepeatedDeleteHandler : DelegatingHandler
{
    private static readonly ResiliencePropertyKey<bool> EarlierAttemptMayHaveActed = new("PromptVault.EarlierAttemptMayHaveActed");

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.Method != HttpMethod.Delete || request.GetResilienceContext() is not { } context)
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var mayHaveActed = context.Properties.TryGetValue(EarlierAttemptMayHaveActed, out var earlier) && earlier;
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
        if (RequestRules.IsGoneAfterOwnAttempt(request, response.StatusCode, mayHaveActed))
        {
            response.Dispose();
            return new HttpResponseMessage(HttpStatusCode.NoContent) { RequestMessage = request };
        }
        if (RequestRules.MayHaveActed(response.StatusCode) && !response.IsSuccessStatusCode)
            context.Properties.Set(EarlierAttemptMayHaveActed, true);
        return response;
    }
}
