using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using PromptVault.Core.Prompts;
using PromptVault.Server.Hosting;
using PromptVault.Server.Tests;
using PromptVault.Server.Tests.Postgres;
using PromptVault.Storage.Postgres;
using PromptVault.Storage.Testing;

namespace PromptVault.Client.Tests;

/// <summary>The SDK's stream when the server's PostgreSQL goes away for a while and comes back.</summary>
public sealed class DatabaseOutageTests
{
    /// <summary>
    /// Server A reaches PostgreSQL through a relay that the test cuts; server B, on the same database, does not. While A is cut
    /// off, a label is moved through B: A's SDK keeps serving the last snapshot and says so once; when the database is back
    /// it serves B's change with no further write and no refresh interval (an hour), and then a change made through A.
    /// </summary>
    [Fact]
    public async Task GetPromptAsync_ServersDatabaseAwayAndBack_ChangeMadeMeanwhileServedOnceBack_AndTheStreamCarriesTheNext()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var database = await PostgresServer.CreateDatabaseAsync(migrated: false, ct);
        var target = new NpgsqlConnectionStringBuilder(database.ConnectionString);
        await using var relay = new Relay(target.Host!, target.Port);
        target.Port = relay.Port;
        using var serverLogs = new LogCapture();
        await using var a = await StartAsync(target.ConnectionString, serverLogs.Setup("--Logging:LogLevel:Default=Warning"), ct);
        await using var b = await StartAsync(database.ConnectionString, new ServerSetup(["--Logging:LogLevel:Default=Warning"]), ct);
        var adminKey = (await PromptVaultServer.CreateFirstAdminKeyAsync(a, ct))!.Key;
        var apiA = new PromptVaultClient(new HttpClient { BaseAddress = new Uri(a.Urls.First()) }, adminKey);
        var apiB = new PromptVaultClient(new HttpClient { BaseAddress = new Uri(b.Urls.First()) }, adminKey);
        var name = Prompts.NewName("outage");
        var one = await Prompts.CreateAsync(apiA, name, "one", cancellationToken: ct);
        var two = await Prompts.AddVersionAsync(apiA, name, "two", ct);
        var sdkLogs = new LogCollector();
        // An interval of an hour: whatever the SDK serves within the test came through the stream (or a refresh it asked for).
        await using var host = await SdkHost.StartAsync(apiA.BaseAddress, adminKey, o => o.RefreshInterval = TimeSpan.FromHours(1),
            services => services.AddSingleton<ILoggerProvider>(sdkLogs).AddLogging(l => l.SetMinimumLevel(LogLevel.Debug)), ct);
        await apiA.MoveLabelAsync(name, Label.Production, two, ct);
        await Eventually(async () => (await host.Vault.GetPromptAsync(name, cancellationToken: ct)).VersionId, id => id == two);

        await relay.CutAsync();
        await apiB.MoveLabelAsync(name, Label.Production, one, ct);
        // Away until A's listener has said it lost the database, the SDK's stream has ended and its reconnection been refused
        // three times, and the refresh that asked for has failed.
        var listener = typeof(PostgresRegistryChanges).FullName;
        await Eventually(() => sdkLogs.Entries.Count(e => e.EventId.Id == 2006 && e.Message.Contains("answered 503", StringComparison.Ordinal)) >= 3
            && sdkLogs.Entries.Any(e => e.EventId.Id == 2003) && serverLogs.Lines.Any(l => l.Category == listener && l.EventId == 3005));
        Assert.Equal(two, (await host.Vault.GetPromptAsync(name, cancellationToken: ct)).VersionId);
        relay.Resume();

        await Eventually(async () => (await host.Vault.GetPromptAsync(name, cancellationToken: ct)).VersionId, id => id == one);
        await Eventually(() => serverLogs.Lines.Any(l => l.Category == listener && l.EventId == 3006));
        await apiA.MoveLabelAsync(name, Label.Production, two, ct);
        await Eventually(async () => (await host.Vault.GetPromptAsync(name, cancellationToken: ct)).VersionId, id => id == two);

        // The SDK said it once: one warning (its refresh failed, serving the last snapshot), each refused reconnection at Debug.
        var said = sdkLogs.Entries.Where(e => e.Category.StartsWith("PromptVault", StringComparison.Ordinal) && e.Level >= LogLevel.Warning).ToList();
        var shown = string.Join("\n", said.Select(e => $"{e.Level} {e.EventId.Id}: {e.Message}"));
        Assert.True(said is [{ EventId.Id: 2003, Level: LogLevel.Warning }], shown);
    }

    /// <summary>A server on the PostgreSQL database of <paramref name="connectionString"/>, migrated and started.</summary>
    private static async Task<WebApplication> StartAsync(string connectionString, ServerSetup setup, CancellationToken cancellationToken)
    {
        var app = PromptVaultServer.Build(new ServerOptions { Postgres = connectionString, Urls = "http://127.0.0.1:0" }, setup.Settings, setup.Configure);
        return await app.StartOrDisposeAsync(async () =>
        {
            await PromptVaultServer.MigrateAsync(app, cancellationToken);
            return app;
        }, cancellationToken);
    }
}
