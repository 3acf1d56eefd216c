using System.Text.Json;
using Microsoft.Extensions.AI;

namespace PromptVault.Core.Models;

/// <summary>The provider answered with success, but its body is not a chat completion (a proxy's HTML page, an empty body,
/// JSON of another shape, a finish reason the OpenAI SDK does not know).</summary>
internal sealed class UnreadableAnswerException(Exception inner)
    : Exception("the provider's answer is not a chat completion", inner);

/// <summary>
/// Wraps a configured model's client so that an answer the OpenAI SDK cannot parse surfaces as an
/// <see cref="UnreadableAnswerException"/>: the SDK reports it as a <see cref="JsonException"/>, an
/// <see cref="ArgumentOutOfRangeException"/> or an <see cref="InvalidOperationException"/>, which callers would otherwise take
/// for a bug of their own (a 500, and an evaluation run lost whole).
/// </summary>
internal sealed class UnreadableAnswerGuard(IChatClient inner) : DelegatingChatClient(inner)
{
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        try
        {
            return await base.GetResponseAsync(messages, options, cancellationToken);
        }
        catch (Exception e) when (e is JsonException or ArgumentOutOfRangeException or InvalidOperationException and not ObjectDisposedException)
        {
            throw new UnreadableAnswerException(e);
        }
    }
}
