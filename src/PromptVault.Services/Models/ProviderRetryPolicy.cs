using System.ClientModel.Primitives;

namespace PromptVault.Core.Models;

/// <summary>
/// The OpenAI SDK's retry policy, except that a 429 whose <c>Retry-After</c> asks for a wait longer than the model's
/// <see cref="ModelOptions.Timeout"/> ends the call at once, saying so: the wait could never end in an answer within the timeout
/// (<see cref="ProviderCallGuard"/>), which would otherwise report only that the provider did not answer in time.
/// </summary>
/// <param name="timeoutSetting">The configuration key of <paramref name="timeout"/>, which the failure names.</param>
internal sealed class ProviderRetryPolicy(int maxRetries, TimeSpan timeout, string timeoutSetting) : ClientRetryPolicy(maxRetries)
{
    protected override TimeSpan GetNextDelay(PipelineMessage message, int tryCount)
    {
        var delay = base.GetNextDelay(message, tryCount);
        if (message.Response is { Status: 429 } response && response.Headers.TryGetValue("Retry-After", out _) && delay > timeout)
            throw new TimeoutException(FormattableString.Invariant(
                $"the provider rate-limited the call (HTTP 429) and asked to wait {delay.TotalSeconds:0.###} s, longer than the timeout of {timeout.TotalSeconds:0.###} s ({timeoutSetting})"));
        return delay;
    }
}
