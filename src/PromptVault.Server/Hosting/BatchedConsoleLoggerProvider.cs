using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace PromptVault.Server.Hosting;

/// <summary>
/// The console log, formatted by the framework's console formatter (so lines read exactly as <c>AddSimpleConsole</c> writes
/// them) but written in batches: whatever lines queued up while the last batch was written go out in one write. The
/// framework's console logger wakes its writer thread and writes once per line, which under load cost a context switch and
/// a system call per request for the request log (docs/benchmarks.md).
/// </summary>
/// <remarks>
/// Once a write empties the queue, the writer pauses for <see cref="BatchInterval"/> before it looks again, so a steady
/// trickle of lines goes out in a few writes a second rather than one for every handful of lines; a line logged when
/// nothing was written for an interval goes out at once.
/// Like the framework's, the queue is bounded (<see cref="MaxQueuedLines"/>) and a logger waits when it is full rather than
/// drop lines; disposing ends the pause and writes out what is queued. When a write to the console fails (standard output
/// redirected to a file on a full disk), lines are dropped from then on: before, the writer died, the queue filled, and
/// every request then waited forever on its log line.
/// </remarks>
// The framework's alias, so that Logging:Console:LogLevel settings keep applying to the console.
[ProviderAlias("Console")]
internal sealed class BatchedConsoleLoggerProvider : ILoggerProvider, ISupportExternalScope
{
    public const int MaxQueuedLines = 2500;
    private const int MaxBatchChars = 64 * 1024;

    /// <summary>
    /// The writer's pause after emptying the queue. At 16 connections the request log went out five to nine lines a write,
    /// each write a wake-up of this loop and a system call; with the pause, one write carries about two hundred, and a
    /// render took 5-7% less of the server's CPU (docs/benchmarks.md, stop 31). The queue holds a pause's lines up to
    /// 250,000 a second.
    /// </summary>
    internal static readonly TimeSpan BatchInterval = TimeSpan.FromMilliseconds(10);

    private readonly ConsoleFormatter _formatter;
    private readonly TextWriter _output;
    private readonly Channel<string> _lines = Channel.CreateBounded<string>(
        new BoundedChannelOptions(MaxQueuedLines) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _disposing = new();
    private readonly Task _writing;
    private readonly Lock _writeLock = new();
    private bool _outputGone; // under _writeLock
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public BatchedConsoleLoggerProvider(IEnumerable<ConsoleFormatter> formatters, IOptionsMonitor<ConsoleLoggerOptions> options)
        : this(formatters.Single(f => f.Name == options.CurrentValue.FormatterName), StandardOutput(), TimeProvider.System)
    {
    }

    /// <summary>
    /// Standard output with a buffer that holds a whole batch, so each batch is one write: <see cref="Console.Out"/> flushes
    /// every 256 characters, a system call for every line or two of the request log under load (docs/benchmarks.md).
    /// </summary>
    private static StreamWriter StandardOutput() =>
        new(Console.OpenStandardOutput(), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), MaxBatchChars + 4096);

    internal BatchedConsoleLoggerProvider(ConsoleFormatter formatter, TextWriter output, TimeProvider time)
    {
        _formatter = formatter;
        _output = output;
        _time = time;
        _writing = Task.Run(WriteLinesAsync);
    }

    /// <summary>Puts this provider in place of the framework's console logger, keeping its formatter and options.</summary>
    public static void ReplaceConsoleLogger(IServiceCollection services)
    {
        foreach (var console in services.Where(d => d.ServiceType == typeof(ILoggerProvider) && d.ImplementationType == typeof(ConsoleLoggerProvider)).ToList())
            services.Remove(console);
        services.AddSingleton<ILoggerProvider, BatchedConsoleLoggerProvider>();
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose()
    {
        _lines.Writer.TryComplete();
        _disposing.Cancel();
        _writing.Wait(TimeSpan.FromSeconds(2));
    }

    private void Enqueue(string line)
    {
        if (_lines.Writer.TryWrite(line)) return;
        try
        {
            _lines.Writer.WriteAsync(line).AsTask().GetAwaiter().GetResult(); // full: wait, as the framework's logger does
        }
        catch (ChannelClosedException)
        {
            TryWrite(new StringBuilder(line)); // logged after Dispose, or the console failed: written at once, or dropped
        }
    }

    private async Task WriteLinesAsync()
    {
        var batch = new StringBuilder();
        while (await _lines.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (batch.Length < MaxBatchChars && _lines.Reader.TryRead(out var line))
                batch.Append(line);
            if (!TryWrite(batch))
            {
                // The console cannot be written (a full disk): stop queueing, so that no logger waits on a full queue.
                _lines.Writer.TryComplete();
                while (_lines.Reader.TryRead(out _)) { }
                return;
            }
            batch.Clear();
            if (_lines.Reader.Count == 0)
                await Task.Delay(BatchInterval, _time, _disposing.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>Writes and flushes <paramref name="lines"/>; false, then and from then on, once a write has failed.</summary>
    /// <remarks>Locked: after Dispose, loggers write their lines themselves.</remarks>
    private bool TryWrite(StringBuilder lines)
    {
        lock (_writeLock)
        {
            if (_outputGone) return false;
            try
            {
                _output.Write(lines);
                _output.Flush();
                return true;
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                _outputGone = true;
                return false;
            }
        }
    }

    private sealed class Logger(BatchedConsoleLoggerProvider provider, string category) : ILogger
    {
        // One per thread, as the framework's console logger keeps: formatting allocates only the line.
        [ThreadStatic]
        private static StringWriter? t_writer;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => provider._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            var writer = t_writer ??= new StringWriter();
            provider._formatter.Write(new LogEntry<TState>(logLevel, category, eventId, state, exception, formatter), provider._scopes, writer);
            var line = writer.GetStringBuilder();
            if (line.Length == 0) return;
            var text = line.ToString();
            line.Clear();
            if (line.Capacity > 1024) line.Capacity = 1024;
            provider.Enqueue(text);
        }
    }
}
