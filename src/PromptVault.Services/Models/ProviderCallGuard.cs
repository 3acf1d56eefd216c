using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace PromptVault.Core.Models;

/// <summary>The provider answered with success, but its body is not a chat completion (a proxy's HTML page, an empty body,
/// JSON of another shape, a finish reason the OpenAI SDK does not know).</summary>
internal sealed class UnreadableAnswerException(Exception inner)
    : Exception("the provider's answer is not a chat completion", inner);

/// <summary>
/// Wraps a configured model's client at the provider boundary, for every caller (the playground, a run's answers, the judge):
/// <list type="bullet">
/// <item>one answer, retries and their waits included, takes at most the model's <see cref="ModelOptions.Timeout"/>: the SDK's own
/// timeout is per attempt, and its retry policy waits as a 429's <c>Retry-After</c> says (one past the timeout ends the call at once:
/// <see cref="ProviderRetryPolicy"/>);</item>
/// <item>an answer the OpenAI SDK cannot parse surfaces as an <see cref="UnreadableAnswerException"/>: the SDK reports it as a
/// <see cref="JsonException"/>, an <see cref="ArgumentOutOfRangeException"/> or an <see cref="InvalidOperationException"/>, which
/// callers would otherwise take for a bug of their own (a 500, and an evaluation run lost whole);</item>
/// <item>a call that failed after a retry surfaces as its last attempt's exception: the SDK's retry policy throws an
/// <see cref="AggregateException"/> of every attempt's (a connection refused each time, or refused and then the retry cancelled),
/// which callers would take for a bug too.</item>
/// </list>
/// </summary>
/// <param name="timeoutSetting">The configuration key of <paramref name="timeout"/>, which a call past it names.</param>
internal sealed class ProviderCallGuard(IChatClient inner, TimeSpan timeout, string timeoutSetting) : DelegatingChatClient(inner)
{
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        using var deadline = Deadline(cancellationToken);
        return await GuardAsync(() => base.GetResponseAsync(messages, options, deadline.Token), cancellationToken);
    }

    /// <summary>The same for a streamed answer, which nothing in the product asks for today: the whole stream within the timeout, and a
    /// failure while it is read (an unreadable chunk; the answer past MaxAnswerBytes) surfacing as a non-streamed call's would.</summary>
    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var deadline = Deadline(cancellationToken);
        await using var updates = base.GetStreamingResponseAsync(messages, options, deadline.Token).GetAsyncEnumerator(deadline.Token);
        while (await GuardAsync(() => updates.MoveNextAsync().AsTask(), cancellationToken))
            yield return updates.Current;
    }

    private CancellationTokenSource Deadline(CancellationToken cancellationToken)
    {
        var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        return deadline;
    }

    private async Task<T> GuardAsync<T>(Func<Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await LastAttemptAsync(call);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            // Past the deadline (or the SDK's per-attempt NetworkTimeout, the same) the call ends with a cancellation the caller did not ask for.
            throw new TimeoutException(FormattableString.Invariant($"the provider did not answer within {timeout.TotalSeconds:0.###} s ({timeoutSetting})"), e);
        }
        catch (Exception e) when (e is JsonException or ArgumentOutOfRangeException or InvalidOperationException and not ObjectDisposedException)
        {
            throw new UnreadableAnswerException(e);
        }
    }

    private static async Task<T> LastAttemptAsync<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            ExceptionDispatchInfo.Throw(e.InnerExceptions[^1]);
            throw;
        }
    }
}
