using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using PromptVault.Core;
using PromptVault.Server.Api;
using PromptVault.Storage.Sqlite;
using static PromptVault.Server.Tests.ApiCalls;

namespace PromptVault.Server.Tests.Api;

/// <summary>A request answered 503 for the store's trouble leaves its cause in the server's log, without a line per request.</summary>
public sealed class StoreTroubleLogTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Write_StoreReadOnly_Answered503_LogsAWarningWithTheRouteTheCodeAndTheCause()
    {
        using var logs = new LogCapture();
        await using var server = await RunningServer.StartAsync(logs.Setup(), Cancel);
        using var client = server.CreateClient();

        using (ReadOnlyFile.Make(server.DatabasePath))
        {
            server.Services.GetRequiredService<SqliteConnectionFactory>().Dispose();
            using var response = await client.PostAsJsonAsync("/api/prompts", SupportPrompt(UniqueName("read-only")), Cancel);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        }

        var line = Assert.Single(logs.Lines, l => l.EventId == 2301);
        Assert.Equal(LogLevel.Warning, line.Level);
        Assert.StartsWith($"POST /api/prompts answered 503 store_read_only for the database's trouble ({nameof(StoreReadOnlyException)}: The SQLite database file {server.DatabasePath} cannot be written",
            line.Message, StringComparison.Ordinal);
        Assert.Contains(" ---> SqliteException: ", line.Message, StringComparison.Ordinal);
        Assert.EndsWith("); 1 request(s) were answered so since this code's last line (one a minute at most)", line.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', line.Message);
    }

    [Fact]
    public void Answered_ManyOfACode_OneLineAtOnce_ThenOnePerIntervalWithTheCountSince_EachCodeItsOwn()
    {
        var time = new FakeTimeProvider();
        using var logs = new LogCapture();
        using var factory = LoggerFactory.Create(builder => builder.AddProvider(logs));
        var log = new StoreTroubleLog(factory.CreateLogger<StoreTroubleLog>(), time);

        for (var i = 0; i < 3; i++) log.Answered("store_busy", "POST", "/api/metrics", new TimeoutException("busy"));
        log.Answered("store_unavailable", "GET", "/api/prompts", new StoreUnavailableException("down", new IOException("refused")));
        var beforeTheInterval = logs.Lines.Count;
        time.Advance(StoreTroubleLog.Interval);
        log.Answered("store_busy", "POST", "/api/prompts/{name}/render", new TimeoutException("busy"));

        Assert.Equal(2, beforeTheInterval);
        Assert.Equal(
            [
                "POST /api/metrics answered 503 store_busy",
                "GET /api/prompts answered 503 store_unavailable",
                "POST /api/prompts/{name}/render answered 503 store_busy",
            ],
            logs.Lines.Select(l => l.Message[..l.Message.IndexOf(" for ", StringComparison.Ordinal)]));
        Assert.Equal(["1 request(s)", "1 request(s)", "3 request(s)"], logs.Lines.Select(l => l.Message[(l.Message.LastIndexOf("); ", StringComparison.Ordinal) + 3)..][..12]));
    }
}
