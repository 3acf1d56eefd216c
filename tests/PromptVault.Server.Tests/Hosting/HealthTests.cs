using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PromptVault.Storage.Sqlite;
using static PromptVault.Server.Tests.ApiCalls;

namespace PromptVault.Server.Tests.Hosting;

/// <summary>/healthz runs ASP.NET Core's health checks, one of which queries the database; /livez runs none.</summary>
public sealed class HealthTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Healthz_DatabaseAnswers_Returns200Ok()
    {
        await using var server = await RunningServer.StartAsync(Cancel);
        using var anonymous = server.CreateClient(apiKey: "");

        var (status, body) = await GetAsync(anonymous, "/healthz");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("ok", body.Str("status"));
        Assert.Equal("healthy", body!["checks"]!["database"].Str("status"));
    }

    [Fact]
    public async Task Healthz_DatabaseFileIsNoLongerADatabase_Returns503_SayingTheLogHasTheError_WhichItLogsOnceNotPerProbe()
    {
        using var logs = new LogCapture();
        await using var server = await RunningServer.StartAsync(logs.Setup(), Cancel);
        using var anonymous = server.CreateClient(apiKey: "");
        await BreakDatabaseAsync(server);

        using var response = await anonymous.GetAsync("/healthz", Cancel);
        var body = System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync(Cancel));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("unhealthy", body.Str("status"));
        Assert.Equal("unhealthy", body!["checks"]!["database"].Str("status"));
        Assert.Equal("the database did not open or answer the check's query; the server log has the error", body!["checks"]!["database"].Str("description"));
        Assert.DoesNotContain(server.DatabasePath, body.ToJsonString());

        // A load balancer probes every few seconds: the cause is logged once, not with every answer.
        for (var probe = 0; probe < 2; probe++)
            using (var again = await anonymous.GetAsync("/healthz", Cancel)) Assert.Equal(HttpStatusCode.ServiceUnavailable, again.StatusCode);
        Assert.DoesNotContain(logs.Lines, l => l.Category.StartsWith("Microsoft.Extensions.Diagnostics.HealthChecks", StringComparison.Ordinal));
        var line = Assert.Single(logs.Lines, l => l.EventId == 2302);
        Assert.Equal(LogLevel.Warning, line.Level);
        Assert.StartsWith("GET /healthz answers unhealthy (the database did not open or answer the check's query; the server log has the error) for the database's trouble (SqliteException: ", line.Message, StringComparison.Ordinal);
        Assert.EndsWith("); the log says when its answer changes", line.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', line.Message);
    }

    /// <summary>
    /// An orchestrator restarts a server whose liveness probe fails. With only /healthz to point it at, a database outage
    /// failed every server's probe and restarted them all, which cures nothing; /livez stays 200 while the process answers.
    /// </summary>
    [Fact]
    public async Task Livez_RunsNoCheck_SoABrokenDatabase_LeavesIt200WhileHealthzIs503()
    {
        await using var server = await RunningServer.StartAsync(Cancel);
        using var anonymous = server.CreateClient(apiKey: "");
        await BreakDatabaseAsync(server);

        using var health = await anonymous.GetAsync("/healthz", Cancel);
        using var live = await anonymous.GetAsync("/livez", Cancel);
        var (post, problem) = await SendAsync(anonymous, HttpMethod.Post, "/livez");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal("no-store", live.Headers.CacheControl?.ToString());
        Assert.Equal("""{"status":"ok","checks":{}}""", await live.Content.ReadAsStringAsync(Cancel));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, post);
        Assert.Equal("method_not_allowed", problem.Str("code"));
    }

    /// <summary>
    /// The failing check's line came again once a minute for as long as the database stayed broken, and its recovery was not
    /// logged at all: a team's log filled with the same warning. A line comes when the answer changes, either way.
    /// </summary>
    [Fact]
    public async Task Healthz_LogsWhenItsAnswerChanges_NotAtEveryCheck()
    {
        using var logs = new LogCapture();
        await using var server = await RunningServer.StartAsync(logs.Setup(), Cancel);
        using var anonymous = server.CreateClient(apiKey: "");
        var connections = server.Services.GetRequiredService<SqliteConnectionFactory>();
        connections.Dispose(); // the last connection's close writes the WAL back into the file, which is then the whole database
        var intact = await File.ReadAllBytesAsync(server.DatabasePath, Cancel);

        await ProbeAsync(HttpStatusCode.OK);
        await BreakDatabaseAsync(server);
        for (var probe = 0; probe < 3; probe++) await ProbeAsync(HttpStatusCode.ServiceUnavailable);
        connections.Dispose();
        await File.WriteAllBytesAsync(server.DatabasePath, intact, Cancel);
        for (var probe = 0; probe < 2; probe++) await ProbeAsync(HttpStatusCode.OK);
        await BreakDatabaseAsync(server);
        await ProbeAsync(HttpStatusCode.ServiceUnavailable);

        var lines = logs.Lines.Where(l => l.Category == "PromptVault.Server.Api.StoreTroubleLog").ToList();
        Assert.Equal([(2302, LogLevel.Warning), (2303, LogLevel.Information), (2302, LogLevel.Warning)], lines.Select(l => (l.EventId, l.Level)));
        Assert.Equal("GET /healthz answers healthy again, after 3 check(s) answered unhealthy", lines[1].Message);

        async Task ProbeAsync(HttpStatusCode expected)
        {
            using var response = await anonymous.GetAsync("/healthz", Cancel);
            Assert.Equal(expected, response.StatusCode);
        }
    }

    /// <summary>Replaces the server's database with a file that is not one; its pooled connections, which would go on reading the replaced file, are closed first.</summary>
    private static Task BreakDatabaseAsync(RunningServer server)
    {
        server.Services.GetRequiredService<SqliteConnectionFactory>().Dispose();
        foreach (var file in new[] { server.DatabasePath + "-wal", server.DatabasePath + "-shm" }) File.Delete(file);
        return File.WriteAllTextAsync(server.DatabasePath, new string('x', 4096), Cancel);
    }
}
