using System.ClientModel.Primitives;
using System.Diagnostics;

namespace PromptVault.Core.Models;

/// <summary>
/// The OpenAI SDK's retry policy, except that a 429 whose <c>Retry-After</c> asks for a wait longer than what is left of the
/// model's <see cref="ModelOptions.Timeout"/> (earlier attempts and waits of the call spent the rest) ends the call at once, saying
/// so: the wait could never end in an answer within the timeout (<see cref="ProviderCallGuard"/>), which would otherwise report only
/// that the provider did not answer in time.
/// </summary>
/// <param name="timeoutSetting">The configuration key of <paramref name="timeout"/>, which the failure names.</param>
internal sealed class ProviderRetryPolicy(int maxRetries, TimeSpan timeout, string timeoutSetting) : ClientRetryPolicy(maxRetries)
{
    /// <summary>The key of the call's start (a <see cref="Stopwatch"/> timestamp) among its message's properties: one message goes through every attempt.</summary>
    private static readonly Type CallStarted = typeof(ProviderRetryPolicy);

    protected override void OnSendingRequest(PipelineMessage message)
    {
        if (!message.TryGetProperty(CallStarted, out _)) message.SetProperty(CallStarted, Stopwatch.GetTimestamp());
        base.OnSendingRequest(message);
    }

    protected override ValueTask OnSendingRequestAsync(PipelineMessage message)
    {
        if (!message.TryGetProperty(CallStarted, out _)) message.SetProperty(CallStarted, Stopwatch.GetTimestamp());
        return base.OnSendingRequestAsync(message);
    }

    /// <summary>After the first attempt the refusal names the timeout itself; after later ones, what earlier attempts left of it.</summary>
    protected override TimeSpan GetNextDelay(PipelineMessage message, int tryCount)
    {
        var delay = base.GetNextDelay(message, tryCount);
        var left = message.TryGetProperty(CallStarted, out var started) && started is long start ? timeout - Stopwatch.GetElapsedTime(start) : timeout;
        if (message.Response is { Status: 429 } response && response.Headers.TryGetValue("Retry-After", out _) && delay > left)
            throw new TimeoutException(tryCount <= 1
                ? FormattableString.Invariant($"the provider rate-limited the call (HTTP 429) and asked to wait {delay.TotalSeconds:0.###} s, longer than the timeout of {timeout.TotalSeconds:0.###} s ({timeoutSetting})")
                : FormattableString.Invariant($"the provider rate-limited the call (HTTP 429) and asked to wait {delay.TotalSeconds:0.###} s, longer than the {Math.Max(left.TotalSeconds, 0):0.###} s left of the timeout of {timeout.TotalSeconds:0.###} s ({timeoutSetting})"));
        return delay;
    }
}
