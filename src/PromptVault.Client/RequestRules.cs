using PromptVault.Core.Idempotency;

namespace PromptVault.Client;

/// <summary>Which requests the SDK's resilience handler may send again, and which may run longer than the request timeout.</summary>
internal static class RequestRules
{
    /// <summary>Set on a request that may run for minutes (an evaluation, an import or export): no handler timeout bounds it, the caller's token does.</summary>
    public static readonly HttpRequestOptionsKey<bool> LongRunning = new("PromptVault.LongRunning");

    /// <summary>
    /// A read, or a write carrying an <c>Idempotency-Key</c> (the server answers a repeat with the first answer): sending it
    /// again cannot act twice. Any other write may have been carried out when its answer failed, so it is sent once.
    /// </summary>
    public static bool IsRepeatable(HttpRequestMessage? request) =>
        request is not null && (request.Method == HttpMethod.Get || request.Method == HttpMethod.Head || request.Headers.Contains(IdempotencyKey.HeaderName));

    public static bool IsLongRunning(HttpRequestMessage? request) =>
        request is not null && request.Options.TryGetValue(LongRunning, out var longRunning) && longRunning;
}
