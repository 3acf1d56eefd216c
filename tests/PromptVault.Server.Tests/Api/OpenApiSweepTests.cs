using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using PromptVault.Server.Tests.Webhooks;
using static PromptVault.Server.Tests.ApiCalls;

namespace PromptVault.Server.Tests.Api;

/// <summary>
/// Every operation of docs/openapi.json, sent hostile variations derived from its documented parameters and body schema:
/// bodies that are not JSON, each property given every wrong JSON type, huge and negative numbers, NaN-like and over-long
/// strings, control characters and lone surrogates, and path and query values that are broken escapes, dot segments or
/// unicode. No answer may be a 5xx; each 4xx is a problem document whose <c>code</c> is in docs/api.md's error table and
/// whose <c>detail</c> is not empty; and the registry afterwards still exports and imports into an empty server.
/// Deterministic: the variations are enumerated in a fixed order, not drawn at random.
/// </summary>
public sealed class OpenApiSweepTests(OpenApiSweepTests.ModelServerFixture fixture) : IClassFixture<OpenApiSweepTests.ModelServerFixture>
{
    /// <summary>A server with a model (the fake provider), so the playground and evaluations run instead of answering 503, and a
    /// webhook receiver on loopback, so the sweep's webhooks are delivered rather than logged as failing.</summary>
    public sealed class ModelServerFixture : IAsyncLifetime
    {
        private FakeModelServer? _model;

        public RunningServer Server { get; private set; } = null!;

        public WebhookReceiver Hooks { get; private set; } = null!;

        public LogCapture ServerLog { get; } = new();

        public async ValueTask InitializeAsync()
        {
            var ct = TestContext.Current.CancellationToken;
            _model = await FakeModelServer.StartAsync(ct);
            Hooks = await WebhookReceiver.StartAsync(ct);
            Server = await RunningServer.StartAsync(new ServerSetup(
            [
                $"--PromptVault:Models:default:Endpoint={_model.Endpoint}", "--PromptVault:Models:default:Model=gpt-4o-mini",
                "--PromptVault:Webhooks:AllowLoopback=true",
            ], builder => builder.Logging.AddProvider(ServerLog)), ct);
        }

        public async ValueTask DisposeAsync()
        {
            if (Server is not null) await Server.DisposeAsync();
            if (Hooks is not null) await Hooks.DisposeAsync();
            if (_model is not null) await _model.DisposeAsync();
        }
    }

    private const int Workers = 4;
    private static readonly string LongText = new('l', 100_000);

    /// <summary>JSON values of every type and the edges of each, written as raw JSON text.</summary>
    private static readonly string[] HostileValues =
    [
        "\"text\"", "0", "-1", "1.5", "-2147483649", "99999999999999999999999999", "1e400", "\"NaN\"", "\"-Infinity\"", "\"1e400\"",
        "[]", "[1,\"a\",null,{}]", "{}", "{\"a\":{\"b\":[[]]}}", "null", "true",
        JsonSerializer.Serialize(LongText), "\"\\u0000\\u0001\\u001f\\u007f\\u2028\"", "\"\\ud800\"", "\"a\\udc00b\"", "\"☃ 😀\"",
    ];

    private static readonly string[] HostileSegments =
    [
        "%00", "%2F", "a%2Fb", "%2e%2e", "%2e", "..", "%E2%98%83", "%F0%9F%98%80", "%ED%A0%80", "%F0%9F", "%ZZ", "%01%1F", "%7F", "%0A",
        "-1", "0", "99999999999999999999999999", "NaN", "1e400", "%20", new string('s', 3_000),
    ];

    private static readonly string[] HostileQueryValues = [.. HostileSegments, "", "true", "%26x%3D1"];

    private static readonly string[] NotJsonBodies = ["", "{", "nul", "{\"a\":", "{}}", "[{}", "<xml/>", "\u00ff\u00fe", "{\"a\":1,}", "'single'"];

    private static readonly string[] WrongRoots = ["[]", "\"string\"", "1", "null", "true", "[{}]"];

    private sealed record Sweep(HttpMethod Method, string Path, string? Body)
    {
        public override string ToString() =>
            $"{Method} {Shorten(Path)} {(Body is null ? "" : Shorten(Body))}";

        private static string Shorten(string text) => text.Length <= 200 ? text : $"{text[..200]}… ({text.Length:N0} chars)";
    }

    private sealed record World(string Prompt, string VersionId, string ExperimentId, string KeyId, string WebhookId, string HookUrl);

    [Fact]
    public async Task EveryDocumentedOperation_HostileVariations_NoServerErrorEveryRefusalADocumentedProblem_RegistryStillRoundTrips()
    {
        var ct = TestContext.Current.CancellationToken;
        var server = fixture.Server;
        using var admin = server.CreateClient();
        var world = await SetUpAsync(admin, fixture.Hooks.Url);
        var document = JsonNode.Parse(await File.ReadAllTextAsync(RepositoryFiles.Docs("openapi.json"), ct))!;
        var requests = Operations(document, world).ToList();
        var documented = ErrorCodesDocTests.DocumentedCodes();

        var failures = new ConcurrentQueue<string>();
        var statuses = new ConcurrentDictionary<int, int>();
        var queue = new ConcurrentQueue<Sweep>(requests);
        await Task.WhenAll(Enumerable.Range(0, Workers).Select(async _ =>
        {
            while (queue.TryDequeue(out var request))
            {
                var (status, failure) = await SendAsync(admin, request, documented, ct);
                statuses.AddOrUpdate(status, 1, (_, n) => n + 1);
                if (failure is not null) failures.Enqueue($"{failure}\n    {request}");
            }
        }));

        var summary = $"{requests.Count:N0} requests; statuses {string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}×{s.Value}"))}";
        TestContext.Current.TestOutputHelper?.WriteLine(summary);
        var kinds = failures.GroupBy(f => f[..Math.Min(f.IndexOf("\n    ", StringComparison.Ordinal), 100)]).OrderByDescending(g => g.Count()).Select(g => $"{g.Count()}× {g.First()}");
        Assert.True(failures.IsEmpty, $"{summary}\n{failures.Count} failures:\n{string.Join("\n", kinds.Take(40))}");

        await AssertTheRegistryRoundTripsAsync(admin, ct);
        // The webhooks' deliveries reach the receiver (SetUpAsync's new version sends one) instead of failing with a warning each.
        await fixture.Hooks.Received.ReadAsync(ct);
        Assert.DoesNotContain(fixture.ServerLog.Lines, line => line.Level >= LogLevel.Warning && line.Category.Contains("Webhook", StringComparison.Ordinal));
    }

    /// <summary>
    /// /mcp in its own error shape: malformed envelopes, unknown methods, and each method's params (and each tool's
    /// arguments, from its input schema in tools/list) given every hostile value. No 5xx; every error a JSON-RPC error
    /// with a numeric code other than -32603 (internal error, MCP's 500) and a message; a tool's refusal has its text.
    /// </summary>
    [Fact]
    public async Task Mcp_HostileMessages_NoServerErrorOrInternalError_EveryErrorHasACodeAndAMessage()
    {
        var ct = TestContext.Current.CancellationToken;
        using var admin = fixture.Server.CreateClient();
        var world = await SetUpAsync(admin, fixture.Hooks.Url);
        var (_, listed) = await McpAsync(admin, """{"jsonrpc":"2.0","id":1,"method":"tools/list"}""", ct);
        var tools = listed!["result"]!["tools"]!.AsArray().Select(t => t!).ToList();
        Assert.NotEmpty(tools);

        var messages = McpMessages(world, tools).ToList();
        var failures = new ConcurrentQueue<string>();
        var queue = new ConcurrentQueue<string>(messages);
        await Task.WhenAll(Enumerable.Range(0, Workers).Select(async _ =>
        {
            while (queue.TryDequeue(out var message))
            {
                var (status, reply) = await McpAsync(admin, message, ct);
                if (McpFailure(status, reply) is { } failure) failures.Enqueue($"{failure}\n    {(message.Length > 300 ? message[..300] + "…" : message)}");
            }
        }));

        var kinds = failures.GroupBy(f => f[..Math.Min(f.IndexOf("\n    ", StringComparison.Ordinal), 100)]).OrderByDescending(g => g.Count()).Select(g => $"{g.Count()}× {g.First()}");
        Assert.True(failures.IsEmpty, $"{messages.Count:N0} messages; {failures.Count} failures:\n{string.Join("\n", kinds.Take(40))}");
        await AssertTheRegistryRoundTripsAsync(admin, ct);
    }

    private static string? McpFailure(int status, JsonNode? reply)
    {
        if (status >= 500) return $"{status}: {reply?.ToJsonString()}";
        if (reply is null) return status == 202 ? null : $"{status} with no JSON-RPC answer";
        if (reply["error"] is { } error)
        {
            var code = error["code"] is JsonValue value && value.TryGetValue<int>(out var number) ? number : (int?)null;
            if (code is null or -32603) return $"error code {code?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "missing"}: {reply.ToJsonString()}";
            if (string.IsNullOrWhiteSpace(error["message"]?.GetValue<string>())) return $"error {code} with no message: {reply.ToJsonString()}";
            return null;
        }
        if (reply["result"] is not { } result) return $"{status} neither a result nor an error: {reply.ToJsonString()}";
        if (result["isError"]?.GetValue<bool>() == true && string.IsNullOrWhiteSpace(result["content"]?[0]?["text"]?.GetValue<string>()))
            return $"a tool error with no text: {reply.ToJsonString()}";
        return null;
    }

    private static IEnumerable<string> McpMessages(World world, List<JsonNode> tools)
    {
        string Request(string method, string parameters) => $$$"""{"jsonrpc":"2.0","id":1,"method":"{{{method}}}","params":{{{parameters}}}}""";

        foreach (var text in NotJsonBodies.Concat(WrongRoots)) yield return text;
        string[] envelopes =
        [
            "{}", """{"jsonrpc":"2.0"}""", """{"jsonrpc":"1.0","id":1,"method":"ping"}""", """{"jsonrpc":"2.0","id":1,"method":"ping","params":5}""",
            """{"jsonrpc":"2.0","id":1,"result":{}}""", """{"jsonrpc":"2.0","id":1,"error":{"code":"x"}}""", """{"jsonrpc":"2.0","method":"notifications/unknown"}""",
            """{"jsonrpc":"2.0","id":1,"method":"ping","method":"ping"}""",
        ];
        foreach (var envelope in envelopes) yield return envelope;
        foreach (var value in HostileValues)
        {
            yield return $$"""{"jsonrpc":{{value}},"id":1,"method":"ping"}""";
            yield return $$"""{"jsonrpc":"2.0","id":{{value}},"method":"ping"}""";
            yield return $$"""{"jsonrpc":"2.0","id":1,"method":{{value}}}""";
        }
        foreach (var method in new[] { "", "unknown/method", "prompts/getx", "tools/call/", "\\u0000", "\\ud800", "rpc.discover", "notifications/initialized" })
            yield return Request(method, "{}");

        var parameters = new Dictionary<string, JsonObject>
        {
            ["initialize"] = new() { ["protocolVersion"] = "2025-11-25", ["capabilities"] = new JsonObject(), ["clientInfo"] = new JsonObject { ["name"] = "sweep", ["version"] = "1" } },
            ["ping"] = [],
            ["prompts/list"] = new() { ["cursor"] = "x" },
            ["prompts/get"] = new() { ["name"] = world.Prompt, ["arguments"] = new JsonObject { ["company_name"] = "Acme" } },
            ["tools/list"] = new() { ["cursor"] = "x" },
            ["completion/complete"] = new()
            {
                ["ref"] = new JsonObject { ["type"] = "ref/prompt", ["name"] = world.Prompt },
                ["argument"] = new JsonObject { ["name"] = "company_name", ["value"] = "A" },
                ["context"] = new JsonObject { ["arguments"] = new JsonObject() },
            },
            ["resources/list"] = [],
            ["resources/read"] = new() { ["uri"] = "file:///x" },
            ["logging/setLevel"] = new() { ["level"] = "info" },
        };
        foreach (var tool in tools)
        {
            var schema = tool["inputSchema"]!;
            var arguments = new JsonObject();
            foreach (var (name, property) in schema["properties"]?.AsObject() ?? [])
                arguments[name] = Baseline(property!, property!, world, name, 1);
            parameters[$"tools/call {tool.Str("name")}"] = new() { ["name"] = tool.Str("name"), ["arguments"] = arguments };
        }
        foreach (var (key, baseline) in parameters)
        {
            var method = key.Split(' ')[0];
            yield return Request(method, baseline.ToJsonString());
            foreach (var value in HostileValues) yield return Request(method, value);
            foreach (var variant in PropertyVariations(baseline)) yield return Request(method, variant);
        }
    }

    /// <summary>Posts one message to /mcp: the HTTP status and the JSON-RPC answer (from an event stream or a JSON body), null when there is none.</summary>
    private static async Task<(int Status, JsonNode? Reply)> McpAsync(HttpClient client, string message, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/mcp") { Content = new StringContent(message, Encoding.UTF8, "application/json") };
        request.Headers.Accept.ParseAdd("application/json");
        request.Headers.Accept.ParseAdd("text/event-stream");
        using var response = await client.SendAsync(request, ct);
        var body = await response.Content.ReadAsStringAsync(ct);
        var json = body.Split('\n').FirstOrDefault(line => line.StartsWith("data: ", StringComparison.Ordinal))?["data: ".Length..] ?? body;
        JsonNode? reply;
        try { reply = json.Length == 0 ? null : JsonNode.Parse(json); }
        catch (JsonException) { reply = JsonValue.Create($"not JSON: {body}"); }
        return ((int)response.StatusCode, reply);
    }

    private static async Task<(int Status, string? Failure)> SendAsync(HttpClient client, Sweep sweep, HashSet<string> documented, CancellationToken ct)
    {
        using var message = new HttpRequestMessage(sweep.Method, sweep.Path);
        if (sweep.Body is not null) message.Content = new StringContent(sweep.Body, Encoding.UTF8, "application/json");
        // Headers only: a success of the SDK's stream never ends, and no success is checked here.
        using var response = await client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, ct);
        var status = (int)response.StatusCode;
        if (status < 400) return (status, null);
        var text = await response.Content.ReadAsStringAsync(ct);
        if (status >= 500) return (status, $"{status}: {text}");
        // docs/api.md: Kestrel answers a %00 in the path with a bare 400 before any of PromptVault's code runs.
        if (status == 400 && text.Length == 0 && sweep.Path.Split('?')[0].Contains("%00", StringComparison.Ordinal)) return (status, null);
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        if (mediaType != "application/problem+json") return (status, $"{status} as {mediaType ?? "no content type"}: {text}");
        var problem = JsonNode.Parse(text);
        var code = problem?["code"]?.GetValue<string>();
        if (code is null || !documented.Contains(code)) return (status, $"{status} with a code not in docs/api.md's error table ({code ?? "none"}): {text}");
        if (string.IsNullOrWhiteSpace(problem?["detail"]?.GetValue<string>())) return (status, $"{status} {code} with no detail: {text}");
        return (status, null);
    }

    private static async Task AssertTheRegistryRoundTripsAsync(HttpClient admin, CancellationToken ct)
    {
        using var exported = await admin.GetAsync("/api/export", ct);
        var export = await exported.Content.ReadAsStringAsync(ct);
        Assert.True(exported.StatusCode == HttpStatusCode.OK, export);
        await using var empty = await RunningServer.StartAsync(ct);
        using var client = empty.CreateClient();
        using var imported = await client.PostAsync("/api/import", new StringContent(export, Encoding.UTF8, "application/json"), ct);
        var report = await imported.Content.ReadAsStringAsync(ct);
        Assert.True(imported.IsSuccessStatusCode, $"{(int)imported.StatusCode}: {report}");
    }

    private static async Task<World> SetUpAsync(HttpClient admin, Uri hookUrl)
    {
        var (_, webhook) = await PostAsync(admin, "/api/webhooks", new { url = hookUrl, events = new[] { "version.created" } });
        var prompt = await CreateSupportPromptAsync(admin, UniqueName("sweep"));
        await NewVersionAsync(admin, prompt, new { content = SupportTemplate + "\nBe brief.", changeDescription = "brief" });
        var first = (await GetAsync(admin, $"/api/prompts/{prompt}/versions/1.0.0")).Body.Str("id");
        var second = (await GetAsync(admin, $"/api/prompts/{prompt}/versions/1.0.1")).Body.Str("id");
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(admin, $"/api/prompts/{prompt}/versions/1.0.0/status", new { status = "production" })).Status);
        await PutAsync(admin, $"/api/prompts/{prompt}/versions/1.0.0/tests",
            new { tests = new[] { new { name = "greets", variables = new { company_name = "Acme" } } } });
        var (_, experiment) = await PostAsync(admin, "/api/experiments", new
        {
            name = "sweep", prompt, targetMetric = "avgQualityScore",
            variants = new object[] { new { name = "control", versionId = first, weight = 50 }, new { name = "treatment", versionId = second, weight = 50 } },
        });
        var (_, key) = await PostAsync(admin, "/api/keys", new { name = "sweep-victim", role = "reader" });
        return new World(prompt, second, experiment?["id"]?.GetValue<string>() ?? "exp_missing", key.Str("id"),
            webhook?["id"]?.GetValue<string>() ?? "wh_missing", hookUrl.ToString());
    }

    // ---- The variations, from the document. ----

    private static IEnumerable<Sweep> Operations(JsonNode document, World world)
    {
        var schemas = document["components"]!["schemas"]!;
        foreach (var (template, item) in document["paths"]!.AsObject())
        foreach (var (verb, operation) in item!.AsObject())
        {
            var method = new HttpMethod(verb.ToUpperInvariant());
            var parameters = operation!["parameters"]?.AsArray().Select(p => p!).ToList() ?? [];
            var pathNames = parameters.Where(p => p.Str("in") == "path").Select(p => p.Str("name")).ToList();
            var queryNames = parameters.Where(p => p.Str("in") == "query").Select(p => p.Str("name")).ToList();
            var schema = operation["requestBody"]?["content"]?["application/json"]?["schema"];
            var body = schema is null ? null : Baseline(Resolve(schema, schemas), schemas, world, null, 0);
            var bodyText = body?.ToJsonString();
            var valid = pathNames.ToDictionary(n => n, n => ValidSegment(template, n, world));
            string PathWith(IReadOnlyDictionary<string, string> values) =>
                pathNames.Aggregate(template, (path, name) => path.Replace($"{{{name}}}", values[name], StringComparison.Ordinal));
            var validPath = PathWith(valid);

            foreach (var name in pathNames)
            foreach (var segment in HostileSegments)
                yield return new(method, PathWith(new Dictionary<string, string>(valid) { [name] = segment }), bodyText);

            foreach (var name in queryNames)
            {
                foreach (var value in HostileQueryValues)
                    yield return new(method, $"{validPath}?{name}={value}", bodyText);
                yield return new(method, $"{validPath}?{name}=1&{name}=2", bodyText);
            }
            yield return new(method, $"{validPath}?unknownParameter=%ED%A0%80&{Uri.EscapeDataString("☃")}=1", bodyText);

            foreach (var text in NotJsonBodies.Concat(WrongRoots))
                yield return new(method, validPath, text);
            if (body is not JsonObject root) continue;
            foreach (var variant in PropertyVariations(root))
                yield return new(method, validPath, variant);
        }
    }

    /// <summary>The body with one property (at any depth, an array's first item included) replaced by each hostile value.</summary>
    private static IEnumerable<string> PropertyVariations(JsonObject root)
    {
        foreach (var place in Places(root, ""))
        foreach (var value in HostileValues)
        {
            var copy = root.DeepClone();
            var (parent, member) = Locate(copy, place);
            var replaced = $"\"__SWEEP__{Guid.NewGuid():N}\"";
            if (parent is JsonObject o) o[member] = JsonNode.Parse(replaced);
            else parent.AsArray()[0] = JsonNode.Parse(replaced);
            yield return copy.ToJsonString().Replace(replaced, value, StringComparison.Ordinal);
        }
    }

    private static IEnumerable<string> Places(JsonNode node, string prefix)
    {
        if (node is JsonObject o)
            foreach (var (name, child) in o)
            {
                yield return $"{prefix}/{name}";
                if (child is not null) foreach (var inner in Places(child, $"{prefix}/{name}")) yield return inner;
            }
        else if (node is JsonArray { Count: > 0 } a)
        {
            yield return $"{prefix}/0";
            if (a[0] is { } first) foreach (var inner in Places(first, $"{prefix}/0")) yield return inner;
        }
    }

    private static (JsonNode Parent, string Member) Locate(JsonNode root, string place)
    {
        var parts = place.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var node = root;
        foreach (var part in parts[..^1]) node = node is JsonArray a ? a[int.Parse(part, System.Globalization.CultureInfo.InvariantCulture)]! : node[part]!;
        return (node, parts[^1]);
    }

    private static JsonNode Resolve(JsonNode schema, JsonNode schemas)
    {
        while (true)
        {
            if (schema is not JsonObject) return new JsonObject(); // `true`: any value
            if (schema["$ref"] is { } reference) schema = schemas[reference.GetValue<string>().Split('/')[^1]]!;
            else if ((schema["oneOf"] ?? schema["anyOf"]) is { } choices)
                schema = choices.AsArray().First(c => c!["type"]?.ToString() != "null")!;
            else return schema;
        }
    }

    private static string? TypeOf(JsonNode schema) => schema["type"] switch
    {
        JsonArray types => types.Select(t => t!.GetValue<string>()).FirstOrDefault(t => t != "null"),
        { } type => type.GetValue<string>(),
        null => schema["properties"] is not null ? "object" : null,
    };

    /// <summary>A plausible value of the schema, so a variation gets past its neighbours to the property it changes.</summary>
    private static JsonNode? Baseline(JsonNode schema, JsonNode schemas, World world, string? property, int depth)
    {
        if (schema["enum"] is JsonArray values) return values[0]?.DeepClone();
        switch (TypeOf(schema))
        {
            case "object" when depth < 3:
                var result = new JsonObject();
                foreach (var (name, child) in schema["properties"]?.AsObject() ?? [])
                    result[name] = Baseline(Resolve(child!, schemas), schemas, world, name, depth + 1);
                if (schema["properties"] is null && property == "variables") result["company_name"] = "Acme";
                return result;
            case "array" when depth < 3:
                return schema["items"] is { } items ? new JsonArray(Baseline(Resolve(items, schemas), schemas, world, property, depth + 1)) : new JsonArray();
            case "integer" or "number": return 1;
            case "boolean": return false;
            case "string":
                return property switch
                {
                    "name" => UniqueName("sweep"),
                    "prompt" => world.Prompt,
                    "version" => "1.0.0",
                    "versionId" => world.VersionId,
                    "experimentId" => world.ExperimentId,
                    "content" => "Hello {{company_name}}",
                    "url" => world.HookUrl,
                    "events" => "version.created",
                    "timestamp" => "2026-01-01T00:00:00Z",
                    _ => "x",
                };
            default: return null;
        }
    }

    private static string ValidSegment(string template, string name, World world) => name switch
    {
        "name" => world.Prompt,
        "version" => "1.0.0",
        "label" => "staging",
        "deliveryId" => "1",
        _ when template.StartsWith("/api/experiments", StringComparison.Ordinal) => world.ExperimentId,
        _ when template.StartsWith("/api/keys", StringComparison.Ordinal) => world.KeyId,
        _ when template.StartsWith("/api/webhooks", StringComparison.Ordinal) => world.WebhookId,
        _ => "missing",
    };
}
