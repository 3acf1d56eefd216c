using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using PromptVault.Storage.Sqlite;
using static PromptVault.Server.Tests.ApiCalls;

namespace PromptVault.Server.Tests.Api;

/// <summary>A write on a full disk: refused as transient, nothing stored, and the next write after space is freed succeeds.</summary>
public sealed class StoreFullTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task CreatePrompt_DiskFull_Returns503StoreFullWithRetryAfter_NothingStored_NextWriteSucceeds()
    {
        await using var server = await StartWithoutBackgroundWritesAsync();
        using var client = server.CreateClient();
        await CreateSupportPromptAsync(client);
        var connections = server.Services.GetRequiredService<SqliteConnectionFactory>();
        await FillDiskOfPooledConnectionsAsync(connections);
        var name = UniqueName("full");
        var prompt = JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(SupportPrompt(name)))!;
        prompt["content"] = SupportTemplate + new string('x', 150_000); // more pages than the file may grow by

        using var response = await client.PostAsync("/api/prompts",
            new StringContent(prompt.ToJsonString(), System.Text.Encoding.UTF8, "application/json"), Cancel);

        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync(Cancel));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("store_full", body.Str("code"));
        Assert.Equal(TimeSpan.FromSeconds(30), response.Headers.RetryAfter?.Delta);
        Assert.DoesNotContain(server.DatabasePath, body!.ToJsonString());
        connections.Dispose(); // space is freed: the limited connections close
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(client, $"/api/prompts/{name}")).Status);
        var (status, created) = await PostAsync(client, "/api/prompts", prompt);
        Assert.True(status == HttpStatusCode.Created, created?.ToJsonString());
    }

    [Fact]
    public async Task McpCreateVersion_DiskFull_AnswersAToolErrorSayingSo_AsTheRestApisStoreFull()
    {
        await using var server = await StartWithoutBackgroundWritesAsync();
        using var client = server.CreateClient();
        var name = await CreateSupportPromptAsync(client);
        await using var mcp = await Mcp.McpEndpointTests.ConnectAsync(server, server.AdminKey);
        var connections = server.Services.GetRequiredService<SqliteConnectionFactory>();
        await FillDiskOfPooledConnectionsAsync(connections);

        var full = await mcp.CallToolAsync("create_version", new Dictionary<string, object?>
        {
            ["name"] = name, ["content"] = SupportTemplate + new string('x', 150_000), ["changeDescription"] = "on a full disk",
        }, cancellationToken: Cancel);

        Assert.True(full.IsError);
        Assert.Equal("The database's disk is full: nothing was stored. Retry once space is freed.",
            Assert.IsType<ModelContextProtocol.Protocol.TextContentBlock>(Assert.Single(full.Content)).Text);
        connections.Dispose();
        Assert.Equal("1.0.0", (await GetAsync(client, $"/api/prompts/{name}")).Body!["latestVersion"].Str("version"));
    }

    /// <summary>
    /// A server whose webhook dispatcher does not run: a registry change wakes it to claim deliveries on a pooled connection,
    /// and one it holds while the disk fills (or opens anew, the pool's idle ones being taken) would go back to the pool able
    /// to grow the file, and be the next write's (CI's failure at stop 41: the create was stored, 201).
    /// </summary>
    private static Task<RunningServer> StartWithoutBackgroundWritesAsync() =>
        RunningServer.StartAsync(new ServerSetup([], builder =>
            builder.Services.Remove(builder.Services.Single(service => service.ImplementationType == typeof(PromptVault.Server.Webhooks.WebhookDispatcher)))), Cancel);

    /// <summary>
    /// The disk fills for the server's next pooled connection: every connection in the pool (the test and the server share
    /// it, one process) may no longer grow the file. Opening more at once than the pool holds idle takes each idle one.
    /// </summary>
    private static async Task FillDiskOfPooledConnectionsAsync(SqliteConnectionFactory connections)
    {
        var opened = new List<SqliteConnection>();
        try
        {
            for (var i = 0; i < 32; i++)
                opened.Add(await connections.OpenAsync(Cancel));
            foreach (var connection in opened)
            {
                await using var command = connection.CreateCommand();
                command.CommandText = "PRAGMA max_page_count = 1"; // SQLite keeps it at the file's size: it may not grow
                await command.ExecuteNonQueryAsync(Cancel);
            }
        }
        finally
        {
            foreach (var connection in opened) await connection.DisposeAsync();
        }
    }
}
