using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PromptVault.Server.Hosting;
using PromptVault.Storage.Postgres;
using PromptVault.Storage.Testing;

namespace PromptVault.Server.Tests.Postgres;

/// <summary>A server on PostgreSQL ending: its registry change listener's cancelled wait is no failure.</summary>
public sealed class PostgresShutdownTests
{
    [Fact]
    public async Task DisposingAServerWithoutStoppingIt_LogsNoErrorForTheListenersCancelledWait()
    {
        var cancel = TestContext.Current.CancellationToken;
        await using var database = await PostgresServer.CreateDatabaseAsync(migrated: false, cancel);
        var logs = new LogCapture();
        var setup = logs.Setup();
        var app = PromptVaultServer.Build(new ServerOptions { Postgres = database.ConnectionString, Urls = "http://127.0.0.1:0" },
            ["--Logging:LogLevel:Default=Warning", .. setup.Settings], setup.Configure);
        await app.StartOrDisposeAsync(() => PromptVaultServer.InitializeAsync(app, cancel), cancel);
        List<BackgroundService> loops;
        try
        {
            loops = app.Services.GetServices<IHostedService>().OfType<BackgroundService>().Where(loop => loop.ExecuteTask is not null).ToList();
            var listener = loops.OfType<PostgresRegistryChanges>().Single();
            await Eventually(() => Task.FromResult(listener.Applied), applied => applied >= 0);
        }
        finally
        {
            // What the test is about, and on every path: disposed without being stopped.
            await app.DisposeAsync();
        }

        // The host looks at an ended loop after its dispose returns, and logs an error for one that ended cancelled or failed
        // (a host disposed without being stopped treats a cancelled loop as failed): so each must end as having run to completion.
        await Task.WhenAll(loops.Select(loop => loop.ExecuteTask!)).ContinueWith(_ => { }, TaskScheduler.Default).WaitAsync(TimeSpan.FromSeconds(10), cancel);
        Assert.All(loops, loop => Assert.True(loop.ExecuteTask!.IsCompletedSuccessfully, $"{loop.GetType().Name}: {loop.ExecuteTask.Status}"));
        Assert.Empty(logs.Lines.Where(line => line.Level >= LogLevel.Error).Select(line => $"{line.Category} {line.Level}: {line.Message}"));
    }
}
