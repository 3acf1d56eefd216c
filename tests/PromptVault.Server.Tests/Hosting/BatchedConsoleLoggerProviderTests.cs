using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using PromptVault.Server.Hosting;

namespace PromptVault.Server.Tests.Hosting;

/// <summary>The console log written in batches: every line, formatted by the framework's simple formatter, in each logger's order.</summary>
public sealed class BatchedConsoleLoggerProviderTests
{
    [Fact]
    public async Task Log_FromManyThreads_WritesEveryLineOnceInEachThreadsOrder_ByTheDisposeAtTheLatest()
    {
        await using var services = new ServiceCollection()
            .AddLogging(logging => logging.AddSimpleConsole(console => { console.SingleLine = true; console.ColorBehavior = LoggerColorBehavior.Disabled; }))
            .BuildServiceProvider();
        var formatter = services.GetServices<ConsoleFormatter>().Single(f => f.Name == ConsoleFormatterNames.Simple);
        var output = new StringWriter();
        const int Threads = 4, Lines = 2 * BatchedConsoleLoggerProvider.MaxQueuedLines;

        using (var provider = new BatchedConsoleLoggerProvider(formatter, output))
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
    public async Task Server_LogsToTheConsoleThroughTheBatchedProvider_InsteadOfTheFrameworks()
    {
        await using var server = await RunningServer.StartAsync(TestContext.Current.CancellationToken);

        var providers = server.Services.GetServices<ILoggerProvider>().Select(p => p.GetType()).ToList();
        Assert.Contains(typeof(BatchedConsoleLoggerProvider), providers);
        Assert.DoesNotContain(typeof(ConsoleLoggerProvider), providers);
    }
}
