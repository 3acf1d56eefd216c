using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace PromptVault.Client.Tests;

/// <summary>A logging provider that keeps every entry written through the host's logging, to read what the SDK logged.</summary>
public sealed class LogCollector : ILoggerProvider
{
    public ConcurrentQueue<(EventId EventId, LogLevel Level, string Message, string Category, Exception? Exception)> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Collector(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Collector(LogCollector owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Entries.Enqueue((eventId, logLevel, formatter(state, exception), category, exception));
    }
}
