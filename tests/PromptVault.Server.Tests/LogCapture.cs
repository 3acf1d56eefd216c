using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace PromptVault.Server.Tests;

/// <summary>A logger provider that keeps every formatted line (category, level, message), to check what the server logs.</summary>
public sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<LogLine> _lines = new();

    public IReadOnlyList<LogLine> Lines => _lines.ToArray();

    /// <summary>Adds this capture to a server, with PromptVault's own categories at Information.</summary>
    public ServerSetup Setup(params string[] settings) =>
        new(["--Logging:LogLevel:PromptVault=Information", .. settings], builder => builder.Logging.AddProvider(this));

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _lines);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<LogLine> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue(new LogLine(category, logLevel, eventId.Id, formatter(state, exception) + (exception is null ? "" : " " + exception)));
    }
}

public sealed record LogLine(string Category, LogLevel Level, int EventId, string Message);
