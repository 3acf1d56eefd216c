using System.Net;
using Microsoft.Extensions.DependencyInjection;
using PromptVault.Storage.Sqlite;
using static PromptVault.Server.Tests.ApiCalls;

namespace PromptVault.Server.Tests.Hosting;

/// <summary>/healthz runs ASP.NET Core's health checks, one of which queries the database.</summary>
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
    public async Task Healthz_DatabaseFileIsNoLongerADatabase_Returns503()
    {
        await using var server = await RunningServer.StartAsync(Cancel);
        using var anonymous = server.CreateClient(apiKey: "");
        // The server's pooled connections would go on reading the replaced file.
        server.Services.GetRequiredService<SqliteConnectionFactory>().Dispose();
        foreach (var file in new[] { server.DatabasePath + "-wal", server.DatabasePath + "-shm" }) File.Delete(file);
        await File.WriteAllTextAsync(server.DatabasePath, new string('x', 4096), Cancel);

        using var response = await anonymous.GetAsync("/healthz", Cancel);
        var body = System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync(Cancel));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("unhealthy", body.Str("status"));
        Assert.Equal("unhealthy", body!["checks"]!["database"].Str("status"));
        Assert.DoesNotContain(server.DatabasePath, body.ToJsonString());
    }
}
