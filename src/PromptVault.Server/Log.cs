namespace PromptVault.Server;

/// <summary>The server's log messages, with fixed event ids. Never a key secret or prompt content.</summary>
internal static partial class Log
{
    /// <summary>The category of the request log, outside <c>Microsoft.AspNetCore</c> (which `serve` keeps at Warning).</summary>
    public const string RequestCategory = "PromptVault.Requests";

    /// <summary>At Information, except a polled route's successes (<see cref="Hosting.RequestLogging.Polled{TBuilder}"/>).</summary>
    [LoggerMessage(EventId = 2001, Message = "{Method} {Route} responded {StatusCode} in {ElapsedMilliseconds:0.0} ms (key {KeyName})")]
    public static partial void RequestCompleted(ILogger logger, LogLevel level, string method, string route, int statusCode, double elapsedMilliseconds, string keyName);

    [LoggerMessage(EventId = 2101, Level = LogLevel.Warning, Message = "Webhook {WebhookId} delivery {DeliveryId} of {Event}: attempt {Attempt} of {MaxAttempts} failed: {Reason}; {Next}")]
    public static partial void WebhookAttemptFailed(ILogger logger, string webhookId, long deliveryId, string @event, int attempt, int maxAttempts, string reason, string next);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Warning, Message = "Webhook delivery {DeliveryId}: its attempt was not recorded, as this server no longer held it: its webhook was deleted meanwhile, or its lease expired and another server may send it again")]
    public static partial void WebhookLeaseLost(ILogger logger, long deliveryId);

    [LoggerMessage(EventId = 2103, Level = LogLevel.Error, Message = "Webhook dispatch failed; retrying at the next poll")]
    public static partial void WebhookDispatchFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 2104, Level = LogLevel.Warning, Message = "Webhook delivery {DeliveryId}: attempt {Attempt} was sent but could not be recorded ({Causes}); the delivery will be sent again once its lease expires")]
    public static partial void WebhookAttemptNotRecorded(ILogger logger, long deliveryId, int attempt, string causes);

    [LoggerMessage(EventId = 2105, Level = LogLevel.Warning, Message = "Webhook delivery {DeliveryId} was not sent, and its lease could not be given back ({Causes}); it will be sent once its lease expires")]
    public static partial void WebhookLeaseNotReleased(ILogger logger, long deliveryId, string causes);

    [LoggerMessage(EventId = 2301, Level = LogLevel.Warning,
        Message = "{Method} {Route} answered 503 {Code} for the database's trouble ({Causes}); {Answers} request(s) were answered so since this code's last line (one a minute at most)")]
    public static partial void StoreTroubleAnswered(ILogger logger, string method, string route, string code, string causes, long answers);

    [LoggerMessage(EventId = 2302, Level = LogLevel.Warning,
        Message = "GET /healthz answers {Status} ({Description}) for the database's trouble ({Causes}); the log says when its answer changes")]
    public static partial void HealthCheckFailed(ILogger logger, string status, string? description, string causes);

    [LoggerMessage(EventId = 2303, Level = LogLevel.Information, Message = "GET /healthz answers {Status} again, after {Checks} check(s) answered {Before}")]
    public static partial void HealthCheckRecovered(ILogger logger, string status, long checks, string before);

    /// <param name="request">The method, and the prompt or tool it names when it names one: <c>prompts/get of 'support'</c>.</param>
    [LoggerMessage(EventId = 2201, Level = LogLevel.Information, Message = "MCP {Request} refused ({Code}): {Reason}")]
    public static partial void McpRefused(ILogger logger, string request, string code, string reason);

    [LoggerMessage(EventId = 2202, Level = LogLevel.Error, Message = "MCP {Request} failed")]
    public static partial void McpFailed(ILogger logger, string request, Exception exception);
}
