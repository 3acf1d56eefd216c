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
        await PromptVaultServer.InitializeAsync(app, cancel);
        await app.StartAsync(cancel);
        var listener = app.Services.GetServices<IHostedService>().OfType<PostgresRegistryChanges>().Single();
        await ApiCalls.Eventually(() => Task.FromResult(listener.Applied), applied => applied >= 0);

        await app.DisposeAsync();

        // The host looks at the ended listener after its dispose returns: wait until the listener has ended, then a little longer.
        await listener.ExecuteTask!.ContinueWith(_ => { }, TaskScheduler.Default);
        await Task.Delay(TimeSpan.FromMilliseconds(500), cancel);
        Assert.Empty(logs.Lines.Where(line => line.Level >= LogLevel.Error).Select(line => $"{line.Category} {line.Level}: {line.Message}"));
    }
}
