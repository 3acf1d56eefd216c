using System.Net;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using PromptVault.Core;
using PromptVault.Core.Auth;
using PromptVault.Core.Prompts;
using static PromptVault.Server.Tests.ApiCalls;

namespace PromptVault.Server.Tests.Mcp;

/// <summary>The official MCP client (Streamable HTTP) against a real server on loopback: prompts, tools, roles, errors.</summary>
public sealed class McpEndpointTests(BusyStoreServerFixture fixture) : IClassFixture<BusyStoreServerFixture>
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task PromptsList_ServesProductionPromptsWithTheirVariablesAsTypedArguments()
    {
        var (served, unserved) = await CreateServedAndUnservedPromptsAsync();
        await using var client = await ConnectAsync(await fixture.Server.CreateKeyAsync("agent", ApiKeyRole.Reader, Cancellation));

        var prompts = await client.ListPromptsAsync(cancellationToken: Cancellation);

        var prompt = Assert.Single(prompts, p => p.Name == served).ProtocolPrompt;
        Assert.DoesNotContain(prompts, p => p.Name == unserved);
        Assert.Equal("Customer support system prompt", prompt.Description);
        var arguments = prompt.Arguments!.ToDictionary(a => a.Name);
        Assert.Equal(["company_name", "customer_name", "previous_messages"], arguments.Keys.Order());
        Assert.True(arguments["company_name"].Required);
        Assert.Equal("The company (string)", arguments["company_name"].Description);
        Assert.False(arguments["previous_messages"].Required);
        Assert.Equal("(array)", arguments["previous_messages"].Description);
    }

    [Fact]
    public async Task PromptsGet_RendersTheProductionVersionAsTheRestRenderDoes()
    {
        var (name, _) = await CreateServedAndUnservedPromptsAsync();
        await using var client = await ConnectAsync(await fixture.Server.CreateKeyAsync("agent", ApiKeyRole.Reader, Cancellation));
        using var rest = fixture.Server.CreateClient();

        // MCP clients send arguments as strings: the array variable's value is JSON text.
        var result = await client.GetPromptAsync(name, new Dictionary<string, object?>
        {
            ["company_name"] = "Acme",
            ["previous_messages"] = """[{"role":"user","content":"my order is late"}]""",
        }, cancellationToken: Cancellation);
        var (_, rendered) = await PostAsync(rest, $"/api/prompts/{name}/render", new
        {
            variables = new { company_name = "Acme", previous_messages = new[] { new { role = "user", content = "my order is late" } } },
        });

        var message = Assert.Single(result.Messages);
        Assert.Equal(Role.User, message.Role);
        var text = Assert.IsType<TextContentBlock>(message.Content).Text;
        Assert.Equal(rendered.Str("content"), text);
        Assert.Contains("agent for Acme.", text);
        Assert.Contains("user: my order is late", text);
    }

    [Fact]
    public async Task PromptsGet_PromptWithAnInclude_ListsIncludedVariablesAndRendersTheInclude()
    {
        var (_, includer) = await CreateServedIncluderAsync();
        await using var client = await ConnectAsync(await fixture.Server.CreateKeyAsync("agent", ApiKeyRole.Reader, Cancellation));

        var listed = Assert.Single(await client.ListPromptsAsync(cancellationToken: Cancellation), p => p.Name == includer).ProtocolPrompt;
        var result = await client.GetPromptAsync(includer, new Dictionary<string, object?> { ["policy"] = "30 days" }, cancellationToken: Cancellation);

        Assert.True(Assert.Single(listed.Arguments!, a => a.Name == "policy").Required);
        Assert.Equal("Rules. Policy: 30 days.", Assert.IsType<TextContentBlock>(Assert.Single(result.Messages).Content).Text);
    }

    [Fact]
    public async Task PromptsList_AnIncludedPromptPromotedToAVersionRequiringMore_ListsWhatTheIncluderRendersWithNow()
    {
        using var admin = fixture.Server.CreateClient();
        var (guard, includer) = await CreateServedIncluderAsync();
        var (created, guardNext) = await PostAsync(admin, $"/api/prompts/{guard}/versions", new { content = "Policy: {{policy}} in {{region}}.", changeDescription = "by region",
            variables = new[] { new { name = "policy", type = "string", required = true }, new { name = "region", type = "string", required = true } } });
        Assert.Equal(HttpStatusCode.Created, created);
        Assert.Equal(HttpStatusCode.OK, (await PutAsync(admin, $"/api/prompts/{guard}/labels/production", new { version = guardNext.Str("version") })).Status);
        await using var client = await ConnectAsync(await fixture.Server.CreateKeyAsync("agent", ApiKeyRole.Reader, Cancellation));

        var listed = Assert.Single(await client.ListPromptsAsync(cancellationToken: Cancellation), p => p.Name == includer).ProtocolPrompt;
        var arguments = listed.Arguments!.ToDictionary(a => a.Name, a => a.Required);
        var result = await client.GetPromptAsync(includer, listed.Arguments!.ToDictionary(a => a.Name, a => (object?)$"<{a.Name}>"), cancellationToken: Cancellation);

        Assert.Equal(["policy", "region"], arguments.Keys.Order());
        Assert.True(arguments["region"]);
        Assert.Equal("Rules. Policy: <policy> in <region>.", Assert.IsType<TextContentBlock>(Assert.Single(result.Messages).Content).Text);
    }

    [Fact]
    public async Task PromptsGet_BadArguments_FailWithAnErrorNamingTheProblem()
    {
        var (name, unserved) = await CreateServedAndUnservedPromptsAsync();
        await using var client = await ConnectAsync(fixture.Server.AdminKey);

        var missing = await Assert.ThrowsAsync<McpProtocolException>(() => client.GetPromptAsync(name, cancellationToken: Cancellation).AsTask());
        var wrongType = await Assert.ThrowsAsync<McpProtocolException>(() => client.GetPromptAsync(name,
            new Dictionary<string, object?> { ["company_name"] = "Acme", ["previous_messages"] = "not a list" }, cancellationToken: Cancellation).AsTask());
        var notServed = await Assert.ThrowsAsync<McpProtocolException>(() => client.GetPromptAsync(unserved, cancellationToken: Cancellation).AsTask());

        Assert.Equal(McpErrorCode.InvalidParams, missing.ErrorCode);
        Assert.Contains("company_name", missing.Message);
        Assert.Contains("previous_messages", wrongType.Message);
        Assert.Contains("no production version", notServed.Message);
    }

    [Fact]
    public async Task PromptsGet_AnArgumentThePromptDoesNotDeclare_IsIgnored_AsTheRestRenderIgnoresIt()
    {
        var (name, _) = await CreateServedAndUnservedPromptsAsync();
        await using var client = await ConnectAsync(fixture.Server.AdminKey);

        var declared = await client.GetPromptAsync(name, new Dictionary<string, object?> { ["company_name"] = "Acme" }, cancellationToken: Cancellation);
        var withExtra = await client.GetPromptAsync(name,
            new Dictionary<string, object?> { ["company_name"] = "Acme", ["compnay"] = "typo" }, cancellationToken: Cancellation);

        Assert.Equal(Assert.IsType<TextContentBlock>(Assert.Single(declared.Messages).Content).Text,
            Assert.IsType<TextContentBlock>(Assert.Single(withExtra.Messages).Content).Text);
    }

    [Fact]
    public async Task Tools_AReaderCallsEachReadTool_AndIsNeitherShownNorAllowedCreateVersion()
    {
        using var admin = fixture.Server.CreateClient();
        var (name, versionIds) = await Experiments.CreatePromptWithChallengersAsync(admin);
        var experiment = await Experiments.CreateAsync(admin, Experiments.ThreeWay(name, versionIds));
        await using var client = await ConnectAsync(await fixture.Server.CreateKeyAsync("agent", ApiKeyRole.Reader, Cancellation));

        var tools = await client.ListToolsAsync(cancellationToken: Cancellation);
        var list = await CallAsync(client, "list_prompts", new() { ["category"] = "support" });
        var version = await CallAsync(client, "get_prompt", new() { ["name"] = name });
        var render = await CallAsync(client, "render_prompt", new() { ["name"] = name, ["version"] = "1.0.1", ["variables"] = new { company_name = "Acme" } });
        var results = await CallAsync(client, "experiment_results", new() { ["id"] = experiment.Str("id") });
        var write = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("create_version",
            new Dictionary<string, object?> { ["name"] = name, ["content"] = "x", ["changeDescription"] = "x" }, cancellationToken: Cancellation).AsTask());

        Assert.Equal(["experiment_results", "get_prompt", "list_prompts", "render_prompt"], tools.Select(t => t.Name).Order());
        Assert.Contains(list["prompts"]!.AsArray(), p => p.Str("name") == name);
        Assert.Equal("1.0.0", version.Str("version"));
        Assert.Equal("Hey there! Support for Acme here.", render.Str("content"));
        Assert.Equal(experiment.Str("id"), results.Str("experimentId"));
        Assert.Equal(McpErrorCode.InvalidRequest, write.ErrorCode);
        Assert.Equal("Request failed (remote): This API key's role (reader) may not call create_version; it needs a key whose role is writer or admin.", write.Message);
        var (_, versions) = await GetAsync(admin, $"/api/prompts/{name}/versions");
        Assert.Equal(3, versions!["versions"]!.AsArray().Count);
    }

    [Fact]
    public async Task ToolsList_IntegerArguments_AreTypedIntegersWithTheirRange()
    {
        await using var client = await ConnectAsync(await fixture.Server.CreateKeyAsync("agent", ApiKeyRole.Reader, Cancellation));

        var listPrompts = Assert.Single(await client.ListToolsAsync(cancellationToken: Cancellation), t => t.Name == "list_prompts");

        var properties = JsonNode.Parse(listPrompts.JsonSchema.GetRawText())!["properties"]!;
        foreach (var paging in new[] { "limit", "offset" })
        {
            Assert.Equal("""["integer","null"]""", properties[paging]!["type"]!.ToJsonString());
            Assert.Equal("int32", properties[paging]!.Str("format"));
        }
        // The range GET /api/prompts checks (PageRequest), so a client can offer or check it before calling.
        Assert.Equal(1, properties["limit"]!["minimum"]!.GetValue<int>());
        Assert.Equal(1000, properties["limit"]!["maximum"]!.GetValue<int>());
        Assert.Equal(0, properties["offset"]!["minimum"]!.GetValue<int>());
        Assert.Equal(int.MaxValue, properties["offset"]!["maximum"]!.GetValue<int>());
        // The range is said once, by minimum and maximum.
        Assert.Equal("At most this many prompts; 100 when omitted", properties["limit"]!.Str("description"));
        Assert.Equal("""["string","null"]""", properties["tag"]!["type"]!.ToJsonString());
    }

    [Fact]
    public async Task ToolsList_ListPromptsTypeFilter_ListsEveryPromptType()
    {
        await using var client = await ConnectAsync(await fixture.Server.CreateKeyAsync("agent", ApiKeyRole.Reader, Cancellation));

        var listPrompts = Assert.Single(await client.ListToolsAsync(cancellationToken: Cancellation), t => t.Name == "list_prompts");

        // An agent picks the filter from the schema, so it lists every type GET /api/prompts?type= takes (chat included), and
        // null, which leaves the filter out.
        var type = JsonNode.Parse(listPrompts.JsonSchema.GetRawText())!["properties"]!["type"]!;
        Assert.Equal([.. Names.ListOf(typeof(PromptType)), null], type["enum"]!.AsArray().Select(value => value?.GetValue<string>()));
        Assert.Equal("Only prompts of this type", type.Str("description"));
    }

    [Fact]
    public async Task ServerInfo_IsTheProductsVersion_NotTheAssemblys()
    {
        await using var client = await ConnectAsync(await fixture.Server.CreateKeyAsync("agent", ApiKeyRole.Reader, Cancellation));

        var product = typeof(PromptVault.Server.Hosting.OpenApiSetup).Assembly
            .GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion.Split('+')[0];
        var info = Assert.IsType<Implementation>(client.ServerInfo);
        Assert.Equal("PromptVault", info.Name);
        Assert.Equal(product, info.Version);
        Assert.Equal(3, product.Split('.').Length); // 1.0.0, as promptvault --version prints it; the assembly version is 1.0.0.0
    }

    [Fact]
    public async Task Ping_OnTheLatestRevisionIsNotAMethod_OnAnInitializeRevisionAnswers()
    {
        var key = await fixture.Server.CreateKeyAsync("agent", ApiKeyRole.Reader, Cancellation);
        await using var latest = await ConnectAsync(key);
        await using var initialized = await ConnectAsync(fixture.Server, key, "2025-11-25");

        // The SDK's transport refuses it with HTTP 404 before the server's session sees it, so the client meets an HTTP error.
        var removed = await Assert.ThrowsAsync<HttpRequestException>(() => latest.PingAsync(cancellationToken: Cancellation).AsTask());
        await initialized.PingAsync(cancellationToken: Cancellation);

        Assert.Equal(HttpStatusCode.NotFound, removed.StatusCode);
        Assert.Contains("""{"error":{"code":-32601,"message":"Method \u0027ping\u0027 is not available on protocol version \u00272026-07-28\u0027."}""", removed.Message);
        Assert.Equal("2026-07-28", latest.NegotiatedProtocolVersion);
        Assert.Equal("2025-11-25", initialized.NegotiatedProtocolVersion);
    }

    [Fact]
    public async Task ListPrompts_ManyPrompts_AnswersAPageAtATimeAsTheRestApiDoes()
    {
        using var admin = fixture.Server.CreateClient();
        var category = UniqueName("many");
        var names = new List<string>();
        for (var i = 0; i < 250; i++)
        {
            var prompt = JsonNode.Parse(JsonSerializer.Serialize(SupportPrompt(UniqueName())))!.AsObject();
            prompt["category"] = category;
            var (status, body) = await PostAsync(admin, "/api/prompts", prompt);
            Assert.True(status == HttpStatusCode.Created, body?.ToJsonString());
            names.Add(prompt["name"]!.GetValue<string>());
        }
        await using var client = await ConnectAsync(fixture.Server.AdminKey);

        var first = await CallAsync(client, "list_prompts", new() { ["category"] = category });
        var last = await CallAsync(client, "list_prompts", new() { ["category"] = category, ["limit"] = 100, ["offset"] = 200 });
        var tooMany = await client.CallToolAsync("list_prompts", new Dictionary<string, object?> { ["limit"] = 5000 }, cancellationToken: Cancellation);

        var ordered = names.Order(StringComparer.Ordinal).ToList();
        Assert.Equal(ordered[..100], first["prompts"]!.AsArray().Select(p => p.Str("name")));
        Assert.Equal(250, first["total"]!.GetValue<int>());
        Assert.Equal(ordered[200..], last["prompts"]!.AsArray().Select(p => p.Str("name")));
        Assert.True(tooMany.IsError);
        Assert.Contains("limit must be between 1 and 1000", Text(tooMany));
    }

    /// <summary>A paging argument that is not a whole number says so, as the REST query does, and not an int's range.</summary>
    [Theory]
    [InlineData("limit", "abc", "\"abc\" is not a whole number: limit must be between 1 and 1000, written in digits (100, not 1e2 or 100.0).")]
    [InlineData("offset", 1.5, "1.5 is not a whole number: offset must be between 0 and 2147483647, written in digits (100, not 1e2 or 100.0).")]
    [InlineData("limit", 99999999999, "limit must be between 1 and 1000; it is 99999999999.")]
    public async Task ListPrompts_APagingArgumentNotAWholeNumber_SaysSoWithItsRange(string argument, object value, string error)
    {
        await using var client = await ConnectAsync(fixture.Server.AdminKey);

        var refused = await client.CallToolAsync("list_prompts", new Dictionary<string, object?> { [argument] = value }, cancellationToken: Cancellation);

        Assert.True(refused.IsError);
        Assert.Contains(error, Text(refused));
    }

    [Fact]
    public async Task CreateVersion_AsWriter_CreatesTheNextVersionInTheKeysName()
    {
        var (name, _) = await CreateServedAndUnservedPromptsAsync();
        await using var client = await ConnectAsync(await fixture.Server.CreateKeyAsync("mcp-author", ApiKeyRole.Writer, Cancellation));

        var tools = await client.ListToolsAsync(cancellationToken: Cancellation);
        var created = await CallAsync(client, "create_version", new()
        {
            ["name"] = name,
            ["content"] = "Support for {{company_name}}, briefly.",
            ["changeDescription"] = "shorter",
        });

        Assert.Contains(tools, t => t.Name == "create_version");
        Assert.Equal("1.0.1", created.Str("version"));
        Assert.Equal("mcp-author", created.Str("createdBy"));
    }

    [Fact]
    public async Task Tools_BadArguments_AnswerAnErrorNamingTheProblem()
    {
        var (name, _) = await CreateServedAndUnservedPromptsAsync();
        await using var client = await ConnectAsync(fixture.Server.AdminKey);

        var missingVariable = await client.CallToolAsync("render_prompt", new Dictionary<string, object?> { ["name"] = name }, cancellationToken: Cancellation);
        var unknownPrompt = await client.CallToolAsync("get_prompt", new Dictionary<string, object?> { ["name"] = "no-such-prompt" }, cancellationToken: Cancellation);
        var badType = await client.CallToolAsync("list_prompts", new Dictionary<string, object?> { ["type"] = "poem" }, cancellationToken: Cancellation);
        var noName = await client.CallToolAsync("get_prompt", new Dictionary<string, object?>(), cancellationToken: Cancellation);
        var labelAndVersion = await client.CallToolAsync("render_prompt", new Dictionary<string, object?>
        {
            ["name"] = name, ["label"] = "staging", ["version"] = "1.0.0", ["variables"] = new { company_name = "Acme" },
        }, cancellationToken: Cancellation);

        Assert.True(labelAndVersion.IsError);
        Assert.Equal("label and version cannot be given together: version renders that exact version, label the version under the label.", Text(labelAndVersion));
        Assert.True(missingVariable.IsError);
        Assert.Contains("company_name", Text(missingVariable));
        Assert.True(unknownPrompt.IsError);
        Assert.Contains("no-such-prompt", Text(unknownPrompt));
        Assert.True(badType.IsError);
        Assert.Contains("type 'poem' is not one of", Text(badType));
        Assert.True(noName.IsError);
        Assert.Equal("'name' is required.", Text(noName));
    }

    [Fact]
    public async Task CreateVersion_AnArgumentItDoesNotTake_IsRefusedNamingIt_AndCreatesNothing()
    {
        var (name, _) = await CreateServedAndUnservedPromptsAsync();
        await using var client = await ConnectAsync(fixture.Server.AdminKey);
        var before = await client.CallToolAsync("get_prompt", new Dictionary<string, object?> { ["name"] = name, ["version"] = "latest" }, cancellationToken: Cancellation);

        var misspelt = await client.CallToolAsync("create_version", new Dictionary<string, object?>
        {
            ["name"] = name, ["content"] = "Support for {{company_name}}.", ["changeDescription"] = "bigger", ["bumps"] = "major",
        }, cancellationToken: Cancellation);
        var after = await client.CallToolAsync("get_prompt", new Dictionary<string, object?> { ["name"] = name, ["version"] = "latest" }, cancellationToken: Cancellation);

        Assert.True(misspelt.IsError);
        Assert.Equal("'bumps' is not an argument create_version takes; it takes name, changeDescription, content, messages, variables, metadata, bump.", Text(misspelt));
        Assert.Equal(Text(before), Text(after));
    }

    /// <summary>A version's tags and category are display names: one holding a bidi override is refused as through the REST
    /// API (PromptRules.ValidateDisplayName), naming it, and no version is created.</summary>
    [Fact]
    public async Task CreateVersion_ATagOrCategoryWithABidiOverride_IsRefusedNamingIt_AndCreatesNothing()
    {
        var (name, _) = await CreateServedAndUnservedPromptsAsync();
        await using var client = await ConnectAsync(fixture.Server.AdminKey);
        var before = await client.CallToolAsync("get_prompt", new Dictionary<string, object?> { ["name"] = name, ["version"] = "latest" }, cancellationToken: Cancellation);

        Task<CallToolResult> Create(object metadata) => client.CallToolAsync("create_version", new Dictionary<string, object?>
        {
            ["name"] = name, ["content"] = "Support for {{company_name}}.", ["changeDescription"] = "tagged", ["metadata"] = metadata,
        }, cancellationToken: Cancellation).AsTask();
        var tag = await Create(new { tags = new[] { "ok", "ab\u202Ecd" } });
        var category = await Create(new { category = "\u2067support" });
        var after = await client.CallToolAsync("get_prompt", new Dictionary<string, object?> { ["name"] = name, ["version"] = "latest" }, cancellationToken: Cancellation);

        Assert.True(tag.IsError);
        Assert.StartsWith("metadata.tags[1] holds U+202E, an invisible format character, at character 3:", Text(tag), StringComparison.Ordinal);
        Assert.True(category.IsError);
        Assert.StartsWith("metadata.category holds U+2067, an invisible format character, at character 1:", Text(category), StringComparison.Ordinal);
        Assert.Equal(Text(before), Text(after));
    }

    [Fact]
    public async Task Tools_ARequiredArgumentMissing_AnswerAnErrorNamingIt_NotTheSdksParameterMessage()
    {
        var (name, _) = await CreateServedAndUnservedPromptsAsync();
        await using var client = await ConnectAsync(fixture.Server.AdminKey);
        var before = await client.CallToolAsync("get_prompt", new Dictionary<string, object?> { ["name"] = name, ["version"] = "latest" }, cancellationToken: Cancellation);

        var noId = await client.CallToolAsync("experiment_results", new Dictionary<string, object?>(), cancellationToken: Cancellation);
        var noChange = await client.CallToolAsync("create_version", new Dictionary<string, object?> { ["name"] = name, ["content"] = "New." },
            cancellationToken: Cancellation);
        var after = await client.CallToolAsync("get_prompt", new Dictionary<string, object?> { ["name"] = name, ["version"] = "latest" }, cancellationToken: Cancellation);

        Assert.Equal((true, "'id' is required."), (noId.IsError, Text(noId)));
        Assert.Equal((true, "'changeDescription' is required."), (noChange.IsError, Text(noChange)));
        Assert.Equal(Text(before), Text(after));
    }

    [Fact]
    public async Task Tools_ArgumentsOfTheWrongType_AnswerAnErrorNamingTheArgumentAsTheRestApiDoes()
    {
        var (name, _) = await CreateServedAndUnservedPromptsAsync();
        await using var client = await ConnectAsync(fixture.Server.AdminKey);

        Task<CallToolResult> Create(string argument, object value) => client.CallToolAsync("create_version", new Dictionary<string, object?>
        {
            ["name"] = name, ["content"] = "Support for {{company_name}}.", ["changeDescription"] = "typed", [argument] = value,
        }, cancellationToken: Cancellation).AsTask();
        var bump = await Create("bump", "huge");
        var variableType = await Create("variables", new[] { new { name = "company_name", type = "strin" } });
        var temperature = await Create("metadata", new { temperature = "hot" });
        var required = await Create("variables", new[] { new { name = "company_name", type = "string", require = true } });
        var maxTokens = await Create("metadata", new { max_tokens = 256 });
        var variables = await client.CallToolAsync("render_prompt", new Dictionary<string, object?> { ["name"] = name, ["variables"] = "Acme" },
            cancellationToken: Cancellation);

        Assert.All([bump, variableType, temperature, required, maxTokens, variables], result => Assert.True(result.IsError));
        Assert.Equal("'bump' must be one of patch, minor, major, a string spelled exactly so, not \"huge\".", Text(bump));
        Assert.Equal("'variables[0].type' must be one of string, number, boolean, array, object, a string spelled exactly so, not \"strin\".", Text(variableType));
        Assert.Equal("'metadata.temperature' has a value of the wrong JSON type: expected a number.", Text(temperature));
        Assert.Equal("'variables' has a value of the wrong JSON type: expected an object.", Text(variables));
        Assert.Equal("'variables[0].require' is not a field this object takes; it takes name, type, description, required, defaultValue, validation.", Text(required));
        Assert.Equal("'metadata.max_tokens' is not a model setting; metadata takes model, temperature, maxTokens, topP, frequencyPenalty, presencePenalty, tags, category, tools, responseFormat.", Text(maxTokens));
    }

    [Fact]
    public async Task Tools_AWriteWhileTheStoreIsBusy_AnswersAToolErrorSayingToRetry_AsTheRestApisStoreBusy()
    {
        var (name, _) = await CreateServedAndUnservedPromptsAsync();
        await using var client = await ConnectAsync(fixture.Server.AdminKey);

        CallToolResult busy;
        await using (var writeLock = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = fixture.Server.DatabasePath, Pooling = false }.ToString()))
        {
            // The store's writer cannot write while this lock is held: it waits out its busy timeout, then gives up.
            await writeLock.OpenAsync(Cancellation);
            using var transaction = writeLock.BeginTransaction();
            busy = await client.CallToolAsync("create_version", new Dictionary<string, object?>
            {
                ["name"] = name, ["content"] = "Support for {{company_name}}.", ["changeDescription"] = "while busy",
            }, cancellationToken: Cancellation);
        }

        Assert.True(busy.IsError);
        Assert.Equal("The database is busy; retry the request.", Text(busy));
    }

    [Fact]
    public async Task Connect_WithoutAKeyOrWithAnUnknownKey_Is401()
    {
        var none = await Assert.ThrowsAsync<HttpRequestException>(() => ConnectAsync(""));
        var unknown = await Assert.ThrowsAsync<HttpRequestException>(() => ConnectAsync("pv_not-a-real-key"));

        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
    }

    [Fact]
    public async Task CreateVersion_OfAChatPrompt_TakesItsMessages()
    {
        using var admin = fixture.Server.CreateClient();
        var name = UniqueName("chat");
        Assert.Equal(HttpStatusCode.Created, (await PostAsync(admin, "/api/prompts", Api.ChatPromptsApiTests.ChatPrompt(name))).Status);
        await using var client = await ConnectAsync(await fixture.Server.CreateKeyAsync("mcp-author", ApiKeyRole.Writer, Cancellation));

        var created = await CallAsync(client, "create_version", new()
        {
            ["name"] = name,
            ["messages"] = new[] { new { role = "system", content = "You help {{company}}, briefly." }, new { role = "user", content = "{{question}}" } },
            ["changeDescription"] = "shorter",
        });

        Assert.Equal("1.0.1", created.Str("version"));
        Assert.Equal("You help {{company}}, briefly.", created["messages"]![0]!.Str("content"));
        Assert.Equal("user", created["messages"]![1]!.Str("role"));
    }

    [Fact]
    public async Task PromptsGet_ChatPrompt_ReturnsEachRenderedMessageWithItsRole()
    {
        using var admin = fixture.Server.CreateClient();
        var name = UniqueName("chat");
        var (created, _) = await PostAsync(admin, "/api/prompts", Api.ChatPromptsApiTests.ChatPrompt(name));
        Assert.Equal(HttpStatusCode.Created, created);
        await PutAsync(admin, $"/api/prompts/{name}/labels/production", new { version = "1.0.0" });
        await using var client = await ConnectAsync(await fixture.Server.CreateKeyAsync("agent", ApiKeyRole.Reader, Cancellation));

        var result = await client.GetPromptAsync(name, new Dictionary<string, object?>
        {
            ["company"] = "Acme",
            ["question"] = "Where is my parcel?",
            ["history"] = """[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello!"}]""",
        }, cancellationToken: Cancellation);

        // MCP has no system role: the system message goes as the user's.
        Assert.Equal([Role.User, Role.User, Role.Assistant, Role.User], result.Messages.Select(m => m.Role));
        Assert.Equal(["You help Acme customers.", "Hi", "Hello!", "Where is my parcel?"],
            result.Messages.Select(m => Assert.IsType<TextContentBlock>(m.Content).Text));
    }

    [Fact]
    public async Task Complete_ABooleanOrADefaultedVariable_SuggestsItsValuesStartingWithWhatIsTyped()
    {
        var name = await CreateServedAsync(new
        {
            name = UniqueName("letter"), type = "user", content = "{{#if formal}}Dear{{/if}} {{company}}, {{tone}} x{{count}}",
            variables = new object[]
            {
                new { name = "formal", type = "boolean" },
                new { name = "company", type = "string", required = true },
                new { name = "tone", type = "string", defaultValue = "Friendly" },
                new { name = "count", type = "number", defaultValue = 3 },
            },
        });
        await using var client = await ConnectReaderAsync();

        Assert.NotNull(client.ServerCapabilities.Completions);
        Assert.Equal(["true", "false"], await ValuesAsync(client, name, "formal", ""));
        Assert.Equal(["true"], await ValuesAsync(client, name, "formal", "T"));
        Assert.Equal(["Friendly"], await ValuesAsync(client, name, "tone", "fr"));
        Assert.Empty(await ValuesAsync(client, name, "tone", "x"));
        Assert.Equal(["3"], await ValuesAsync(client, name, "count", ""));
        var none = await CompleteAsync(client, name, "company", "");
        Assert.Equal((0, 0, false), (none.Values.Count, none.Total, none.HasMore));
        var both = await CompleteAsync(client, name, "formal", "");
        Assert.Equal((2, false), (both.Total, both.HasMore));
    }

    [Fact]
    public async Task Complete_AnUnknownPromptOrArgumentOrAResource_IsAnErrorNamingIt()
    {
        var (served, unserved) = await CreateServedAndUnservedPromptsAsync();
        await using var client = await ConnectReaderAsync();

        var unknownPrompt = await RefusedAsync(client, new PromptReference { Name = "no-such-prompt" }, "x");
        var notServed = await RefusedAsync(client, new PromptReference { Name = unserved }, "company_name");
        var unknownArgument = await RefusedAsync(client, new PromptReference { Name = served }, "compnay");
        var resource = await RefusedAsync(client, new ResourceTemplateReference { Uri = "file:///{path}" }, "path");

        Assert.All([unknownPrompt, notServed, unknownArgument, resource], e => Assert.Equal(McpErrorCode.InvalidParams, e.ErrorCode));
        Assert.Equal("Request failed (remote): prompt 'no-such-prompt' does not exist.", unknownPrompt.Message);
        Assert.Equal($"Request failed (remote): prompt '{unserved}' has no production version; MCP serves production versions only.", notServed.Message);
        Assert.Equal($"Request failed (remote): prompt '{served}' version 1.0.0 has no argument 'compnay'; its arguments are company_name, customer_name, previous_messages.",
            unknownArgument.Message);
        Assert.Equal("Request failed (remote): ref/resource 'file:///{path}' cannot be completed: this server has no resource templates; "
            + "completion/complete completes a prompt's arguments (ref/prompt).", resource.Message);
    }

    [Fact]
    public async Task Complete_AfterProductionMovesToAnotherVersion_FollowsItsVariables()
    {
        var name = await CreateServedAsync(new
        {
            name = UniqueName("moved"), type = "user", content = "{{#if formal}}Dear{{/if}} you",
            variables = new object[] { new { name = "formal", type = "boolean" } },
        });
        await using var client = await ConnectReaderAsync();
        Assert.Equal(["true", "false"], await ValuesAsync(client, name, "formal", ""));
        using var admin = fixture.Server.CreateClient();
        var next = await NewVersionAsync(admin, name, new
        {
            content = "In a {{style}} style", changeDescription = "style instead of formality",
            variables = new object[] { new { name = "style", type = "string", defaultValue = "short" } },
        });

        Assert.Equal(HttpStatusCode.OK, (await PutAsync(admin, $"/api/prompts/{name}/labels/production", new { version = next.Str("version") })).Status);

        Assert.Equal(["short"], await ValuesAsync(client, name, "style", "S"));
        var gone = await RefusedAsync(client, new PromptReference { Name = name }, "formal");
        Assert.Equal($"Request failed (remote): prompt '{name}' version {next.Str("version")} has no argument 'formal'; its arguments are style.", gone.Message);
    }

    /// <summary>Creates <paramref name="prompt"/> and puts its 1.0.0 in production.</summary>
    private async Task<string> CreateServedAsync(object prompt)
    {
        using var admin = fixture.Server.CreateClient();
        var (status, created) = await PostAsync(admin, "/api/prompts", prompt);
        Assert.True(status == HttpStatusCode.Created, created?.ToJsonString());
        var name = created!.Str("name");
        Assert.Equal(HttpStatusCode.OK, (await PutAsync(admin, $"/api/prompts/{name}/labels/production", new { version = "1.0.0" })).Status);
        return name;
    }

    private async Task<McpClient> ConnectReaderAsync() => await ConnectAsync(await fixture.Server.CreateKeyAsync("agent", ApiKeyRole.Reader, Cancellation));

    private static async Task<Completion> CompleteAsync(McpClient client, string prompt, string argument, string typed) =>
        (await client.CompleteAsync(new PromptReference { Name = prompt }, argument, typed, cancellationToken: Cancellation)).Completion;

    private static async Task<IList<string>> ValuesAsync(McpClient client, string prompt, string argument, string typed) =>
        (await CompleteAsync(client, prompt, argument, typed)).Values;

    private static Task<McpProtocolException> RefusedAsync(McpClient client, Reference reference, string argument) =>
        Assert.ThrowsAsync<McpProtocolException>(() => client.CompleteAsync(reference, argument, "", cancellationToken: Cancellation).AsTask());

    /// <summary>The support prompt promoted to production, and one never promoted.</summary>
    private async Task<(string Served, string Unserved)> CreateServedAndUnservedPromptsAsync()
    {
        using var admin = fixture.Server.CreateClient();
        var served = await CreateSupportPromptAsync(admin);
        var (status, _) = await PutAsync(admin, $"/api/prompts/{served}/labels/production", new { version = "1.0.0" });
        Assert.Equal(HttpStatusCode.OK, status);
        return (served, await CreateSupportPromptAsync(admin));
    }

    /// <summary>A prompt <c>guard</c> requiring <c>policy</c>, and a prompt including it, both at 1.0.0 in production.</summary>
    private async Task<(string Guard, string Includer)> CreateServedIncluderAsync()
    {
        using var admin = fixture.Server.CreateClient();
        var guard = UniqueName("guard");
        var includer = UniqueName("includer");
        Assert.Equal(HttpStatusCode.Created, (await PostAsync(admin, "/api/prompts", new { name = guard, type = "system", content = "Policy: {{policy}}.",
            variables = new[] { new { name = "policy", type = "string", required = true } } })).Status);
        Assert.Equal(HttpStatusCode.OK, (await PutAsync(admin, $"/api/prompts/{guard}/labels/production", new { version = "1.0.0" })).Status);
        Assert.Equal(HttpStatusCode.Created, (await PostAsync(admin, "/api/prompts", new { name = includer, type = "system", content = $"Rules. {{{{> {guard}}}}}" })).Status);
        Assert.Equal(HttpStatusCode.OK, (await PutAsync(admin, $"/api/prompts/{includer}/labels/production", new { version = "1.0.0" })).Status);
        return (guard, includer);
    }

    private Task<McpClient> ConnectAsync(string apiKey) => ConnectAsync(fixture.Server, apiKey);

    /// <summary>The official MCP client on Streamable HTTP to <paramref name="server"/>'s <c>/mcp</c> with <paramref name="apiKey"/> (none when empty).</summary>
    internal static async Task<McpClient> ConnectAsync(RunningServer server, string apiKey, string? protocolVersion = null)
    {
        var headers = new Dictionary<string, string>();
        if (apiKey.Length > 0) headers["Authorization"] = $"Bearer {apiKey}";
        var transport = new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = new Uri(server.BaseAddress, "/mcp"),
            TransportMode = HttpTransportMode.StreamableHttp,
            AdditionalHeaders = headers,
        });
        return await McpClient.CreateAsync(transport, new McpClientOptions { ProtocolVersion = protocolVersion }, cancellationToken: Cancellation);
    }

    /// <summary>Calls a tool that must succeed and returns its JSON answer.</summary>
    private static async Task<JsonNode> CallAsync(McpClient client, string tool, Dictionary<string, object?> arguments)
    {
        var result = await client.CallToolAsync(tool, arguments, cancellationToken: Cancellation);
        Assert.False(result.IsError is true, Text(result));
        return JsonNode.Parse(Text(result))!;
    }

    private static string Text(CallToolResult result) => string.Join("\n", result.Content.OfType<TextContentBlock>().Select(c => c.Text));
}
