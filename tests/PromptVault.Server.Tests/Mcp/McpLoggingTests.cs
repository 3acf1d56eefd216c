using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using PromptVault.Core.Auth;
using PromptVault.Storage.Sqlite;
using static PromptVault.Server.Tests.ApiCalls;

namespace PromptVault.Server.Tests.Mcp;

/// <summary>What the server logs when an MCP client's <c>prompts/get</c> is refused: one line with the reason, no stack trace.</summary>
public sealed class McpLoggingTests(BusyStoreServerFixture fixture) : IClassFixture<BusyStoreServerFixture>
{
    [Fact]
    public async Task PromptsGet_UnknownPromptOrBadArguments_ClientGetsTheError_ServerLogsOneLineWithTheReason()
    {
        var ct = TestContext.Current.CancellationToken;
        using var admin = fixture.Server.CreateClient();
        var served = await CreateSupportPromptAsync(admin);
        await PutAsync(admin, $"/api/prompts/{served}/labels/production", new { version = "1.0.0" });
        var unknown = UniqueName("nobody");
        await using var client = await McpEndpointTests.ConnectAsync(fixture.Server, await fixture.Server.CreateKeyAsync("agent", ApiKeyRole.Reader, ct));

        var missing = await Assert.ThrowsAsync<McpProtocolException>(async () => await client.GetPromptAsync(unknown, cancellationToken: ct));
        var bad = await Assert.ThrowsAsync<McpProtocolException>(async () => await client.GetPromptAsync(served, cancellationToken: ct));

        Assert.Contains($"prompt '{unknown}' does not exist", missing.Message, StringComparison.Ordinal);
        Assert.Contains("company_name", bad.Message, StringComparison.Ordinal);
        var lines = fixture.Logs.Lines;
        foreach (var (prompt, reason) in new[] { (unknown, "does not exist"), (served, "company_name") })
        {
            var refused = Assert.Single(lines, l => l.EventId == 2201 && l.Message.Contains($"'{prompt}'", StringComparison.Ordinal));
            Assert.Equal(LogLevel.Information, refused.Level);
            Assert.Contains(reason, refused.Message, StringComparison.Ordinal);
        }
        Assert.DoesNotContain(lines, l => (l.Message.Contains(unknown, StringComparison.Ordinal) || l.Message.Contains("company_name", StringComparison.Ordinal))
            && l.Message.Contains("   at ", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Level >= LogLevel.Error && (l.Message.Contains(unknown, StringComparison.Ordinal) || l.Message.Contains(served, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Complete_AnArgumentThePromptDoesNotTake_IsLoggedAsOneRefusalLine()
    {
        var ct = TestContext.Current.CancellationToken;
        using var admin = fixture.Server.CreateClient();
        var served = await CreateSupportPromptAsync(admin);
        await PutAsync(admin, $"/api/prompts/{served}/labels/production", new { version = "1.0.0" });
        await using var client = await McpEndpointTests.ConnectAsync(fixture.Server, await fixture.Server.CreateKeyAsync("agent", ApiKeyRole.Reader, ct));

        await Assert.ThrowsAsync<McpProtocolException>(async () =>
            await client.CompleteAsync(new ModelContextProtocol.Protocol.PromptReference { Name = served }, "compnay", "", cancellationToken: ct));

        var refused = Assert.Single(fixture.Logs.Lines, l => l.Message.Contains($"'{served}'", StringComparison.Ordinal));
        Assert.Equal((2201, LogLevel.Information), (refused.EventId, refused.Level));
        Assert.StartsWith($"MCP completion/complete of '{served}' refused (unknown_argument): prompt '{served}' version 1.0.0 has no argument 'compnay'", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ALoneSurrogateInArguments_IsInvalidParamsNamingTheArgument_AndLoggedOnce()
    {
        var ct = TestContext.Current.CancellationToken;
        using var admin = fixture.Server.CreateClient();
        var served = await CreateSupportPromptAsync(admin);
        await PutAsync(admin, $"/api/prompts/{served}/labels/production", new { version = "1.0.0" });
        using var agent = fixture.Server.CreateClient(await fixture.Server.CreateKeyAsync("agent", ApiKeyRole.Reader, ct));

        // Raw JSON-RPC: the SDK's client would send a lone surrogate as U+FFFD, a hostile or broken client sends the escape.
        var tool = await SendAsync(agent, """{"name":"get_prompt","arguments":{"name":"a\ud800"}}""", "tools/call");
        var prompt = await SendAsync(agent, $$$"""{"name":"{{{served}}}","arguments":{"company_name":"Acme\ud800"}}""", "prompts/get");

        Assert.Equal((int)McpErrorCode.InvalidParams, tool["code"]!.GetValue<int>());
        Assert.StartsWith("'arguments.name' holds text that is not valid UTF-16", tool.Str("message"), StringComparison.Ordinal);
        Assert.Equal((int)McpErrorCode.InvalidParams, prompt["code"]!.GetValue<int>());
        Assert.StartsWith("'arguments.company_name' holds text that is not valid UTF-16", prompt.Str("message"), StringComparison.Ordinal);
        var lines = fixture.Logs.Lines;
        Assert.Single(lines, l => l.EventId == 2201 && l.Message.Contains("MCP tools/call of 'get_prompt' refused (invalid_text): 'arguments.name'", StringComparison.Ordinal));
        Assert.Single(lines, l => l.EventId == 2201 && l.Message.Contains($"MCP prompts/get of '{served}' refused (invalid_text): 'arguments.company_name'", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("prompts/get", """{"\ud800":1,"name":"NAME"}""", "'params'")]
    [InlineData("tools/call", """{"\ud800":1,"name":"get_prompt","arguments":{"name":"NAME"}}""", "'params'")]
    [InlineData("prompts/get", """{"_meta":{"\ud800":1},"name":"NAME"}""", "'_meta'")]
    public async Task ALoneSurrogateInAParamsPropertyName_IsInvalidParamsNamingWhere_AndLoggedAsARefusal(string method, string parameters, string where)
    {
        var ct = TestContext.Current.CancellationToken;
        var name = UniqueName("surrogate");
        using var agent = fixture.Server.CreateClient(await fixture.Server.CreateKeyAsync("agent", ApiKeyRole.Reader, ct));

        // The SDK reads params' own property names (and _meta's) before any of its filters runs.
        var error = await SendAsync(agent, parameters.Replace("NAME", name, StringComparison.Ordinal), method);

        Assert.Equal((int)McpErrorCode.InvalidParams, error["code"]!.GetValue<int>());
        Assert.StartsWith($"{where} holds text that is not valid UTF-16", error.Str("message"), StringComparison.Ordinal);
        Assert.Single(fixture.Logs.Lines, l => l.EventId == 2201 && l.Message.StartsWith(where == "'params'" ? $"MCP {method} refused" : $"MCP {method} of '{name}' refused", StringComparison.Ordinal)
            && l.Message.Contains($"refused (invalid_text): {where} holds", StringComparison.Ordinal)
            && (where == "'params'" || l.Message.Contains(name, StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"prompts/\ud800","params":{}}""", "'method'")]
    [InlineData("""{"jsonrpc":"2.0","id":"a\ud800","method":"prompts/list","params":{}}""", "'id'")]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"prompts/list","\ud800":1,"params":{}}""", "A property name of the message")]
    public async Task ALoneSurrogateInTheMessagesMethodIdOrPropertyNames_IsAnInvalidRequestNamingWhere_AndLoggedAsARefusal(string message, string where)
    {
        var ct = TestContext.Current.CancellationToken;
        using var agent = fixture.Server.CreateClient(await fixture.Server.CreateKeyAsync("agent", ApiKeyRole.Reader, ct));

        var error = await SendRawAsync(agent, message);

        Assert.Equal((int)McpErrorCode.InvalidRequest, error["code"]!.GetValue<int>());
        Assert.Equal($"{where} holds text that is not valid UTF-16 (a lone surrogate such as \\ud800, or bytes that are not UTF-8).", error.Str("message"));
        Assert.Single(fixture.Logs.Lines, l => l.EventId == 2201 && l.Message.Contains($"refused (invalid_text): {where} holds", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("""{"jsonrpc":"2.0","id":1,"id":2,"method":"tools/list"}""")]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_prompts","name":"get_prompt","arguments":{}}}""")]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"render_prompt","arguments":{"name":"x","variables":{"a":1,"a":2}}}}""")]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"prompts/get","params":{"name":"x","arguments":{"company_name":"A","company_name":"B"}}}""")]
    public async Task APropertyNameGivenTwice_IsAnInvalidRequestSayingSo_AndLoggedAsARefusal(string message)
    {
        var ct = TestContext.Current.CancellationToken;
        using var agent = fixture.Server.CreateClient(await fixture.Server.CreateKeyAsync("agent", ApiKeyRole.Reader, ct));
        var before = fixture.Logs.Lines.Count;

        var error = await SendRawAsync(agent, message);

        Assert.Equal((int)McpErrorCode.InvalidRequest, error["code"]!.GetValue<int>());
        Assert.StartsWith("The message gives a property name twice in one object", error.Str("message"), StringComparison.Ordinal);
        var lines = fixture.Logs.Lines.Skip(before).ToList();
        Assert.Contains(lines, l => l.EventId == 2201 && l.Message.Contains("refused (duplicate_property)", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Level >= LogLevel.Error);
    }

    /// <summary>
    /// A message that is not one JSON-RPC request is an invalid request (-32600, null id, HTTP 400) naming what is wrong with it,
    /// logged as a refusal: the SDK's own answer named .NET types ("could not be converted to ModelContextProtocol.Protocol.RequestId")
    /// or misled (a message without a method was "a response without result or error"). Text that is not JSON keeps the SDK's
    /// answer, which quotes the JSON reader.
    /// </summary>
    [Theory]
    [InlineData("""[{"jsonrpc":"2.0","id":1,"method":"tools/list"}]""", "The message is a JSON array (a JSON-RPC batch); MCP takes one JSON-RPC message, a JSON object, per request.")]
    [InlineData("5", "The message is a number; a JSON-RPC message is a JSON object with jsonrpc, method and id.")]
    [InlineData("""{"id":1,"method":"tools/list"}""", "'jsonrpc' is required: a JSON-RPC message has \"jsonrpc\": \"2.0\".")]
    [InlineData("""{"jsonrpc":2,"id":1,"method":"tools/list"}""", "'jsonrpc' must be \"2.0\", a string.")]
    [InlineData("""{"jsonrpc":"2.0","id":1}""", "'method' is required: the message is neither a request (method and id), a notification (method) nor a response (result or error).")]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":5}""", "'method' must be a string, such as \"tools/list\".")]
    [InlineData("""{"jsonrpc":"2.0","id":true,"method":"tools/list"}""", "'id' must be a string or a whole number; leave it out for a notification.")]
    [InlineData("""{"jsonrpc":"2.0","id":1.5,"method":"tools/list"}""", "'id' must be a string or a whole number; leave it out for a notification.")]
    [InlineData("""{"jsonrpc":"2.0","id":null,"method":"tools/list"}""", "'id' must be a string or a whole number; leave it out for a notification.")]
    [InlineData("not json", "Bad Request: The POST body did not contain a valid JSON-RPC message: 'not json' is an invalid JSON literal.")]
    public async Task AMalformedMessage_IsAnInvalidRequestNamingTheProblem(string message, string answer)
    {
        var ct = TestContext.Current.CancellationToken;
        using var agent = fixture.Server.CreateClient(await fixture.Server.CreateKeyAsync("agent", ApiKeyRole.Reader, ct));
        var before = fixture.Logs.Lines.Count;

        var (status, reply) = await PostAsync(agent, message);

        Assert.Equal(400, status);
        Assert.Null(reply["id"]);
        Assert.Equal((int)McpErrorCode.InvalidRequest, reply["error"]!["code"]!.GetValue<int>());
        Assert.StartsWith(answer, reply["error"].Str("message"), StringComparison.Ordinal);
        if (message != "not json")
            Assert.Contains(fixture.Logs.Lines.Skip(before), l => l.EventId == 2201 && l.Message.Contains($"refused (invalid_request): {answer}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task PromptsList_WithACursorThisServerNeverGave_IsInvalidParamsNamingIt_LoggedAsARefusal()
    {
        var ct = TestContext.Current.CancellationToken;
        using var agent = fixture.Server.CreateClient(await fixture.Server.CreateKeyAsync("agent", ApiKeyRole.Reader, ct));

        var error = await SendAsync(agent, """{"cursor":"garbage-cursor"}""", "prompts/list");

        Assert.Equal((int)McpErrorCode.InvalidParams, error["code"]!.GetValue<int>());
        Assert.StartsWith("cursor 'garbage-cursor' is not one this server gave", error.Str("message"), StringComparison.Ordinal);
        Assert.Single(fixture.Logs.Lines, l => l.EventId == 2201 && l.Message.Contains("prompts/list", StringComparison.Ordinal)
            && l.Message.Contains("refused (invalid_cursor)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task PromptsGet_WhileTheStoreIsBusy_AnswersTheStoreBusyMessage_LoggedAsARefusalNotAFault()
    {
        var ct = TestContext.Current.CancellationToken;
        using var admin = fixture.Server.CreateClient();
        var served = await CreateSupportPromptAsync(admin);
        await PutAsync(admin, $"/api/prompts/{served}/labels/production", new { version = "1.0.0" });
        await using var client = await McpEndpointTests.ConnectAsync(fixture.Server, await fixture.Server.CreateKeyAsync("agent", ApiKeyRole.Reader, ct));

        var busy = await WhileTheStoreIsLockedAsync(() => Assert.ThrowsAnyAsync<McpException>(async () => await client.GetPromptAsync(served,
            new Dictionary<string, object?> { ["company_name"] = "Acme" }, cancellationToken: ct)));

        Assert.Contains("The database is busy; retry the request.", busy.Message, StringComparison.Ordinal);
        var refused = Assert.Single(fixture.Logs.Lines, l => l.EventId == 2201 && l.Message.Contains($"MCP prompts/get of '{served}' refused (store_busy)", StringComparison.Ordinal));
        Assert.Equal(LogLevel.Information, refused.Level);
        Assert.DoesNotContain(fixture.Logs.Lines, l => l.Level >= LogLevel.Error && l.Message.Contains(served, StringComparison.Ordinal));
    }

    [Fact]
    public async Task PromptsList_WhileTheStoreIsBusy_AnswersTheStoreBusyMessage_LoggedAsARefusalNotAFault()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var client = await McpEndpointTests.ConnectAsync(fixture.Server, await fixture.Server.CreateKeyAsync("agent", ApiKeyRole.Reader, ct));

        var busy = await WhileTheStoreIsLockedAsync(() => Assert.ThrowsAnyAsync<McpException>(async () => await client.ListPromptsAsync(cancellationToken: ct)));

        Assert.Contains("The database is busy; retry the request.", busy.Message, StringComparison.Ordinal);
        var refused = Assert.Single(fixture.Logs.Lines, l => l.EventId == 2201 && l.Message.Contains("MCP prompts/list refused (store_busy)", StringComparison.Ordinal));
        Assert.Equal(LogLevel.Information, refused.Level);
        Assert.DoesNotContain(fixture.Logs.Lines, l => l.Level >= LogLevel.Error && l.Message.Contains("prompts/list", StringComparison.Ordinal));
    }

    /// <summary>Runs <paramref name="action"/> while another connection holds the server's SQLite database locked.</summary>
    private async Task<T> WhileTheStoreIsLockedAsync<T>(Func<Task<T>> action)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var writeLock = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = fixture.Server.DatabasePath, Pooling = false }.ToString());
        await writeLock.OpenAsync(ct);
        using var exclusive = writeLock.CreateCommand();
        // A WAL database lets readers past a writer; a connection in exclusive locking mode keeps its lock, which shuts them out
        // too. It gets that lock once no other connection has the database open, and while it waits (retrying until its command
        // timeout) no new one can start reading. So the server's pooled connections (it runs in-process) are closed until it
        // has the lock, not once before: its background loops (webhook dispatch, every second) open one again, and one opened
        // before the wait began kept the lock from it (under load, often).
        exclusive.CommandText = "PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; COMMIT;";
        var locking = Task.Run(() => exclusive.ExecuteNonQuery(), ct); // Microsoft.Data.Sqlite's async methods block the caller
        using var pooled = new SqliteConnection(fixture.Server.Services.GetRequiredService<SqliteConnectionFactory>().ConnectionString);
        await Eventually(() =>
        {
            SqliteConnection.ClearPool(pooled);
            return locking.IsCompleted;
        });
        await locking;
        return await action();
    }

    [Theory]
    [InlineData("prompts/get", "{\"name\":\"NAME\",\"arguments\":\"x\"}", "'arguments' has a value of the wrong JSON type: expected an object.")]
    [InlineData("tools/call", "{\"name\":\"NAME\",\"arguments\":\"x\"}", "'arguments' has a value of the wrong JSON type: expected an object.")]
    [InlineData("prompts/get", "{\"name\":[\"NAME\"]}", "'name' has a value of the wrong JSON type: expected a string.")]
    [InlineData("tools/call", "{\"arguments\":{\"name\":\"NAME\"}}", "'name' is required.")]
    [InlineData("prompts/get", "{\"arguments\":{\"company_name\":\"NAME\"}}", "'name' is required.")]
    [InlineData("completion/complete", "{\"argument\":{\"name\":\"company_name\",\"value\":\"NAME\"}}", "'ref' is required.")]
    [InlineData("completion/complete", "{\"ref\":{\"type\":\"ref/prompt\",\"name\":\"NAME\"}}", "'argument' is required.")]
    [InlineData("completion/complete", "{}", "'ref' and 'argument' are required.")]
    [InlineData("initialize", "{}", "'protocolVersion', 'capabilities' and 'clientInfo' are required.")]
    [InlineData("logging/setLevel", "{\"level\":\"verbose\"}", "'level' must be one of debug, info, notice, warning, error, critical, alert, emergency, a string spelled exactly so, not \"verbose\".")]
    [InlineData("logging/setLevel", "{}", "'level' is required.")]
    [InlineData("prompts/get", "5", "params must be a JSON object.")]
    [InlineData("tools/call", "[\"NAME\"]", "params must be a JSON object.")]
    public async Task ParamsOfTheWrongShape_AreInvalidParamsNamingTheField_LoggedAsARefusalNotAFault(string method, string parameters, string message)
    {
        var ct = TestContext.Current.CancellationToken;
        var name = UniqueName("unbound");
        using var agent = fixture.Server.CreateClient(await fixture.Server.CreateKeyAsync("agent", ApiKeyRole.Reader, ct));

        // The SDK reads these params into its own types before any of our request filters runs.
        var error = await SendAsync(agent, parameters.Replace("NAME", name, StringComparison.Ordinal), method);

        Assert.Equal((int)McpErrorCode.InvalidParams, error["code"]!.GetValue<int>());
        Assert.Equal(message, error.Str("message"));
        Assert.DoesNotContain(fixture.Logs.Lines, l => l.Level >= LogLevel.Error && l.Message.Contains(method, StringComparison.Ordinal)
            && (l.Message.Contains(name, StringComparison.Ordinal) || l.Message.Contains("''", StringComparison.Ordinal)));
    }

    /// <summary>The log line says what the caller was told, not System.Text.Json's words (which named <c>System.Nullable`1[…VersionBump]</c>).</summary>
    [Fact]
    public async Task ToolsCall_AnArgumentOfTheWrongValue_IsLoggedInTheWordsTheCallerGot()
    {
        var ct = TestContext.Current.CancellationToken;
        using var admin = fixture.Server.CreateClient();
        var served = await CreateSupportPromptAsync(admin);
        await using var client = await McpEndpointTests.ConnectAsync(fixture.Server, await fixture.Server.CreateKeyAsync("agent", ApiKeyRole.Writer, ct));

        var result = await client.CallToolAsync("create_version", new Dictionary<string, object?>
        {
            ["name"] = served, ["content"] = "Support for {{company_name}}.", ["changeDescription"] = "typed", ["bump"] = "enormous",
        }, cancellationToken: ct);

        Assert.True(result.IsError);
        var refused = Assert.Single(fixture.Logs.Lines, l => l.EventId == 2201 && l.Message.Contains("'create_version'", StringComparison.Ordinal)
            && l.Message.Contains("bump", StringComparison.OrdinalIgnoreCase));
        Assert.Equal("MCP tools/call of 'create_version' refused (invalid_arguments): 'bump' must be one of patch, minor, major, a string spelled exactly so, not \"enormous\".", refused.Message);
    }

    [Fact]
    public async Task AnUnknownTool_IsInvalidParams_WithNoInternalMarkerInItsData()
    {
        var ct = TestContext.Current.CancellationToken;
        using var agent = fixture.Server.CreateClient(await fixture.Server.CreateKeyAsync("agent", ApiKeyRole.Reader, ct));

        var error = await SendAsync(agent, """{"name":"no_such_tool","arguments":{}}""", "tools/call");

        Assert.Equal((int)McpErrorCode.InvalidParams, error["code"]!.GetValue<int>());
        Assert.Equal("Unknown tool: 'no_such_tool'", error.Str("message"));
        Assert.Null(error["data"]);
    }

    /// <summary>Posts one JSON-RPC request to <c>/mcp</c> and returns its error.</summary>
    private static Task<JsonNode> SendAsync(HttpClient client, string parameters, string method) =>
        SendRawAsync(client, $$$"""{"jsonrpc":"2.0","id":1,"method":"{{{method}}}","params":{{{parameters}}}}""");

    private static async Task<JsonNode> SendRawAsync(HttpClient client, string message) =>
        (await PostAsync(client, message)).Reply["error"] ?? throw new Xunit.Sdk.XunitException("Not an error.");

    /// <summary>Posts one message to <c>/mcp</c>: the HTTP status and the JSON-RPC answer (from an event stream or a JSON body).</summary>
    private static async Task<(int Status, JsonNode Reply)> PostAsync(HttpClient client, string message)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/mcp")
        {
            Content = new StringContent(message, Encoding.UTF8, "application/json"),
        };
        request.Headers.Accept.ParseAdd("application/json");
        request.Headers.Accept.ParseAdd("text/event-stream");
        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        var json = body.Split('\n').FirstOrDefault(line => line.StartsWith("data: ", StringComparison.Ordinal))?["data: ".Length..] ?? body;
        return ((int)response.StatusCode, JsonNode.Parse(json) ?? throw new Xunit.Sdk.XunitException($"No answer: {body}"));
    }
}
