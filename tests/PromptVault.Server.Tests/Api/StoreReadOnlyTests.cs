using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using PromptVault.Storage.Sqlite;
using static PromptVault.Server.Tests.ApiCalls;

namespace PromptVault.Server.Tests.Api;

/// <summary>
/// The SQLite file turns read-only while the server runs: writes are refused as 503 <c>store_read_only</c> naming the file,
/// reads keep working, nothing is stored, and once the file is writable again the next write succeeds, with no restart.
/// </summary>
public sealed class StoreReadOnlyTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Writes_FileTurnsReadOnly_Return503StoreReadOnlyNamingIt_ReadsWork_WritesWorkOnceWritable()
    {
        await using var server = await RunningServer.StartAsync(Cancel);
        using var client = server.CreateClient();
        var existing = await CreateSupportPromptAsync(client);
        var versionId = (await GetAsync(client, $"/api/prompts/{existing}/versions/1.0.0")).Body.Str("id");
        var name = UniqueName("read-only");

        using (ReadOnlyFile.Make(server.DatabasePath))
        {
            // The pool's connections were opened writable; a connection opened now is read-only, as after a remount.
            server.Services.GetRequiredService<SqliteConnectionFactory>().Dispose();
            using var response = await client.PostAsJsonAsync("/api/prompts", SupportPrompt(name), Cancel);
            var (metricsStatus, metricsBody) = await PostAsync(client, "/api/metrics", new { versionId, latencyMs = 10 });
            var (readStatus, read) = await GetAsync(client, $"/api/prompts/{existing}");

            var body = System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync(Cancel));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("store_read_only", body.Str("code"));
            Assert.Contains($"The SQLite database file {server.DatabasePath} cannot be written", body.Str("detail"), StringComparison.Ordinal);
            Assert.Equal(TimeSpan.FromSeconds(30), response.Headers.RetryAfter?.Delta);
            // An acknowledged write of the background writer is refused the same way, not acknowledged and dropped.
            Assert.True(metricsStatus == HttpStatusCode.ServiceUnavailable, metricsBody?.ToJsonString());
            Assert.Equal("store_read_only", metricsBody.Str("code"));
            Assert.True(readStatus == HttpStatusCode.OK, read?.ToJsonString());
            Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(client, $"/api/prompts/{name}")).Status);
        }

        var (status, created) = await PostAsync(client, "/api/prompts", SupportPrompt(name));
        var (again, stored) = await PostAsync(client, "/api/metrics", new { versionId, latencyMs = 10 });
        Assert.True(status == HttpStatusCode.Created, created?.ToJsonString());
        Assert.True(again == HttpStatusCode.OK, stored?.ToJsonString());
        var summary = (await GetAsync(client, $"/api/prompts/{existing}/versions/1.0.0/metrics?period=all")).Body!["summary"]!;
        Assert.Equal(1, summary["count"]!.GetValue<long>());
    }

    [Fact]
    public async Task Writes_FilesTurnReadOnlyUnderOpenConnections_AsOnARemount_Return503StoreReadOnly_WritesWorkOnceWritable()
    {
        // Permissions do not bind a descriptor already open for writing; only root can make the open -wal file refuse it.
        Assert.SkipUnless(Environment.UserName == "root", "needs root (chattr +i) to make an open file refuse writes");
        await using var server = await RunningServer.StartAsync(Cancel);
        using var client = server.CreateClient();
        var existing = await CreateSupportPromptAsync(client);
        var versionId = (await GetAsync(client, $"/api/prompts/{existing}/versions/1.0.0")).Body.Str("id");
        var name = UniqueName("remounted");

        using (ReadOnlyFile.Make(server.DatabasePath))
        using (ReadOnlyFile.Make(server.DatabasePath + "-wal"))
        {
            var (status, created) = await PostAsync(client, "/api/prompts", SupportPrompt(name));
            var (metricsStatus, metricsBody) = await PostAsync(client, "/api/metrics", new { versionId, latencyMs = 10 });

            Assert.True(status == HttpStatusCode.ServiceUnavailable, created?.ToJsonString());
            Assert.Equal("store_read_only", created.Str("code"));
            Assert.True(metricsStatus == HttpStatusCode.ServiceUnavailable, metricsBody?.ToJsonString());
            Assert.Equal("store_read_only", metricsBody.Str("code"));
            Assert.Equal(HttpStatusCode.OK, (await GetAsync(client, $"/api/prompts/{existing}")).Status);
        }

        Assert.Equal(HttpStatusCode.Created, (await PostAsync(client, "/api/prompts", SupportPrompt(name))).Status);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(client, "/api/metrics", new { versionId, latencyMs = 10 })).Status);
    }
}
