using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Time.Testing;
using PromptVault.Server.Hosting;
using PromptVault.Storage.Testing;

namespace PromptVault.Server.Tests.Hosting;

/// <summary>The console log written in batches: every line, formatted by the framework's simple formatter, in each logger's order.</summary>
public sealed class BatchedConsoleLoggerProviderTests
{
    [Fact]
    public async Task Log_FromManyThreads_WritesEveryLineOnceInEachThreadsOrder_ByTheDisposeAtTheLatest()
    {
        await using var services = SimpleConsoleServices();
        var formatter = services.GetServices<ConsoleFormatter>().Single(f => f.Name == ConsoleFormatterNames.Simple);
        var output = new StringWriter();
        const int Threads = 4, Lines = 2 * BatchedConsoleLoggerProvider.MaxQueuedLines;

        using (var provider = new BatchedConsoleLoggerProvider(formatter, output, TimeProvider.System))
        {
            var logger = provider.CreateLogger("Test.Category");
            await Task.WhenAll(Enumerable.Range(0, Threads).Select(thread => Task.Run(() =>
            {
                for (var line = 0; line < Lines; line++)
                    logger.LogInformation("thread {Thread} line {Line}", thread, line);
            }, TestContext.Current.CancellationToken)));
        }

        var written = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(Threads * Lines, written.Length);
        Assert.All(written, line => Assert.StartsWith("info: Test.Category[0] thread ", line, StringComparison.Ordinal));
        for (var thread = 0; thread < Threads; thread++)
        {
            var prefix = $"thread {thread} line ";
            var order = written.Where(l => l.Contains(prefix, StringComparison.Ordinal)).Select(l => int.Parse(l[(l.IndexOf(prefix, StringComparison.Ordinal) + prefix.Length)..]));
            Assert.Equal(Enumerable.Range(0, Lines), order);
        }
    }

    [Fact]
    public async Task Log_WhileTheWriterPausesAfterEmptyingTheQueue_WritesTheLinesTogetherWhenThePauseEnds()
    {
        await using var services = SimpleConsoleServices();
        var formatter = services.GetServices<ConsoleFormatter>().Single(f => f.Name == ConsoleFormatterNames.Simple);
        var output = new BatchRecordingWriter();
        var time = new WatchedTimeProvider();
        using var provider = new BatchedConsoleLoggerProvider(formatter, output, time);
        var logger = provider.CreateLogger("Test.Category");

        logger.LogInformation("first");
        var first = await output.NextBatchAsync();
        Assert.Contains("first", first, StringComparison.Ordinal); // a line after a quiet interval is not held back
        // The writer waits on the fake clock, which stands still: nothing it does after its pause can happen until Advance.
        Assert.Equal(BatchedConsoleLoggerProvider.BatchInterval, await time.NextTimerAsync());

        logger.LogInformation("second");
        logger.LogInformation("third");
        var next = output.NextBatchAsync();
        Assert.False(next.IsCompleted, "the writer wrote again before its pause ended");

        time.Advance(BatchedConsoleLoggerProvider.BatchInterval);
        var together = await next;
        Assert.Contains("second", together, StringComparison.Ordinal);
        Assert.Contains("third", together, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dispose_DuringThePause_WritesWhatIsQueuedWithoutWaitingForIt()
    {
        await using var services = SimpleConsoleServices();
        var formatter = services.GetServices<ConsoleFormatter>().Single(f => f.Name == ConsoleFormatterNames.Simple);
        var output = new BatchRecordingWriter();
        var provider = new BatchedConsoleLoggerProvider(formatter, output, new FakeTimeProvider());
        var logger = provider.CreateLogger("Test.Category");
        logger.LogInformation("first");
        await output.NextBatchAsync();
        logger.LogInformation("queued");

        provider.Dispose(); // the fake clock never ends the pause: only the dispose can

        Assert.Contains("queued", await output.NextBatchAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Log_AfterAWriteToTheConsoleFailed_NeitherWaitsNorThrows()
    {
        await using var services = SimpleConsoleServices();
        var formatter = services.GetServices<ConsoleFormatter>().Single(f => f.Name == ConsoleFormatterNames.Simple);
        var output = new FullDiskWriter();
        using var provider = new BatchedConsoleLoggerProvider(formatter, output, TimeProvider.System);
        var logger = provider.CreateLogger("Test.Category");

        // A full queue's worth and more, after the first write failed (standard output on a full disk).
        var logging = Task.Run(() =>
        {
            for (var line = 0; line < 3 * BatchedConsoleLoggerProvider.MaxQueuedLines; line++)
                logger.LogInformation("line {Line}", line);
        }, TestContext.Current.CancellationToken);

        await logging.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.True(output.Writes >= 1);
    }

    [Fact]
    public async Task Server_LogsToTheConsoleThroughTheBatchedProvider_InsteadOfTheFrameworks()
    {
        await using var server = await RunningServer.StartAsync(TestContext.Current.CancellationToken);

        var providers = server.Services.GetServices<ILoggerProvider>().Select(p => p.GetType()).ToList();
        Assert.Contains(typeof(BatchedConsoleLoggerProvider), providers);
        Assert.DoesNotContain(typeof(ConsoleLoggerProvider), providers);
    }

    private static ServiceProvider SimpleConsoleServices() => new ServiceCollection()
        .AddLogging(logging => logging.AddSimpleConsole(console => { console.SingleLine = true; console.ColorBehavior = LoggerColorBehavior.Disabled; }))
        .BuildServiceProvider();

    /// <summary>Output on a full disk: every write fails.</summary>
    private sealed class FullDiskWriter : TextWriter
    {
        private int writes;

        public int Writes => Volatile.Read(ref writes);

        public override Encoding Encoding => Encoding.UTF8;

        public override void Write(char value) => Fail();

        public override void Write(string? value) => Fail();

        public override void Write(StringBuilder? value) => Fail();

        private void Fail()
        {
            Interlocked.Increment(ref writes);
            throw new IOException("No space left on device");
        }
    }

    /// <summary>Output that hands each flushed batch to the test, in order.</summary>
    private sealed class BatchRecordingWriter : TextWriter
    {
        private readonly StringBuilder pending = new();
        private readonly Channel<string> batches = Channel.CreateUnbounded<string>();

        public override Encoding Encoding => Encoding.UTF8;

        public override void Write(char value) => pending.Append(value);

        public override void Write(StringBuilder? value) => pending.Append(value);

        public override void Flush()
        {
            batches.Writer.TryWrite(pending.ToString());
            pending.Clear();
        }

        /// <summary>The next flushed batch; fails the test after ten seconds.</summary>
        public async Task<string> NextBatchAsync() =>
            await batches.Reader.ReadAsync(TestContext.Current.CancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
    }
}
