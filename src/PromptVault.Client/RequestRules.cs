using System.Net;
using PromptVault.Core.Idempotency;

namespace PromptVault.Client;

/// <summary>Which requests the SDK's resilience handler may send again, and which may run longer than the request timeout.</summary>
internal static class RequestRules
{
    /// <summary>Set on a request that may run for minutes (an evaluation, an import or export): no handler timeout bounds it, the caller's token does.</summary>
    public static readonly HttpRequestOptionsKey<bool> LongRunning = new("PromptVault.LongRunning");

    /// <summary>
    /// Set on a write that changes nothing when sent again after it was carried out (a <c>PUT</c> the server treats as a no-op,
    /// without an audit entry or webhook, when what it sets is already so: moving a label to where it is, setting a version's
    /// test cases to the ones it has).
    /// </summary>
    public static readonly HttpRequestOptionsKey<bool> Repeatable = new("PromptVault.Repeatable");

    /// <summary>
    /// Set on a <see cref="Repeatable"/> write with the entity tag of what it sets (a label move: <c>"1.0.1"</c>): an attempt
    /// after one that may have been carried out sends it as <c>If-Match</c>, so it finds its own change (a no-op) or is
    /// refused (412) where someone else changed it in between, rather than undoing their change.
    /// </summary>
    public static readonly HttpRequestOptionsKey<string> RepeatIfMatch = new("PromptVault.RepeatIfMatch");

    /// <summary>
    /// Set by the repeat of a write expecting its label unset once that was refused and it is sent expecting the label where it
    /// sets it: a refusal then means someone else set the label in between, which the caller is told in those words, not the
    /// repeat's <c>If-Match</c>, which the caller never sent.
    /// </summary>
    public static readonly HttpRequestOptionsKey<bool> RepeatedAfterSetByOthers = new("PromptVault.RepeatedAfterSetByOthers");

    /// <summary>
    /// A read, a <c>DELETE</c> (a repeat finds nothing to delete: see <see cref="IsGoneAfterOwnAttempt"/>), a write marked
    /// <see cref="Repeatable"/>, or a write carrying an <c>Idempotency-Key</c> (the server answers a repeat with the first
    /// answer): sending it again cannot act twice. Any other write may have been carried out when its answer failed, so it is sent once.
    /// </summary>
    public static bool IsRepeatable(HttpRequestMessage? request) =>
        request is not null && (request.Method == HttpMethod.Get || request.Method == HttpMethod.Head || request.Method == HttpMethod.Delete
            || request.Headers.Contains(IdempotencyKey.HeaderName) || (request.Options.TryGetValue(Repeatable, out var repeatable) && repeatable));

    public static bool IsLongRunning(HttpRequestMessage? request) =>
        request is not null && request.Options.TryGetValue(LongRunning, out var longRunning) && longRunning;

    /// <summary>
    /// Whether an attempt that ended so may have been carried out by the server: no answer came (the connection was lost, the
    /// attempt timed out), or a server error other than 503 (which says the server did not take the request).
    /// </summary>
    public static bool MayHaveActed(HttpStatusCode? answered) =>
        answered is not { } status || ((int)status >= 500 && status != HttpStatusCode.ServiceUnavailable);

    /// <summary>
    /// A <c>DELETE</c> answered 404 after an earlier attempt of the same call may have been carried out: that attempt deleted
    /// it, so the call succeeded. A 404 on a first attempt, or after attempts the server surely refused, stays a 404.
    /// </summary>
    public static bool IsGoneAfterOwnAttempt(HttpRequestMessage request, HttpStatusCode answered, bool earlierAttemptMayHaveActed) =>
        request.Method == HttpMethod.Delete && answered == HttpStatusCode.NotFound && earlierAttemptMayHaveActed;
}
