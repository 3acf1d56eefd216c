using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using PromptVault.Core.Auth;
using PromptVault.Core.Metrics;
using PromptVault.Core.Models;
using PromptVault.Server.Hosting;
using static PromptVault.Server.Tests.ApiCalls;

namespace PromptVault.Server.Tests.Api;

/// <summary>A server with models configured: one answering (a fake provider on loopback), one failing with 500, one too slow, one answering
/// an HTML page with 200 (a proxy in the way) and one such page as a stream's event, one failing with 500 only for prompts holding "Refuse me", one rate-limited (429 with a long Retry-After) and allowed a retry, one rate-limited twice with a wait that fits the timeout once,
/// one answering more than its MaxAnswerBytes and allowed retries, one answering an error longer than that; and one unreachable.</summary>
public sealed class PlaygroundFixture : IAsyncLifetime
{
    private readonly List<IAsyncDisposable> _started = [];

    public FakeModelServer Model { get; private set; } = null!;

    public RunningServer Server { get; private set; } = null!;

    /// <summary>Answers 5000 characters to a model allowed 1000 bytes.</summary>
    public FakeModelServer Bulky { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        Model = await StartAsync(FakeModelServer.StartAsync(cancellationToken));
        var failing = await StartAsync(FakeModelServer.StartAsync(cancellationToken));
        failing.Status = 500;
        var slow = await StartAsync(FakeModelServer.StartAsync(cancellationToken));
        slow.Delay = TimeSpan.FromSeconds(10);
        var garbled = await StartAsync(FakeModelServer.StartAsync(cancellationToken));
        garbled.Script = _ => new FakeReply("", Body: "<html>Sign in to the proxy</html>");
        var garbledStream = await StartAsync(FakeModelServer.StartAsync(cancellationToken));
        garbledStream.Script = _ => new FakeReply("", Body: "data: <html>Sign in to the proxy</html>\n\n");
        var picky = await StartAsync(FakeModelServer.StartAsync(cancellationToken));
        picky.Script = request => request["messages"]!.ToJsonString().Contains("Refuse me", StringComparison.Ordinal)
            ? new FakeReply("", (int)HttpStatusCode.InternalServerError)
            : new FakeReply("answer to: " + request["messages"]!.AsArray().Last()!["content"]);
        var limited = await StartAsync(FakeModelServer.StartAsync(cancellationToken));
        limited.Script = _ => new FakeReply("", (int)HttpStatusCode.TooManyRequests, RetryAfter: TimeSpan.FromSeconds(30));
        var limitedAgain = await StartAsync(FakeModelServer.StartAsync(cancellationToken));
        limitedAgain.Script = _ => new FakeReply("", (int)HttpStatusCode.TooManyRequests, RetryAfter: TimeSpan.FromSeconds(2));
        Bulky = await StartAsync(FakeModelServer.StartAsync(cancellationToken));
        Bulky.Answer = _ => new string('x', 5000);
        var bulkyError = await StartAsync(FakeModelServer.StartAsync(cancellationToken));
        bulkyError.Script = _ => new FakeReply("", (int)HttpStatusCode.ServiceUnavailable,
            Body: $$"""{ "error": { "message": "overloaded {{new string('x', 5000)}}", "type": "server_error" } }""");
        Server = await StartAsync(RunningServer.StartAsync(new ServerSetup(
        [
            .. Settings("default", Model.Endpoint, "--PromptVault:Models:default:ApiKey=sk-test"),
            .. Settings("failing", failing.Endpoint),
            .. Settings("slow", slow.Endpoint, "--PromptVault:Models:slow:Timeout=00:00:00.500"),
            .. Settings("garbled", garbled.Endpoint),
            .. Settings("garbledStream", garbledStream.Endpoint),
            .. Settings("picky", picky.Endpoint),
            .. Settings("limited", limited.Endpoint, "--PromptVault:Models:limited:Timeout=00:00:01", "--PromptVault:Models:limited:MaxRetries=1"),
            // Its first wait (2 s) fits the timeout (3 s); the second does not fit what the first left of it.
            .. Settings("limitedAgain", limitedAgain.Endpoint, "--PromptVault:Models:limitedAgain:Timeout=00:00:03", "--PromptVault:Models:limitedAgain:MaxRetries=2"),
            .. Settings("bulky", Bulky.Endpoint, "--PromptVault:Models:bulky:MaxAnswerBytes=1000", "--PromptVault:Models:bulky:MaxRetries=2"),
            .. Settings("bulkyError", bulkyError.Endpoint, "--PromptVault:Models:bulkyError:MaxAnswerBytes=1000"),
            // Port 1 on loopback: nothing listens, so the connection is refused.
            .. Settings("down", "http://127.0.0.1:1/v1"),
            // Refused again when retried: the SDK reports every attempt's failure together, which was a 500.
            .. Settings("downRetried", "http://127.0.0.1:1/v1", "--PromptVault:Models:downRetried:MaxRetries=1"),
            // 120 input tokens at this price cost 120,000, above MetricEventRules.MaxCost (100,000).
            "--PromptVault:Prices:pricey-model:InputPerMillion=1000000000",
            "--PromptVault:Prices:pricey-model:OutputPerMillion=0",
        ]), cancellationToken));
    }

    private static string[] Settings(string name, string endpoint, params string[] more) =>
    [
        $"--PromptVault:Models:{name}:Endpoint={endpoint}",
        $"--PromptVault:Models:{name}:Model=gpt-4o-mini",
        $"--PromptVault:Models:{name}:MaxRetries=0",
        .. more,
    ];

    private async Task<T> StartAsync<T>(Task<T> starting) where T : IAsyncDisposable
    {
        var started = await starting;
        _started.Add(started);
        return started;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var started in Enumerable.Reverse(_started)) await started.DisposeAsync();
    }
}

public sealed class PlaygroundApiTests(PlaygroundFixture fixture, ServerFixture withoutModels) : IClassFixture<PlaygroundFixture>, IClassFixture<ServerFixture>
{
    private readonly HttpClient _client = fixture.Server.CreateClient();

    [Fact]
    public async Task Run_TwoVersions_RendersEachAndAnswersWithItsSettingsSideBySide()
    {
        var name = await CreateSupportPromptAsync(_client);
        await NewVersionAsync(_client, name, new
        {
            content = SupportTemplate + "\nBe brief.",
            metadata = new { model = "gpt-4o", temperature = 0.9, maxTokens = 200 },
            changeDescription = "Brief, on a larger model",
        });

        var (status, body) = await PostAsync(_client, "/api/playground", new
        {
            prompt = name,
            versions = new object[] { new { version = "1.0.0" }, new { version = "1.0.1" } },
            variables = new { company_name = name },
        });

        Assert.True(status == HttpStatusCode.OK, body?.ToJsonString());
        Assert.Equal(name, body.Str("prompt"));
        Assert.Equal("default", body.Str("model"));
        var results = body!["results"]!.AsArray();
        Assert.Equal(["1.0.0", "1.0.1"], results.Select(r => r.Str("version")));
        Assert.StartsWith($"You are a helpful customer support agent for {name}.", results[0].Str("render"));
        Assert.EndsWith("Be brief.", results[1].Str("render"));
        foreach (var result in results)
        {
            Assert.Equal("answer to: " + result.Str("render"), result.Str("output"));
            Assert.Equal(120, result!["inputTokens"]!.GetValue<long>());
            Assert.Equal(30, result["outputTokens"]!.GetValue<long>());
            Assert.True(result["latencyMs"]!.GetValue<double>() > 0);
        }
        Assert.Equal(["gpt-4o-mini", "gpt-4o"], results.Select(r => r.Str("modelId")));
        Assert.Equal(PriceTable.Default.CostOf("gpt-4o-mini", 120, 30)!.Value, results[0]!["cost"]!.GetValue<double>(), 12);
        Assert.Equal(PriceTable.Default.CostOf("gpt-4o", 120, 30)!.Value, results[1]!["cost"]!.GetValue<double>(), 12);

        // What the provider received: each version's rendered prompt as the user message, with that version's settings.
        var sent = SentFor(name).OrderBy(r => r.Str("model")).ToList();
        Assert.Equal(2, sent.Count);
        Assert.Equal(["gpt-4o", "gpt-4o-mini"], sent.Select(r => r.Str("model")));
        Assert.Equal([0.9, 0.3], sent.Select(r => Math.Round(r["temperature"]!.GetValue<double>(), 3)));
        Assert.Equal([200, 500], sent.Select(r => (r["max_completion_tokens"] ?? r["max_tokens"])!.GetValue<int>()));
        var message = sent[1]["messages"]!.AsArray().Single()!;
        Assert.Equal("user", message.Str("role"));
        Assert.Equal(results[0].Str("render"), message.Str("content"));
        Assert.Equal("Bearer sk-test", fixture.Model.LastAuthorization);
    }

    [Fact]
    public async Task Run_ByLabel_RunsTheLabelledVersion()
    {
        var name = await CreateSupportPromptAsync(_client);
        await NewVersionAsync(_client, name, new { content = SupportTemplate + "\nBe brief.", changeDescription = "Brief" });
        Assert.Equal(HttpStatusCode.OK, (await PutAsync(_client, $"/api/prompts/{name}/labels/staging", new { version = "1.0.0" })).Status);

        var (status, body) = await PostAsync(_client, "/api/playground", new
        {
            prompt = name,
            versions = new object[] { new { label = "staging" }, new { version = "latest" } },
            variables = new { company_name = name },
        });

        Assert.True(status == HttpStatusCode.OK, body?.ToJsonString());
        Assert.Equal(["1.0.0", "1.0.1"], body!["results"]!.AsArray().Select(r => r.Str("version")));
    }

    /// <summary>An archived entry of versions was refused with the render route's words and field (version), not naming the entry.</summary>
    [Fact]
    public async Task Run_ArchivedVersionEntry_Returns409NamingTheEntryAndCallsNoModel()
    {
        var name = await CreateSupportPromptAsync(_client);
        await NewVersionAsync(_client, name, new { content = SupportTemplate + "\nBe brief.", changeDescription = "Brief" });
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(_client, $"/api/prompts/{name}/versions/1.0.0/status", new { status = "archived" })).Status);

        var (status, body) = await PostAsync(_client, "/api/playground", new
        {
            prompt = name,
            versions = new object[] { new { version = "1.0.1" }, new { version = "1.0.0" } },
            variables = new { company_name = name },
        });

        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal(("version_archived", "versions[1]"), (body.Str("code"), body.Str("field")));
        Assert.Equal($"versions[1] is version 1.0.0 of '{name}', which is archived, so the playground cannot run it (an archived version never renders); " +
            "run a version that is not archived, or paste its content as a draft to try it.", body.Str("detail"));
        Assert.Empty(SentFor(name));
    }

    [Fact]
    public async Task Run_DraftBesideAVersion_RendersAndAnswersTheDraftAndStoresNothing()
    {
        var name = await CreateSupportPromptAsync(_client);

        var (status, body) = await PostAsync(_client, "/api/playground", new
        {
            prompt = name,
            versions = new object[] { new { version = "1.0.0" } },
            drafts = new object[] { new { content = SupportTemplate + "\nAnswer in French.", metadata = new { model = "gpt-4o" } } },
            variables = new { company_name = name },
        });
        var (_, history) = await GetAsync(_client, $"/api/prompts/{name}/versions");

        Assert.True(status == HttpStatusCode.OK, body?.ToJsonString());
        var results = body!["results"]!.AsArray();
        Assert.Equal(2, results.Count);
        Assert.Null(results[0]!["draft"]);
        var draft = results[1]!;
        Assert.True(draft["draft"]!.GetValue<bool>());
        Assert.Equal("1.0.0", draft.Str("version"));
        Assert.Null(draft["versionId"]);
        Assert.EndsWith("Answer in French.", draft.Str("render"));
        Assert.Equal("answer to: " + draft.Str("render"), draft.Str("output"));
        Assert.Equal("gpt-4o", draft.Str("modelId"));
        Assert.Equal(["gpt-4o", "gpt-4o-mini"], SentFor(name).Select(r => r.Str("model")).Order());
        Assert.Single(history!["versions"]!.AsArray());
    }

    [Theory]
    [InlineData("""{ "content": "Hello {{nobody}}" }""", "unknown_variable", "drafts[0].content")]
    [InlineData("""{ "content": "" }""", "missing_content", "drafts[0].content")]
    [InlineData("""{ "messages": [ { "role": "user", "content": "Hi" } ] }""", "messages_not_allowed", "drafts[0].messages")]
    [InlineData("""{ "content": "Hi", "metadata": { "temperature": 7 } }""", "out_of_range", "drafts[0].metadata.temperature")]
    public async Task Run_DraftBreakingASaveRule_Returns400NamingTheDraftFieldAndCallsNoModel(string draft, string code, string field)
    {
        var name = await CreateSupportPromptAsync(_client);

        var (status, body) = await PostAsync(_client, "/api/playground",
            JsonNode.Parse($$"""{ "prompt": "{{name}}", "drafts": [ {{draft}} ], "variables": { "company_name": "{{name}}" } }"""));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(code, body.Str("code"));
        Assert.Equal(field, body.Str("field"));
        Assert.StartsWith("drafts[0]: ", body.Str("detail"));
        Assert.Empty(SentFor(name));
    }

    /// <summary>A number beyond a double's range was read as infinity: "must be between 0 and 2, not Infinity".</summary>
    [Fact]
    public async Task Run_DraftSettingBeyondADoublesRange_Returns400NamingItsFieldAndTextAndCallsNoModel()
    {
        var name = await CreateSupportPromptAsync(_client);
        using var content = new StringContent(
            $$"""{ "prompt": "{{name}}", "drafts": [ { "content": "Hi", "metadata": { "temperature": 1e400 } } ], "variables": { "company_name": "{{name}}" } }""",
            System.Text.Encoding.UTF8, "application/json");

        using var response = await _client.PostAsync("/api/playground", content, TestContext.Current.CancellationToken);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_json", body.Str("code"));
        Assert.Equal("drafts[0].metadata.temperature", body.Str("field"));
        Assert.Contains("1e400 is beyond the range of a number", body.Str("detail"));
        Assert.Empty(SentFor(name));
    }

    [Fact]
    public async Task Run_UnknownVersion_Returns404AndCallsNoModel()
    {
        var name = await CreateSupportPromptAsync(_client);

        var (status, body) = await PostAsync(_client, "/api/playground", new
        {
            prompt = name,
            versions = new object[] { new { version = "1.0.0" }, new { version = "9.9.9" } },
            variables = new { company_name = name },
        });

        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("version_not_found", body.Str("code"));
        Assert.Contains("9.9.9", body.Str("detail"));
        Assert.Empty(SentFor(name));
    }

    [Fact]
    public async Task Run_MissingRequiredVariable_Returns400NamingItAndCallsNoModel()
    {
        var name = await CreateSupportPromptAsync(_client);

        var (status, body) = await PostAsync(_client, "/api/playground", new
        {
            prompt = name,
            versions = new object[] { new { version = "1.0.0" } },
            variables = new { customer_name = name },
        });

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("company_name", body.Str("detail"));
        Assert.Empty(SentFor(name));
    }

    [Theory]
    [InlineData("""[{ "version": "1.0.0" }, null]""", "invalid_versions", "versions[1]")]
    [InlineData("""[{}]""", "invalid_versions", "versions[0]")]
    [InlineData("""[{ "version": "" }]""", "invalid_versions", "versions[0]")]
    [InlineData("""[{ "label": "" }]""", "invalid_versions", "versions[0]")]
    [InlineData("""[{ "versoin": "1.0.0" }]""", "unknown_field", "versions[0].versoin")]
    [InlineData("""[{ "version": "1.0.0" }, { "version": "1.0.0", "label": "staging" }]""", "label_and_version", "versions[1]")]
    public async Task Run_VersionEntryNamingNoVersion_Returns400NamingTheEntry_NotTheProductionVersion(string versions, string code, string field)
    {
        // No production label: without the check the entry fell back to it and answered 404 label_not_found 'production'.
        var name = await CreateSupportPromptAsync(_client);

        var (status, body) = await PostAsync(_client, "/api/playground", $$"""{ "prompt": "{{name}}", "versions": {{versions}}, "variables": { "company_name": "x" } }""");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(code, body.Str("code"));
        Assert.Equal(field, body.Str("field"));
        Assert.Empty(SentFor(name));
    }

    [Theory]
    [InlineData(""", "modle": "gpt-4o" """, "modle")]
    [InlineData(""", "drafts": [{ "content": "Hi {{company_name}}", "metdata": { "model": "m" } }]""", "drafts[0].metdata")]
    public async Task Run_MemberTheRequestDoesNotTake_Returns400UnknownFieldNamingIt(string member, string field)
    {
        // Dropped, a misspelt model answered the renders alone with 200, and a draft ran without its settings.
        var name = await CreateSupportPromptAsync(_client);

        var (status, body) = await PostAsync(_client, "/api/playground",
            $$"""{ "prompt": "{{name}}", "versions": [{ "version": "1.0.0" }], "variables": { "company_name": "x" }{{member}} }""");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(("unknown_field", field), (body.Str("code"), body.Str("field")));
        Assert.Empty(SentFor(name));
    }

    /// <summary>The detail says how many runs the request lists, so a caller sees which of its lists went over.</summary>
    [Theory]
    [InlineData("[]", ", \"drafts\": []", 0)]
    [InlineData("[{}, {}, {}, {}, {}]", "", 5)]
    [InlineData("[{ \"version\": \"1.0.0\" }, { \"version\": \"1.0.0\" }]", ", \"drafts\": [{}, {}, {}]", 5)]
    public async Task Run_NoneOrTooManyVersions_Returns400SayingHowManyTheRequestLists(string versions, string drafts, int runs)
    {
        var name = await CreateSupportPromptAsync(_client);

        var (status, body) = await PostAsync(_client, "/api/playground", $$"""{ "prompt": "{{name}}", "versions": {{versions}}{{drafts}}, "variables": { "company_name": "x" } }""");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(("invalid_versions", "versions"), (body.Str("code"), body.Str("field")));
        Assert.EndsWith($"; this request lists {runs}.", body.Str("detail"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("failing", "the provider answered HTTP 500")]
    [InlineData("down", "the provider could not be reached")]
    [InlineData("downRetried", "the provider could not be reached: Connection refused")]
    [InlineData("slow", "the provider did not answer within 0.5 s (PromptVault:Models:slow:Timeout)")]
    // A 429 asking for a wait past the Timeout says so at once, rather than waiting out the timeout and hiding the rate limit.
    [InlineData("limited", "the provider rate-limited the call (HTTP 429) and asked to wait 30 s, longer than the timeout of 1 s (PromptVault:Models:limited:Timeout)")]
    [InlineData("garbled", "the provider's answer is not a chat completion: '<' is an invalid start of a value.")]
    [InlineData("bulky", "the model's answer exceeded 1000 bytes (PromptVault:Models:bulky:MaxAnswerBytes)")]
    // An error's body past MaxAnswerBytes is cut there: the call failed because of the error, not its size.
    [InlineData("bulkyError", "the provider answered HTTP 503: { \"error\": { \"message\": \"overloaded xxx")]
    public async Task Run_ProviderFailsUnreachableOrTooSlow_Returns502SayingWhich(string model, string failure)
    {
        var name = await CreateSupportPromptAsync(_client);

        var (status, body) = await RunAsync(_client, name, model);

        Assert.Equal(HttpStatusCode.BadGateway, status);
        Assert.Equal("model_error", body.Str("code"));
        Assert.Contains($"model '{model}' (gpt-4o-mini) failed: {failure}", body.Str("detail"));
    }

    /// <summary>
    /// A second 429 is weighed against what the first attempt and its wait left of the Timeout, not the whole of it: a wait of 2 s
    /// fits a timeout of 3 s, but not after a first wait of 2 s, which ended in "did not answer within 3 s", hiding the rate limit.
    /// </summary>
    [Fact]
    public async Task Run_ASecond429AskingForMoreThanTheTimeLeft_Returns502SayingSo()
    {
        var name = await CreateSupportPromptAsync(_client);

        var (status, body) = await RunAsync(_client, name, "limitedAgain");

        Assert.Equal(HttpStatusCode.BadGateway, status);
        Assert.Matches(@"model 'limitedAgain' \(gpt-4o-mini\) failed: the provider rate-limited the call \(HTTP 429\) and asked to wait 2 s, "
            + @"longer than the (0|0\.\d+|1) s left of the timeout of 3 s \(PromptVault:Models:limitedAgain:Timeout\)", body.Str("detail"));
    }

    /// <summary>
    /// An answer's usage priced above MaxCost was shown (and an evaluation's stored) as its cost, where a metric event priced
    /// so is refused: a model answer is held to the same rule, and the run says which tokens and price came to it.
    /// </summary>
    [Fact]
    public async Task Run_UsagePricedAboveMaxCost_Returns502NamingTheTokensAndPrice()
    {
        var name = await CreateSupportPromptAsync(_client);
        await NewVersionAsync(_client, name, new { content = SupportTemplate, metadata = new { model = "pricey-model" }, changeDescription = "Pricey" });

        var (status, body) = await RunAsync(_client, name, "default", version: "1.0.1");

        Assert.Equal(HttpStatusCode.BadGateway, status);
        Assert.Equal("model_error", body.Str("code"));
        Assert.Contains("model 'default' (pricey-model) answered, and its usage priced (120 input tokens at 1000000000 and 30 output tokens "
            + "at 0 per million) cost 120000; a cost must be at most 100,000.", body.Str("detail"));
    }

    /// <summary>Nothing in the product asks for a streamed answer; a model's client still fails one as it fails a single answer,
    /// so what describes that failure (ModelCaller.Describe) describes this one.</summary>
    [Theory]
    [InlineData("bulky", "the model's answer exceeded 1000 bytes (PromptVault:Models:bulky:MaxAnswerBytes)")]
    [InlineData("garbledStream", "the provider's answer is not a chat completion")]
    [InlineData("slow", "the provider did not answer within 0.5 s (PromptVault:Models:slow:Timeout)")]
    public async Task StreamedAnswer_TooLargeUnreadableOrTooSlow_FailsAsASingleAnswerDoes(string model, string failure)
    {
        var client = fixture.Server.Services.GetRequiredService<ModelCatalog>().Require(model).Client;

        var error = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await foreach (var _ in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Hello")], cancellationToken: TestContext.Current.CancellationToken))
            {
            }
        });

        Assert.Equal(failure, error.Message);
    }

    [Fact]
    public async Task Run_AnswerPastMaxAnswerBytes_IsNotRetried()
    {
        var name = await CreateSupportPromptAsync(_client);

        await RunAsync(_client, name, "bulky");

        // MaxRetries is 2, but asking again would get the same oversized answer.
        Assert.Single(fixture.Bulky.Requests, request => request.ToJsonString().Contains(name, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Run_OneOfSeveralModelCallsFails_Returns200WithTheOtherAnswers_AndThatRunsError()
    {
        var name = await CreateSupportPromptAsync(_client);
        await NewVersionAsync(_client, name, new { content = SupportTemplate + "\nRefuse me.", changeDescription = "Refused by the provider" });

        var (status, body) = await PostAsync(_client, "/api/playground", new
        {
            prompt = name,
            versions = new object[] { new { version = "1.0.0" }, new { version = "1.0.1" } },
            drafts = new object[] { new { content = "Draft for {{company_name}}. Refuse me." } },
            variables = new { company_name = name },
            model = "picky",
        });

        Assert.True(status == HttpStatusCode.OK, body?.ToJsonString());
        var results = body!["results"]!.AsArray();
        Assert.Equal(3, results.Count);
        Assert.Equal("answer to: " + results[0].Str("render"), results[0].Str("output"));
        Assert.Equal(120, results[0]!["inputTokens"]!.GetValue<long>());
        Assert.Null(results[0]!["error"]);
        foreach (var refused in results.Skip(1))
        {
            Assert.Null(refused!["output"]);
            Assert.StartsWith("model 'picky' (gpt-4o-mini) failed: the provider answered HTTP 500", refused.Str("error"), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Run_EveryModelCallFails_Returns502()
    {
        var name = await CreateSupportPromptAsync(_client);

        var (status, body) = await PostAsync(_client, "/api/playground", new
        {
            prompt = name,
            versions = new object[] { new { version = "1.0.0" } },
            drafts = new object[] { new { content = "Draft for {{company_name}}." } },
            variables = new { company_name = name },
            model = "failing",
        });

        Assert.Equal(HttpStatusCode.BadGateway, status);
        Assert.Contains("model 'failing' (gpt-4o-mini) failed: the provider answered HTTP 500", body.Str("detail"), StringComparison.Ordinal);
    }

    /// <summary>An unknown or blank model is the caller's error, named and listing the configured models (a blank one was 503).</summary>
    [Theory]
    [InlineData("gpt-9", "model_not_found")]
    [InlineData(" ", "blank_field")]
    public async Task Run_UnknownOrBlankModel_Returns400ListingTheConfiguredOnes(string model, string code)
    {
        var name = await CreateSupportPromptAsync(_client);

        var (status, body) = await RunAsync(_client, name, model);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(code, body.Str("code"));
        Assert.Equal("model", body.Str("field"));
        Assert.Contains("default", body.Str("detail"));
    }

    [Fact]
    public async Task Run_NoModelConfiguredAndBlankModel_Returns400NamingModel()
    {
        using var client = withoutModels.Server.CreateClient();
        var name = await CreateSupportPromptAsync(client);

        var (status, body) = await RunAsync(client, name, "");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("blank_field", body.Str("code"));
        Assert.Equal("model", body.Str("field"));
        Assert.Equal("model is blank; leave it out: no model is configured.", body.Str("detail"));
    }

    /// <summary>A name longer than any model may have is the caller's mistake, named first: without models it was the 503 of a server with none.</summary>
    [Theory]
    [InlineData(false, 101)]
    [InlineData(true, 101)]
    [InlineData(true, 100_000)]
    public async Task Run_ModelNameOverTheLimit_Returns400NamingIt_WhateverTheConfiguration(bool modelsConfigured, int length)
    {
        using var client = (modelsConfigured ? fixture.Server : withoutModels.Server).CreateClient();
        var name = await CreateSupportPromptAsync(client);

        var (status, body) = await RunAsync(client, name, new string('m', length));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(("too_long", "model"), (body.Str("code"), body.Str("field")));
        Assert.Equal($"model is {length:N0} characters long; the limit is 100.", body.Str("detail"));
        Assert.Empty(SentFor(name));
    }

    [Fact]
    public async Task Run_NoModelConfigured_RendersOnly()
    {
        using var client = withoutModels.Server.CreateClient();
        var name = await CreateSupportPromptAsync(client);

        var (status, body) = await PostAsync(client, "/api/playground", new
        {
            prompt = name,
            versions = new object[] { new { version = "1.0.0" } },
            variables = new { company_name = name },
        });

        Assert.True(status == HttpStatusCode.OK, body?.ToJsonString());
        Assert.Null(body!["model"]);
        var result = body["results"]![0]!;
        Assert.Contains(name, result.Str("render"));
        Assert.Null(result["output"]);
        Assert.Null(result["cost"]);
    }

    /// <summary>The setting named is the default model's, not the caller's name repeated (a 100 KB name came back whole).</summary>
    [Theory]
    [InlineData("default", 1)]
    [InlineData("m", 100)]
    public async Task Run_NoModelConfiguredButOneNamed_Returns503NamingTheSetting(string part, int times)
    {
        using var client = withoutModels.Server.CreateClient();
        var name = await CreateSupportPromptAsync(client);

        var (status, body) = await RunAsync(client, name, string.Concat(Enumerable.Repeat(part, times)));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("model_not_configured", body.Str("code"));
        Assert.Contains("PromptVault:Models:default:Endpoint", body.Str("detail"));
        Assert.True(body.Str("detail").Length < 300, body.Str("detail"));
    }

    [Fact]
    public async Task Run_ReaderKey_Returns403()
    {
        var reader = await fixture.Server.CreateKeyAsync("reader-" + UniqueName(), ApiKeyRole.Reader, TestContext.Current.CancellationToken);
        using var client = fixture.Server.CreateClient(reader);
        var name = await CreateSupportPromptAsync(_client);

        var (status, _) = await RunAsync(client, name, "default");

        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Empty(SentFor(name));
    }

    [Theory]
    [InlineData("--PromptVault:Models:house:Model=m", "PromptVault:Models:house:Endpoint is required")]
    [InlineData("--PromptVault:Models:house:Endpoint=localhost:8080", "PromptVault:Models:house:Endpoint must be an absolute http(s) URL")]
    [InlineData("--PromptVault:Models:Endpoint=http://127.0.0.1:9/v1", "use PromptVault:Models:default:Endpoint")]
    [InlineData("--PromptVault:Models:mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm:Model=m", "names a model with 101 characters; a model's name is at most 100.")]
    public void AMissingOrBadModelSetting_StopsStartUp_NamingTheKey(string setting, string message)
    {
        var options = new ServerOptions { DatabasePath = Path.Combine(Path.GetTempPath(), "unused.db"), Urls = "http://127.0.0.1:0" };

        var error = Assert.Throws<InvalidOperationException>(() => PromptVaultServer.Build(options, [setting, "--PromptVault:Models:house:Model=m"]));

        Assert.Contains(message, error.Message);
    }

    private static Task<(HttpStatusCode Status, JsonNode? Body)> RunAsync(HttpClient client, string name, string model, string version = "1.0.0") =>
        PostAsync(client, "/api/playground", new
        {
            prompt = name,
            versions = new object[] { new { version } },
            variables = new { company_name = name },
            model,
        });

    /// <summary>The requests the provider received for this test's prompt (its name is the company in the render).</summary>
    private IEnumerable<JsonObject> SentFor(string name) =>
        fixture.Model.Requests.Where(r => r["messages"]!.ToJsonString().Contains(name, StringComparison.Ordinal));
}
