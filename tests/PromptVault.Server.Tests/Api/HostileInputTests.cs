using System.Net;
using System.Text;
using System.Text.Json;
using PromptVault.Core.Templates;
using static PromptVault.Server.Tests.ApiCalls;

namespace PromptVault.Server.Tests.Api;

/// <summary>
/// The cases of issue 8 findings 1–3 through the real server: templates that used to crash it or hang, renders that
/// used to take its memory, and text that used to end in a 500. Each is now a 400 naming the field or limit.
/// </summary>
public sealed class HostileInputTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private readonly HttpClient _client = fixture.Server.CreateClient();

    internal static string Repeat(string text, int count) => string.Concat(Enumerable.Repeat(text, count));

    internal static readonly object[] Variables =
    [
        new { name = "x", type = "string" },
        new { name = "a", type = "boolean" },
        new { name = "items", type = "array" },
    ];

    internal static object Prompt(string name, string content) => new { name, content, variables = Variables };

    public static TheoryData<string, string, string> HostileTemplates => new()
    {
        { "#each 2,000 deep", Repeat("{{#each items}}", 2_000) + Repeat("{{/each}}", 2_000), "template_too_deep" },
        { "#with 8,000 deep", Repeat("{{#with items}}", 8_000) + Repeat("{{/with}}", 8_000), "template_too_deep" },
        { "#if 10,000 deep", Repeat("{{#if a}}", 10_000) + Repeat("{{/if}}", 10_000), "template_too_deep" },
        { "10,000 else-ifs", "{{#if a}}" + Repeat("{{else if a}}", 10_000) + "{{/if}}", "template_too_deep" },
        { "10,000 unclosed blocks", Repeat("{{#if a}}", 10_000), "template_too_deep" },
        { "{{x}} 40,000 times", Repeat("{{x}}", 40_000), "template_too_large" },
        { "200,001 characters", new string('x', 200_001), "template_too_large" },
        { "ends in an unclosed {{", "Hello {{", "invalid_template" },
        { "ends in an unclosed {{x", "Hello {{x", "invalid_template" },
    };

    [Theory]
    [MemberData(nameof(HostileTemplates))]
    public async Task CreatePrompt_HostileTemplate_Returns400NamingTheLimitAndServerLives(string shape, string content, string code)
    {
        var name = UniqueName("hostile");

        var (status, problem) = await PostAsync(_client, "/api/prompts", Prompt(name, content));

        Assert.True(HttpStatusCode.BadRequest == status, $"{shape}: {status} {problem?.ToJsonString()}");
        Assert.Equal((code, "content"), (problem.Str("code"), problem.Str("field")));
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(_client, $"/api/prompts/{name}")).Status);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(_client, "/healthz")).Status);
    }

    [Fact]
    public async Task CreateVersion_NestedOneTooDeep_Returns400NamingTheDepthLimit()
    {
        var name = UniqueName("deep");
        await PostAsync(_client, "/api/prompts", Prompt(name, "{{x}}"));
        var depth = TemplateLimits.MaxNestingDepth + 1;

        var (status, problem) = await PostAsync(_client, $"/api/prompts/{name}/versions",
            new { content = Repeat("{{#each items}}", depth) + Repeat("{{/each}}", depth), changeDescription = "deeper" });

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("template_too_deep", problem.Str("code"));
        Assert.Contains($"nesting depth limit is {TemplateLimits.MaxNestingDepth}", problem.Str("detail"), StringComparison.Ordinal);
    }

    /// <summary>The worst template within the limits: loops nested to the depth limit, each over every item again.</summary>
    internal static readonly string WorstTemplate =
        Repeat("{{#each @root.items}}", TemplateLimits.MaxNestingDepth) + "{{this}}" + Repeat("{{/each}}", TemplateLimits.MaxNestingDepth);

    private Task<string> CreateProductionPromptAsync(string content) => CreateProductionPromptAsync(_client, content);

    internal static async Task<string> CreateProductionPromptAsync(HttpClient client, string content)
    {
        var name = UniqueName("worst");
        var (created, body) = await PostAsync(client, "/api/prompts", Prompt(name, content));
        Assert.True(created == HttpStatusCode.Created, body?.ToJsonString());
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(client, $"/api/prompts/{name}/versions/1.0.0/status", new { status = "production" })).Status);
        return name;
    }

    [Fact]
    public async Task Render_OutputPastTheLimit_Returns400NamingTheLimit()
    {
        // A small request asking for 10^32 copies of the item. Long items pass the output limit within a hundred writes,
        // so the render time limit cannot come first on a loaded machine.
        var name = await CreateProductionPromptAsync(WorstTemplate);

        var (status, problem) = await PostAsync(_client, $"/api/prompts/{name}/render", new { variables = new { items = Enumerable.Repeat(new string('x', 10_000), 10) } });

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(("render_too_large", "variables"), (problem.Str("code"), problem.Str("field")));
        Assert.Contains("render output size limit", problem.Str("detail"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Render_LoopsThatWriteNothing_Returns400NamingTheTimeLimit()
    {
        // 100^5 iterations whose body writes nothing: without the time limit this render would run for hours.
        var name = await CreateProductionPromptAsync(Repeat("{{#each @root.items}}", 5) + Repeat("{{/each}}", 5));

        var (status, problem) = await PostAsync(_client, $"/api/prompts/{name}/render", new { variables = new { items = Enumerable.Range(0, 100) } });

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(("render_timeout", "variables"), (problem.Str("code"), problem.Str("field")));
        Assert.Contains("render time limit", problem.Str("detail"), StringComparison.Ordinal);
    }

    /// <summary>Every place a string enters: render variables, a default value, metric bodies and their metadata, plain fields.</summary>
    public static TheoryData<string, string, string> InvalidText => new()
    {
        { "render", """{"variables": {"x": "\ud800"}}""", "variables.x" },
        { "render", """{"variables": {"items": [{"role": "\udc00"}]}}""", "variables.items[0].role" },
        { "render", """{"variables": {"items": [{"\ud800": 1}]}}""", "variables.items[0]" },
        { "render", """{"variables": {"\ud800": "a"}}""", "variables" },
        { "render", """{"unitId": "\ud800"}""", "unitId" },
        { "versions", """{"content": "{{x}}", "changeDescription": "d", "variables": [{"name": "x", "type": "string", "defaultValue": "\ud800"}]}""", "variables[0].defaultValue" },
        { "versions", """{"content": "\ud800{{x}}", "changeDescription": "d"}""", "content" },
        { "metrics", """{"events": [{"\ud800": 1}]}""", "events[0]" },
        { "metrics", """{"versionId": "v", "metadata": {"note": "\ud800"}}""", "metadata.note" },
        { "metrics", """{"versionId": "\ud800"}""", "versionId" },
    };

    [Theory]
    [MemberData(nameof(InvalidText))]
    public async Task Post_LoneSurrogate_Returns400NamingTheField(string route, string body, string field)
    {
        var name = await CreateProductionPromptAsync("{{x}}{{#each items}}{{this}}{{/each}}");
        var path = route == "metrics" ? "/api/metrics" : $"/api/prompts/{name}/{route}";

        var (status, problem) = await PostAsync(_client, path, body);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(("invalid_text", field), (problem.Str("code"), problem.Str("field")));
        Assert.Contains("not valid UTF-16", problem.Str("detail"), StringComparison.Ordinal);
    }

    /// <summary>U+0000, which PostgreSQL's text and jsonb cannot store: refused on either engine, in every kind of place.</summary>
    public static TheoryData<string, string, string> NulText => new()
    {
        { "render", """{"variables": {"x": "a\u0000b"}}""", "variables.x" },
        { "render", """{"variables": {"a\u0000": "b"}}""", "variables" },
        { "render", """{"unitId": "user\u0000"}""", "unitId" },
        { "versions", """{"content": "{{x}}\u0000", "changeDescription": "d"}""", "content" },
        { "metrics", """{"versionId": "v", "error": "time\u0000out"}""", "error" },
        { "metrics", """{"events": [{"versionId": "v", "latencyMs": 1}, {"versionId": "v", "unitId": "\u0000"}]}""", "events[1].unitId" },
        { "metrics", """{"versionId": "v", "metadata": {"note": ["\u0000"]}}""", "metadata.note[0]" },
        { "exposures", """{"exposures": [{"experimentId": "e", "variantId": "v", "unitId": "u\u0000"}]}""", "exposures[0].unitId" },
        { "prompts", """{"name": "nul-in-description", "content": "x", "description": "a\u0000"}""", "description" },
    };

    [Theory]
    [MemberData(nameof(NulText))]
    public async Task Post_NulCharacter_Returns400NamingTheField_AndStoresNothing(string route, string body, string field)
    {
        var name = await CreateProductionPromptAsync("{{x}}");
        var path = route switch
        {
            "metrics" or "exposures" or "prompts" => $"/api/{route}",
            _ => $"/api/prompts/{name}/{route}",
        };

        var (status, problem) = await PostAsync(_client, path, body);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(("invalid_text", field), (problem.Str("code"), problem.Str("field")));
        Assert.Contains("U+0000", problem.Str("detail"), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(_client, "/api/prompts/nul-in-description")).Status);
    }

    /// <summary>
    /// A display name holding a bidi override or isolate, or a zero-width character, was stored and shown reordered or hidden
    /// in lists and the audit log (Trojan Source); it is refused naming the field, the character and its position.
    /// </summary>
    public static TheoryData<string, string, string, string> DisplayNamesWithFormatCharacters => new()
    {
        { "/api/keys", """{"name": "ops\u202Etxt.exe", "role": "reader"}""", "name", "U+202E, an invisible format character, at character 4" },
        { "/api/prompts", """{"name": "bidi-category", "content": "x", "category": "a\u2066b"}""", "category", "U+2066, an invisible format character, at character 2" },
        { "/api/prompts", """{"name": "bidi-tag", "content": "x", "tags": ["ok", "a\u200Bb"]}""", "tags[1]", "U+200B, an invisible format character, at character 2" },
        { "/api/experiments", """{"name": "exp\u2069", "prompt": "bidi-experiment", "variants": []}""", "name", "U+2069, an invisible format character, at character 4" },
    };

    [Theory]
    [MemberData(nameof(DisplayNamesWithFormatCharacters))]
    public async Task Post_DisplayNameWithAFormatCharacter_Returns400NamingItAndStoresNothing(string path, string body, string field, string named)
    {
        var (status, problem) = await PostAsync(_client, path, body);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(("invalid_text", field), (problem.Str("code"), problem.Str("field")));
        Assert.Contains(named, problem.Str("detail"), StringComparison.Ordinal);
        var (_, keys) = await GetAsync(_client, "/api/keys");
        Assert.DoesNotContain("txt.exe", keys!.ToJsonString(), StringComparison.Ordinal);
        foreach (var prompt in new[] { "bidi-category", "bidi-tag" })
            Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(_client, $"/api/prompts/{prompt}")).Status);
    }

    [Fact]
    public async Task Render_BytesThatAreNotUtf8_Returns400NamingTheField()
    {
        var name = await CreateProductionPromptAsync("{{x}}");
        // "\xED\xA0\x80" is a surrogate encoded as if it were a character: not UTF-8.
        var bytes = Encoding.ASCII.GetBytes("""{"variables": {"x": "__"}}""").ToList();
        bytes.InsertRange(bytes.IndexOf((byte)'_'), [0xED, 0xA0, 0x80]);
        using var content = new ByteArrayContent(bytes.ToArray());
        content.Headers.ContentType = new("application/json");

        using var response = await _client.PostAsync($"/api/prompts/{name}/render", content, TestContext.Current.CancellationToken);
        var problem = System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("variables.x", problem.Str("field"));
    }

    /// <summary>
    /// JSON that does not parse, on the routes that read their body as a document (render, metrics): named by the field
    /// where it stops, as a body the framework binds is (an exposure batch's), not only by line and byte.
    /// </summary>
    public static TheoryData<string, string, string> MalformedJson => new()
    {
        { "render", """{"variables": {"x": NaN}}""", "variables.x" },
        { "render", """{"unitId": "u", "label": Infinity}""", "label" },
        { "metrics", """{"versionId": "v", "latencyMs": NaN}""", "latencyMs" },
        { "metrics", """{"events": [{"versionId": "v"}, {"versionId": "v", "cost": -Infinity}]}""", "events[1].cost" },
        { "metrics", """{"versionId": "v", "metadata": {"tags": [1, 2, 'three']}}""", "metadata.tags[2]" },
        { "metrics", """{"versionId": "v", "metadata": {"two words": [NaN]}}""", "metadata['two words'][0]" },
        { "exposures", """{"exposures": [{"experimentId": "e", "variantId": NaN}]}""", "exposures[0].variantId" },
    };

    [Theory]
    [MemberData(nameof(MalformedJson))]
    public async Task Post_MalformedJson_Returns400NamingTheField(string route, string body, string field)
    {
        var name = await CreateProductionPromptAsync("{{x}}");
        var path = route == "render" ? $"/api/prompts/{name}/render" : $"/api/{route}";

        var (status, problem) = await PostAsync(_client, path, body);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(("invalid_json", field), (problem.Str("code"), problem.Str("field")));
        Assert.StartsWith($"'{field}' is invalid: ", problem.Str("detail"), StringComparison.Ordinal);
    }

    /// <summary>A route whose body the framework binds and one that reads it by hand, for each way of sending it.</summary>
    public static TheoryData<string, string> BodyRoutes => new()
    {
        { "POST", "/api/prompts" },
        { "POST", "/api/prompts/{name}/versions" },
        { "PATCH", "/api/prompts/{name}" },
        { "POST", "/api/experiments" },
        { "POST", "/api/keys" },
        { "POST", "/api/prompts/{name}/render" },
        { "POST", "/api/metrics" },
    };

    [Theory]
    [MemberData(nameof(BodyRoutes))]
    public async Task Post_JsonWithNoContentType_Returns415UnsupportedMediaType_AsAnotherMediaTypeIs(string method, string route)
    {
        var name = await CreateProductionPromptAsync("{{x}}");
        var path = route.Replace("{name}", name, StringComparison.Ordinal);

        var none = await SendBytesAsync(method, path, """{"name": "no-content-type", "content": "x"}""", contentType: null);
        var plain = await SendBytesAsync(method, path, """{"name": "no-content-type", "content": "x"}""", "text/plain");

        Assert.Equal((HttpStatusCode.UnsupportedMediaType, "unsupported_media_type"), (none.Status, none.Problem.Str("code")));
        Assert.Equal($"The request body must be sent as application/json: {method} {path}.", none.Problem.Str("detail"));
        Assert.Equal((plain.Status, plain.Problem.Str("code"), plain.Problem.Str("detail")), (none.Status, none.Problem.Str("code"), none.Problem.Str("detail")));
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(_client, "/api/prompts/no-content-type")).Status);
    }

    [Theory]
    [InlineData("utf-8")]
    [InlineData("UTF-8")]
    [InlineData("\"utf-8\"")]
    [InlineData("\"UTF-8\"")]
    public async Task CreatePrompt_Utf8CharsetHoweverWritten_IsReadAsUtf8(string charset)
    {
        var name = UniqueName("charset");

        var (status, _) = await SendBytesAsync("POST", "/api/prompts", $$"""{"name": "{{name}}", "content": "x", "description": "café ☃"}""",
            $"application/json; charset={charset}", problem: false);

        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("café ☃", (await GetAsync(_client, $"/api/prompts/{name}")).Body.Str("description"));
    }

    [Theory]
    [InlineData("POST", "/api/prompts", "latin1")]
    [InlineData("POST", "/api/prompts", "utf8")]
    [InlineData("POST", "/api/prompts", "\"\"")]
    [InlineData("POST", "/api/experiments", "nonsense")]
    [InlineData("POST", "/api/prompts/{name}/render", "iso-8859-1")]
    [InlineData("POST", "/api/metrics", "utf-16")]
    [InlineData("POST", "/mcp", "\"latin1\"")]
    public async Task Post_CharsetOtherThanUtf8_Returns415NamingIt_AndStoresNothing(string method, string route, string charset)
    {
        var name = await CreateProductionPromptAsync("{{x}}");
        var path = route.Replace("{name}", name, StringComparison.Ordinal);
        var created = UniqueName("charset");

        var (status, problem) = await SendBytesAsync(method, path, $$"""{"name": "{{created}}", "content": "x", "jsonrpc": "2.0", "id": 1, "method": "tools/list"}""",
            $"application/json; charset={charset}");

        Assert.Equal((HttpStatusCode.UnsupportedMediaType, "unsupported_media_type"), (status, problem.Str("code")));
        Assert.Contains($"charset '{charset.Trim('"')}' is not supported", problem.Str("detail"), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(_client, $"/api/prompts/{created}")).Status);
    }

    /// <summary>A compressed body was read as JSON as it came, and refused as "'0x1F' is an invalid start of a value".</summary>
    [Theory]
    [InlineData("/api/prompts", "gzip")]
    [InlineData("/api/prompts/{name}/render", "br")]
    [InlineData("/api/prompts/{name}/render", "identity, gzip")]
    [InlineData("/mcp", "deflate")]
    public async Task Post_CompressedBody_Returns415NamingTheContentEncoding_AndStoresNothing(string route, string coding)
    {
        var name = await CreateProductionPromptAsync("{{x}}");
        var created = UniqueName("gzip");
        var json = $$"""{"name": "{{created}}", "content": "x", "jsonrpc": "2.0", "id": 1, "method": "tools/list"}""";
        using var request = new HttpRequestMessage(HttpMethod.Post, route.Replace("{name}", name, StringComparison.Ordinal))
        {
            Content = new ByteArrayContent(Gzip(json)),
        };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
        request.Content.Headers.TryAddWithoutValidation("Content-Encoding", coding);

        using var response = await _client.SendAsync(request, TestContext.Current.CancellationToken);

        var problem = System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal((HttpStatusCode.UnsupportedMediaType, "unsupported_media_type"), (response.StatusCode, problem.Str("code")));
        Assert.Contains($"Content-Encoding '{coding}' is not supported", problem.Str("detail"), StringComparison.Ordinal);
        Assert.Equal("identity", response.Headers.GetValues("Accept-Encoding").Single());
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(_client, $"/api/prompts/{created}")).Status);
    }

    [Fact]
    public async Task Post_IdentityContentEncoding_IsReadAsNone()
    {
        var name = UniqueName("identity");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/prompts")
        {
            Content = new StringContent(JsonSerializer.Serialize(Prompt(name, "{{x}}")), Encoding.UTF8, "application/json"),
        };
        request.Content.Headers.ContentEncoding.Add("identity");

        using var response = await _client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    private static byte[] Gzip(string text)
    {
        using var compressed = new MemoryStream();
        using (var gzip = new System.IO.Compression.GZipStream(compressed, System.IO.Compression.CompressionLevel.Fastest))
            gzip.Write(Encoding.UTF8.GetBytes(text));
        return compressed.ToArray();
    }

    private async Task<(HttpStatusCode Status, System.Text.Json.Nodes.JsonNode? Problem)> SendBytesAsync(string method, string path, string body, string? contentType, bool problem = true)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body)) };
        if (contentType is not null) request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        using var response = await _client.SendAsync(request, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        if (problem) Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return (response.StatusCode, System.Text.Json.Nodes.JsonNode.Parse(text));
    }

    public static TheoryData<string, string, string> RepeatedNames => new()
    {
        { """{"type": "object", "properties": {"a": {}, "a": {}}}""", "metadata.responseFormat", "the property name 'a' is given twice in 'properties'" },
        { """{"type": "object", "type": "array"}""", "metadata.responseFormat", "the property name 'type' is given twice;" },
        { """{"type": "object", "properties": {"b": {"enum": [{"x": 1, "\u0078": 2}]}}}""", "metadata.responseFormat", "the property name 'x' is given twice in 'properties.b.enum[0]'" },
        { """{"type": "object", "properties": {"p0": {}, "p1": {}, "p2": {}, "p3": {}, "p4": {}, "p5": {}, "p6": {}, "p7": {}, "p8": {}, "p1": {}}}""", "metadata.responseFormat", "the property name 'p1' is given twice in 'properties'" },
    };

    [Theory]
    [MemberData(nameof(RepeatedNames))]
    public async Task CreatePrompt_ResponseFormatGivingANameTwice_Returns400NamingIt_AndStoresNothing(string responseFormat, string field, string detail)
    {
        var name = UniqueName("twice");
        var body = $$$"""{"name": "{{{name}}}", "content": "Hi", "metadata": {"responseFormat": {{{responseFormat}}}}}""";

        var (status, problem) = await PostAsync(_client, "/api/prompts", body);

        Assert.True(HttpStatusCode.BadRequest == status, $"{status} {problem?.ToJsonString()}");
        Assert.Equal(("invalid_json", field), (problem.Str("code"), problem.Str("field")));
        Assert.Contains(detail, problem.Str("detail"));
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(_client, $"/api/prompts/{name}")).Status);
    }

    [Fact]
    public async Task StoredFreeFormValues_GivingANameTwice_Return400NamingTheField()
    {
        var name = UniqueName("twice");
        var defaultValue = $$$"""{"name": "{{{name}}}", "content": "{{x}}", "variables": [{"name": "x", "type": "object", "defaultValue": {"a": 1, "a": 2}}]}""";
        var tool = $$$"""{"name": "{{{name}}}", "content": "Hi", "metadata": {"tools": [{"name": "t", "parameters": {"type": "object", "required": [], "required": ["a"]}}]}}""";

        var (defaultStatus, defaultProblem) = await PostAsync(_client, "/api/prompts", defaultValue);
        var (toolStatus, toolProblem) = await PostAsync(_client, "/api/prompts", tool);
        var (metricStatus, metricProblem) = await PostAsync(_client, "/api/metrics",
            """{"versionId": "v", "latencyMs": 1, "metadata": {"k": 1, "k": 2}}""");

        Assert.Equal((HttpStatusCode.BadRequest, "variables[0].defaultValue"), (defaultStatus, defaultProblem.Str("field")));
        Assert.Contains("the property name 'a' is given twice", defaultProblem.Str("detail"));
        Assert.Equal((HttpStatusCode.BadRequest, "metadata.tools[0].parameters"), (toolStatus, toolProblem.Str("field")));
        Assert.Contains("the property name 'required' is given twice", toolProblem.Str("detail"));
        Assert.Equal((HttpStatusCode.BadRequest, "metadata"), (metricStatus, metricProblem.Str("field")));
        Assert.Contains("the property name 'k' is given twice", metricProblem.Str("detail"));
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(_client, $"/api/prompts/{name}")).Status);
    }

    [Fact]
    public async Task TestCaseVariable_GivingANameTwice_Returns400NamingIt_AndKeepsTheStoredCases()
    {
        var name = await CreateSupportPromptAsync(_client);
        var path = $"/api/prompts/{name}/versions/1.0.0/tests";
        var kept = """{"tests": [{"name": "kept", "variables": {"company_name": "Acme"}, "expect": [{"type": "contains", "value": "Acme"}]}]}""";
        Assert.Equal(HttpStatusCode.OK, (await PutAsync(_client, path, kept)).Status);

        var (status, problem) = await PutAsync(_client, path,
            """{"tests": [{"name": "t", "variables": {"company_name": {"a": 1, "a": 2}}, "expect": [{"type": "contains", "value": "a"}]}]}""");

        Assert.Equal((HttpStatusCode.BadRequest, "invalid_json", "tests[0].variables.company_name"), (status, problem.Str("code"), problem.Str("field")));
        Assert.Contains("the property name 'a' is given twice", problem.Str("detail"));
        var stored = (await GetAsync(_client, path)).Body!.ToJsonString();
        Assert.Contains("\"kept\"", stored);
        Assert.DoesNotContain("\"a\"", stored);
    }
}
