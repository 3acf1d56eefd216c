using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace PromptVault.Client.Tests;

/// <summary>The model provider, the one part outside our boundary: answers through callbacks and keeps what it was sent.</summary>
internal sealed class FakeChatClient : IChatClient
{
    public List<(List<ChatMessage> Messages, ChatOptions? Options)> Calls { get; } = [];

    public Func<ChatResponse> Respond { get; set; } = () => new ChatResponse(new ChatMessage(ChatRole.Assistant, "ok"));

    public Func<IEnumerable<ChatResponseUpdate>> Stream { get; set; } = () => [];

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        Calls.Add((messages.ToList(), options));
        return Task.FromResult(Respond());
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        Calls.Add((messages.ToList(), options));
        foreach (var update in Stream())
        {
            await Task.Delay(5, cancellationToken);
            yield return update;
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => serviceKey is null && serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }
}
