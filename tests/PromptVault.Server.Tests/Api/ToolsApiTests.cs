using System.Net;
using System.Text.Json.Nodes;
using static PromptVault.Server.Tests.ApiCalls;

namespace PromptVault.Server.Tests.Api;

/// <summary>A version's <c>metadata.tools</c> and <c>metadata.responseFormat</c> (SPEC §7) through the API: saved, checked, rendered, compared.</summary>
public sealed class ToolsApiTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private readonly HttpClient _client = fixture.Server.CreateClient();

    private static object LookupTool(string idType = "string") => new
    {
        name = "lookup_order",
        description = "Finds an order by its id",
        parameters = new { type = "object", properties = new { orderId = new { type = idType } }, required = new[] { "orderId" } },
    };

    private static readonly object AnswerFormat = new { type = "object", properties = new { reply = new { type = "string" } } };

    private static object Body(object metadata, string change = "Tools") => new { content = SupportTemplate, metadata, changeDescription = change };

    private async Task<int> VersionCountAsync(string name)
    {
        var (_, history) = await GetAsync(_client, $"/api/prompts/{name}/versions");
        return history!["versions"]!.AsArray().Count;
    }

    [Fact]
    public async Task CreateVersion_WithToolsAndResponseFormat_ReturnedByGetRenderAndCompare()
    {
        var name = await CreateSupportPromptAsync(_client);

        var created = await NewVersionAsync(_client, name, Body(new { model = "gpt-4o-mini", tools = new[] { LookupTool() }, responseFormat = AnswerFormat }));
        var (_, got) = await GetAsync(_client, $"/api/prompts/{name}/versions/1.0.1");
        var (renderStatus, render) = await PostAsync(_client, $"/api/prompts/{name}/render", new { version = "1.0.1", variables = new { company_name = "Acme" } });
        var (compareStatus, compare) = await GetAsync(_client, $"/api/prompts/{name}/compare?a=1.0.0&b=1.0.1");

        Assert.Equal("1.0.1", created.Str("version"));
        foreach (var metadata in new[] { created["metadata"]!, got!["metadata"]!, render!["metadata"]! })
        {
            var tool = Assert.Single(metadata["tools"]!.AsArray())!;
            Assert.Equal("lookup_order", tool.Str("name"));
            Assert.Equal("Finds an order by its id", tool.Str("description"));
            Assert.Equal("string", tool["parameters"]!["properties"]!["orderId"]!.Str("type"));
            Assert.Equal("string", metadata["responseFormat"]!["properties"]!["reply"]!.Str("type"));
        }
        Assert.Equal(HttpStatusCode.OK, renderStatus);
        Assert.Equal(HttpStatusCode.OK, compareStatus);
        var diff = compare!["metadataDiff"]!.AsObject();
        Assert.Contains("tools.lookup_order", diff.Select(p => p.Key));
        Assert.Contains("responseFormat", diff.Select(p => p.Key));
        Assert.Null(diff["tools.lookup_order"]!["a"]);
        Assert.Contains("orderId", diff["tools.lookup_order"]!.Str("b"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateVersion_OnlyAToolSchemaChanged_IsANewVersion_SameToolsAgainIsUnchanged()
    {
        var name = await CreateSupportPromptAsync(_client);
        await NewVersionAsync(_client, name, Body(new { tools = new[] { LookupTool() } }));

        var changed = await NewVersionAsync(_client, name, Body(new { tools = new[] { LookupTool("integer") } }));
        var (again, problem) = await PostAsync(_client, $"/api/prompts/{name}/versions", Body(new { tools = new[] { LookupTool("integer") } }));
        var (_, compare) = await GetAsync(_client, $"/api/prompts/{name}/compare?a=1.0.1&b=1.0.2");

        Assert.Equal("1.0.2", changed.Str("version"));
        Assert.Equal(HttpStatusCode.Conflict, again);
        Assert.Equal("version_unchanged", problem.Str("code"));
        var diff = compare!["metadataDiff"]!.AsObject();
        Assert.Equal(["tools.lookup_order"], diff.Select(p => p.Key));
    }

    public static TheoryData<string, string, string, string> BadMetadata => new()
    {
        // metadata JSON, code, field, a word the message must hold
        { """{ "tools": [{ "name": "lookup", "parameters": { "type": "object", "properties": { "id": { "type": "integr" } } } }] }""",
            "invalid_schema", "metadata.tools[0].parameters", "/properties/id/type" },
        { """{ "tools": [{ "name": "lookup", "parameters": { "type": "object", "required": "id" } }] }""",
            "invalid_schema", "metadata.tools[0].parameters", "tool 'lookup'" },
        { """{ "tools": [{ "name": "lookup", "parameters": "object" }] }""", "invalid_schema", "metadata.tools[0].parameters", "tool 'lookup'" },
        { """{ "tools": [{ "name": "lookup", "parameters": { "type": "array" } }] }""", "invalid_schema", "metadata.tools[0].parameters", "\"type\": \"object\"" },
        { """{ "tools": [{ "name": "look up", "parameters": { "type": "object" } }] }""", "invalid_tool_name", "metadata.tools[0].name", "look up" },
        { """{ "tools": [{ "name": "a", "parameters": { "type": "object" } }, { "name": "a", "parameters": { "type": "object" } }] }""",
            "duplicate_tool", "metadata.tools[1].name", "'a'" },
        { """{ "responseFormat": { "type": "object", "minProperties": -1 } }""", "invalid_schema", "metadata.responseFormat", "/minProperties" },
        { """{ "responseFormat": [] }""", "invalid_schema", "metadata.responseFormat", "an array" },
    };

    [Theory]
    [MemberData(nameof(BadMetadata))]
    public async Task CreateVersion_BadToolOrFormat_Returns400NamingItAndStoresNothing(string metadata, string code, string field, string mentioned)
    {
        var name = await CreateSupportPromptAsync(_client);

        var (status, problem) = await PostAsync(_client, $"/api/prompts/{name}/versions", Body(JsonNode.Parse(metadata)!));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(code, problem.Str("code"));
        Assert.Equal(field, problem.Str("field"));
        Assert.Contains(mentioned, problem.Str("detail"), StringComparison.Ordinal);
        Assert.Equal(1, await VersionCountAsync(name));
    }

    [Fact]
    public async Task CreatePrompt_BadToolSchema_Returns400AndNoPrompt()
    {
        var name = UniqueName();
        var body = new { name, type = "system", content = "Hi", metadata = new { tools = new[] { LookupTool("integr") } } };

        var (status, problem) = await PostAsync(_client, "/api/prompts", body);
        var (lookup, _) = await GetAsync(_client, $"/api/prompts/{name}");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("metadata.tools[0].parameters", problem.Str("field"));
        Assert.Equal(HttpStatusCode.NotFound, lookup);
    }
}
