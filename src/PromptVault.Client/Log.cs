using Microsoft.Extensions.Logging;

namespace PromptVault.Client;

/// <summary>What the SDK logs, with fixed event ids. Never an API key, prompt content or variables.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "PromptVault snapshot {Sequence} loaded from {Source} ({Prompts} prompts, {Experiments} running experiments)")]
    public static partial void SnapshotLoaded(ILogger logger, long sequence, string source, int prompts, int experiments);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "PromptVault server unreachable at start ({Reason}); serving the fallback snapshot {Sequence} from {Path}, generated {Age} ago")]
    public static partial void StartedFromFallback(ILogger logger, string reason, long sequence, string path, TimeSpan age);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Warning, Message = "PromptVault snapshot refresh failed ({Reason}); serving the last good snapshot {Sequence}, {Age} old")]
    public static partial void RefreshFailed(ILogger logger, string reason, long sequence, TimeSpan age);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Warning, Message = "PromptVault snapshot {Offered} ignored: snapshot {Current} was seen already")]
    public static partial void OlderSnapshotIgnored(ILogger logger, long offered, long current);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Error, Message = "PromptVault snapshot {Sequence} refused: {Reason}")]
    public static partial void SnapshotRefused(ILogger logger, long sequence, string reason);

    [LoggerMessage(EventId = 2007, Level = LogLevel.Error, Message = "PromptVault server refused the API key ({Reason}); refreshing stopped, serving the last good snapshot {Sequence}, {Age} old, until a restart with a valid PromptVault:ApiKey")]
    public static partial void KeyRefused(ILogger logger, string reason, long sequence, TimeSpan age);

    [LoggerMessage(EventId = 2006, Level = LogLevel.Debug, Message = "PromptVault stream disconnected ({Reason}); reconnecting in {Delay}")]
    public static partial void StreamDisconnected(ILogger logger, string reason, TimeSpan delay);

    [LoggerMessage(EventId = 2101, Level = LogLevel.Warning, Message = "{Count} {What} not sent (attempt {Attempt}: {Reason}); retrying in {Delay}")]
    public static partial void EventsNotSent(ILogger logger, int count, string what, int attempt, TimeSpan delay, string reason);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Information, Message = "{Count} {What} sent at attempt {Attempt}")]
    public static partial void EventsSentAfterRetry(ILogger logger, int count, string what, int attempt);

    [LoggerMessage(EventId = 2103, Level = LogLevel.Error, Message = "{Count} {What} refused by the server ({Status} {Code}: {Detail}); dropped")]
    public static partial void EventsRejected(ILogger logger, int count, string what, int status, string code, string detail);

    [LoggerMessage(EventId = 2104, Level = LogLevel.Warning, Message = "{Count} queued events not sent within {Timeout} at shutdown")]
    public static partial void EventsAbandoned(ILogger logger, int count, TimeSpan timeout);

    [LoggerMessage(EventId = 2105, Level = LogLevel.Error, Message = "{Count} queued events could not be sent at all; dropped")]
    public static partial void EventsNotSendable(ILogger logger, int count, Exception error);

    [LoggerMessage(EventId = 2106, Level = LogLevel.Warning, Message = "{Count} {What} larger than the server takes in one request (413); sending them in halves")]
    public static partial void EventsSplit(ILogger logger, int count, string what);

    [LoggerMessage(EventId = 2107, Level = LogLevel.Information, Message = "{Count} {What} sent again without the {Refused} refused by the server")]
    public static partial void EventsSentWithoutRefused(ILogger logger, int count, string what, int refused);

    [LoggerMessage(EventId = 2201, Level = LogLevel.Warning, Message = "PromptVault unavailable; the chat call for prompt {Prompt} goes out without it")]
    public static partial void ChatWithoutPrompt(ILogger logger, string prompt, Exception reason);

    [LoggerMessage(EventId = 2202, Level = LogLevel.Warning, Message = "PromptVault event of a chat call for prompt {Prompt} dropped (model {Model}, {InputTokens} input and {OutputTokens} output tokens, cost {Cost}): {Reason}")]
    public static partial void ChatEventDropped(ILogger logger, string prompt, string? model, long? inputTokens, long? outputTokens, double? cost, string reason);

    [LoggerMessage(EventId = 2203, Level = LogLevel.Warning, Message = "PromptVault event of a chat call for prompt {Prompt} recorded without its cost (model {Model}, {InputTokens} input and {OutputTokens} output tokens, cost {Cost}): {Reason}")]
    public static partial void ChatEventWithoutCost(ILogger logger, string prompt, string? model, long? inputTokens, long? outputTokens, double? cost, string reason);
}
