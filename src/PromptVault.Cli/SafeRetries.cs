using Microsoft.Extensions.Http.Resilience;
using Polly;
using PromptVault.Core.Idempotency;

namespace PromptVault.Cli;

/// <summary>
/// The CLI's HTTP pipeline: a request that failed in transit or met a transient server error (5xx, 408, 429) is sent
/// again, up to three times with growing delays, when that cannot write twice: reads, and writes that carry an
/// <c>Idempotency-Key</c>, which the server answers from their first attempt (docs/reliability.md).
/// </summary>
internal static class SafeRetries
{
    private static readonly ResiliencePipeline<HttpResponseMessage> Pipeline = new ResiliencePipelineBuilder<HttpResponseMessage>()
        .AddRetry(new HttpRetryStrategyOptions
        {
            MaxRetryAttempts = 3,
            Delay = TimeSpan.FromMilliseconds(200),
            BackoffType = DelayBackoffType.Exponential,
            ShouldHandle = args => ValueTask.FromResult(
                HttpClientResiliencePredicates.IsTransient(args.Outcome) && args.Context.GetRequestMessage() is { } request && IsSafeToRepeat(request)),
        })
        .Build();

    /// <summary>A handler that retries as above, sending through <paramref name="inner"/>.</summary>
    public static DelegatingHandler CreateHandler(HttpMessageHandler inner) => new ResilienceHandler(Pipeline) { InnerHandler = inner };

    private static bool IsSafeToRepeat(HttpRequestMessage request) =>
        request.Method == HttpMethod.Get || request.Headers.Contains(IdempotencyKey.HeaderName);
}
