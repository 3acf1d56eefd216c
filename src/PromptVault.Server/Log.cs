namespace PromptVault.Server;

/// <summary>The server's log messages, with fixed event ids. Never a key secret or prompt content.</summary>
internal static partial class Log
{
    /// <summary>The category of the request log, outside <c>Microsoft.AspNetCore</c> (which `serve` keeps at Warning).</summary>
    public const string RequestCategory = "PromptVault.Requests";

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information,
        Message = "{Method} {Route} responded {StatusCode} in {ElapsedMilliseconds:0.0} ms (key {KeyName})")]
    public static partial void RequestCompleted(ILogger logger, string method, string route, int statusCode, double elapsedMilliseconds, string keyName);
}
