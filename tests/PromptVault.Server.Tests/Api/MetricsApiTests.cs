using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using PromptVault.Core.Metrics;
using static PromptVault.Server.Tests.ApiCalls;
using static PromptVault.Server.Tests.Experiments;

namespace PromptVault.Server.Tests.Api;

public sealed class MetricsApiTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private readonly HttpClient _client = fixture.Server.CreateClient();

    [Fact]
    public async Task Events_AreAggregatedPerVersion_WithErrorRateAndCostFromThePriceTable()
    {
        // A server of its own whose clock starts at the top of an hour: period=hour is the current clock hour, so on the shared
        // server's clock an hour that ended between the events and the reads left some (or all) of them out.
        await using var server = await RunningServer.StartAsync(new ServerSetup([], builder =>
            builder.Services.AddSingleton<TimeProvider>(new FromTheTopOfAnHour())), TestContext.Current.CancellationToken);
        using var client = server.CreateClient();
        var name = await CreateSupportPromptAsync(client);
        var versionId = (await GetAsync(client, $"/api/prompts/{name}/versions/1.0.0")).Body.Str("id");

        await RecordAsync(client,
        [
            new { versionId, latencyMs = 100, inputTokens = 1_000_000, outputTokens = 0, converted = true, qualityScore = 0.5 },
            new { versionId, latencyMs = 200, inputTokens = 0, outputTokens = 1_000_000, converted = false, error = "timeout" },
            new { versionId, latencyMs = 300, cost = 1.0, qualityScore = 1.0 },
            new { versionId, latencyMs = 400, error = "rate_limit" },
        ]);
        var (single, singleBody) = await PostAsync(client, "/api/metrics", new { versionId, userFeedback = 1, inputTokens = 1_000_000 });
        Assert.Equal(HttpStatusCode.OK, single);
        Assert.Equal(1, singleBody!["stored"]!.GetValue<int>());

        var (status, metrics) = await GetAsync(client, $"/api/prompts/{name}/versions/1.0.0/metrics?period=all");

        Assert.Equal(HttpStatusCode.OK, status);
        var summary = metrics!["summary"]!;
        Assert.Equal(5, summary["count"]!.GetValue<long>());
        Assert.Equal(0.4, summary["errorRate"]!.GetValue<double>(), 10);
        Assert.Equal(0.5, summary["conversionRate"]!.GetValue<double>(), 10);
        Assert.Equal(250, summary["latencyMs"]!["mean"]!.GetValue<double>(), 10);
        // gpt-4o-mini: $0.15 per million input tokens, $0.60 per million output tokens; the third event sent its own cost,
        // and the one sent alone is priced like those of a batch.
        Assert.Equal(0.15 + 0.60 + 1.0 + 0.15, summary["cost"]!["total"]!.GetValue<double>(), 10);
        Assert.Equal(0.75, summary["qualityScore"]!["mean"]!.GetValue<double>(), 10);
        Assert.Equal(1, summary["userFeedback"]!["mean"]!.GetValue<double>(), 10);

        var (_, hour) = await GetAsync(client, $"/api/prompts/{name}/versions/1.0.0/metrics?period=hour");
        Assert.Equal(5, hour!["summary"]!["count"]!.GetValue<long>());
        Assert.Single(hour["series"]!.AsArray());
        var (_, day) = await GetAsync(client, $"/api/prompts/{name}/versions/{versionId}/metrics?period=day");
        Assert.Equal(24, day!["series"]!.AsArray().Count);
    }

    [Fact]
    public async Task ABadBatch_StoresNothing_AndNamesTheEventAndField()
    {
        var name = await CreateSupportPromptAsync(_client);
        var versionId = (await GetAsync(_client, $"/api/prompts/{name}/versions/1.0.0")).Body.Str("id");

        var (status, problem) = await PostAsync(_client, "/api/metrics", new
        {
            events = new object[] { new { versionId, latencyMs = 10 }, new { versionId, latencyMs = 20 }, new { versionId, latencyMs = -5 } },
        });

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("events[2].latencyMs", problem.Str("field"));
        Assert.Contains("-5", problem.Str("detail"));
        Assert.Equal(0, await CountAsync(name));
    }

    [Theory]
    [InlineData("""{ "events": [ { "versionId": "V", "latencyMs": 1 }, { "versionId": "no-such-version" } ] }""", "events[1].versionId")]
    [InlineData("""{ "events": [ { "versionId": "no-such-version" }, { "versionId": "V", "latencyMs": -1 } ] }""", "events[1].latencyMs")]
    [InlineData("""{ "events": [ { "versionId": "V", "latencyMs": "fast" } ] }""", "events[0].latencyMs")]
    [InlineData("""{ "events": [ { "versionId": "V", "inputTokens": 1.5 } ] }""", "events[0].inputTokens")]
    [InlineData("""{ "events": [ { "versionId": "V", "experimentId": "nope", "variantId": "x" } ] }""", "events[0].experimentId")]
    [InlineData("""{ "versionId": "V", "cost": -1 }""", "cost")]
    [InlineData("""{ "latencyMs": 3 }""", "versionId")]
    [InlineData("""{ "events": [] }""", "events")]
    [InlineData("""{ "versionId": "V", "latencyMs": 1, "versionId": "V" }""", "versionId")]
    [InlineData("""{ "events": [{ "versionId": "V", "latencyMs": 1 }, { "versionId": "V", "latencyMs": 1, "latencyMs": 2 }] }""", "events[1].latencyMs")]
    [InlineData("""{ "events": [{ "versionId": "V", "latencyMs": 1 }], "events": [] }""", "events")]
    [InlineData("""{ "events": [{ "versionId": "V", "metadata": { "k": 1, "k": 2 } }] }""", "events[0].metadata")]
    public async Task InvalidEvents_Return400NamingTheField(string body, string field)
    {
        var name = await CreateSupportPromptAsync(_client);
        var versionId = (await GetAsync(_client, $"/api/prompts/{name}/versions/1.0.0")).Body.Str("id");

        var (status, problem) = await PostAsync(_client, "/api/metrics", body.Replace("\"V\"", $"\"{versionId}\"", StringComparison.Ordinal));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(field, problem.Str("field"));
        Assert.Equal(0, await CountAsync(name));
    }

    /// <summary>
    /// A configured price has no ceiling, so 100,000,000 tokens (the most an event may carry) can be priced above MaxCost. Such
    /// an event was refused with its batch, though a cost sent as such is the only one its sender can get wrong: it is recorded
    /// without a cost (its tokens count), and the batch's other events with theirs. A cost sent above MaxCost is still refused.
    /// </summary>
    [Fact]
    public async Task TokensPricedAboveMaxCost_AreRecordedWithoutACost_WhileASentCostAboveIsRefused()
    {
        await using var server = await RunningServer.StartAsync(new ServerSetup(
            ["--PromptVault:Prices:gpt-4o-mini:InputPerMillion=5000", "--PromptVault:Prices:gpt-4o-mini:OutputPerMillion=0"]),
            TestContext.Current.CancellationToken);
        using var client = server.CreateClient();
        var name = await CreateSupportPromptAsync(client);
        var versionId = (await GetAsync(client, $"/api/prompts/{name}/versions/1.0.0")).Body.Str("id");

        var (sentStatus, sent) = await PostAsync(client, "/api/metrics", new { versionId, cost = 500_000 });
        var (status, _) = await PostAsync(client, "/api/metrics", new
        {
            events = new object[] { new { versionId, inputTokens = 1_000 }, new { versionId, inputTokens = 100_000_000, outputTokens = 7 } },
        });
        var (_, metrics) = await GetAsync(client, $"/api/prompts/{name}/versions/1.0.0/metrics?period=all");

        Assert.Equal((HttpStatusCode.BadRequest, "out_of_range", "cost"), (sentStatus, sent.Str("code"), sent.Str("field")));
        Assert.Equal(HttpStatusCode.OK, status);
        var summary = metrics!["summary"]!;
        Assert.Equal(2, summary["count"]!.GetValue<long>());
        Assert.Equal(100_001_000, summary["inputTokens"]!["total"]!.GetValue<double>());
        Assert.Equal((1L, 5.0), (summary["cost"]!["n"]!.GetValue<long>(), summary["cost"]!["total"]!.GetValue<double>()));
    }

    [Fact]
    public async Task AVersionNumberForVersionId_IsRefusedSayingItTakesTheId()
    {
        var name = await CreateSupportPromptAsync(_client);

        var (status, problem) = await PostAsync(_client, "/api/metrics", new { versionId = "1.0.0", latencyMs = 5 });

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(("invalid_metric_event", "versionId"), (problem.Str("code"), problem.Str("field")));
        Assert.Equal("versionId '1.0.0' is not a version of any prompt: it takes the version's id, as a render answers it (\"versionId\"), not its number.",
            problem.Str("detail"));
        Assert.Equal(0, await CountAsync(name));
    }

    [Fact]
    public async Task AnUnknownVersionWithTokens_IsRefusedNamingIt()
    {
        var name = await CreateSupportPromptAsync(_client);
        var versionId = (await GetAsync(_client, $"/api/prompts/{name}/versions/1.0.0")).Body.Str("id");

        var (status, problem) = await PostAsync(_client, "/api/metrics", new
        {
            events = new object[] { new { versionId, inputTokens = 5 }, new { versionId = "no-such-version", inputTokens = 5 } },
        });

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(("invalid_metric_event", "events[1].versionId"), (problem.Str("code"), problem.Str("field")));
        Assert.Equal("events[1].versionId 'no-such-version' is not a version of any prompt.", problem.Str("detail"));
        Assert.Equal(0, await CountAsync(name));
    }

    [Theory]
    [InlineData("{\"versionId\": \"v\", \"timestamp\": \"0001-01-01T00:00:00+01:00\"}", "timestamp",
        "'timestamp' is invalid: 0001-01-01T00:00:00+01:00 is out of range: a date and time must fall within the years 1 to 9999 in UTC.")]
    [InlineData("{\"events\": [{\"versionId\": \"v\", \"timestamp\": \"yesterday\"}]}", "events[0].timestamp",
        "'events[0].timestamp' is invalid: yesterday is not an ISO 8601 date and time such as 2026-01-31T12:00:00Z.")]
    [InlineData("{\"versionId\": \"v\", \"inputTokens\": 1e2}", "inputTokens",
        "'inputTokens' is invalid: 1e2 is not a whole number from 0 to 100000000 written in digits (100, not 1e2 or 100.0).")]
    [InlineData("{\"events\": [{\"versionId\": \"v\", \"outputTokens\": 1.5}]}", "events[0].outputTokens",
        "'events[0].outputTokens' is invalid: 1.5 is not a whole number from 0 to 100000000 written in digits (100, not 1e2 or 100.0).")]
    [InlineData("{\"versionId\": \"v\", \"inputTokens\": 99999999999999999999}", "inputTokens",
        "'inputTokens' is invalid: 99999999999999999999 is not a whole number from 0 to 100000000 written in digits (100, not 1e2 or 100.0).")]
    [InlineData("{\"versionId\": \"v\", \"inputTokens\": \"100\"}", "inputTokens", "'inputTokens' has a value of the wrong JSON type: expected a whole number.")]
    [InlineData("{\"versionId\": \"v\", \"latencyMs\": \"fast\"}", "latencyMs", "'latencyMs' has a value of the wrong JSON type: expected a number.")]
    [InlineData("{\"events\": [{\"versionId\": \"v\", \"converted\": \"yes\"}]}", "events[0].converted", "'events[0].converted' has a value of the wrong JSON type: expected true or false.")]
    [InlineData("{\"versionId\": \"v\", \"timestamp\": 5}", "timestamp", "'timestamp' has a value of the wrong JSON type: expected an ISO 8601 date and time string such as 2026-01-31T12:00:00Z.")]
    public async Task ATimestampOrTokenCountItCannotRead_IsRefusedNamingTheFieldAndWhatIsWrong(string body, string field, string detail)
    {
        var (status, problem) = await PostAsync(_client, "/api/metrics", body);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(("invalid_json", field, detail), (problem.Str("code"), problem.Str("field"), problem.Str("detail")));
    }

    [Fact]
    public async Task ABodyThatIsMissingNotJsonOrMalformed_IsRefusedWithItsOwnCode()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        using var plain = new StringContent("""{ "versionId": "v" }""", System.Text.Encoding.UTF8, "text/plain");
        using var malformed = new StringContent("""{ "events": [ { "versionId": "v", } ] }""", System.Text.Encoding.UTF8, "application/json");

        var (empty, emptyProblem) = await SendAsync(_client, HttpMethod.Post, "/api/metrics");
        using var wrongType = await _client.PostAsync("/api/metrics", plain, cancellationToken);
        using var invalid = await _client.PostAsync("/api/metrics", malformed, cancellationToken);

        Assert.Equal((HttpStatusCode.BadRequest, "missing_body"), (empty, emptyProblem.Str("code")));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, wrongType.StatusCode);
        Assert.Equal("unsupported_media_type", JsonNode.Parse(await wrongType.Content.ReadAsStringAsync(cancellationToken)).Str("code"));
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        var invalidProblem = JsonNode.Parse(await invalid.Content.ReadAsStringAsync(cancellationToken));
        Assert.Equal(("invalid_json", "events[0]"), (invalidProblem.Str("code"), invalidProblem.Str("field")));
        Assert.Contains("trailing comma", invalidProblem.Str("detail"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnEventWhoseIdWasStored_IsAcknowledgedButNotCountedAgain()
    {
        var name = await CreateSupportPromptAsync(_client);
        var versionId = (await GetAsync(_client, $"/api/prompts/{name}/versions/1.0.0")).Body.Str("id");
        var id = UniqueName("evt");

        var first = await RecordAsync(_client, [new { id, versionId, latencyMs = 5 }, new { id = id + "-b", versionId, latencyMs = 6 }]);
        var retry = await RecordAsync(_client, [new { id, versionId, latencyMs = 5 }, new { id = id + "-c", versionId, latencyMs = 7 }]);

        Assert.Equal(2, first["stored"]!.GetValue<int>());
        Assert.Equal(1, retry["stored"]!.GetValue<int>());
        Assert.Equal([id], retry["duplicates"]!.AsArray().Select(d => d!.GetValue<string>()));
        Assert.Equal(3, await CountAsync(name));
    }

    [Theory]
    [InlineData("Events")]
    [InlineData("EVENTS")]
    [InlineData("\\u0065vents")]
    public async Task ABatchsMember_InAnyCaseOrEscaped_IsReadAsABatch(string member)
    {
        var name = await CreateSupportPromptAsync(_client);
        var versionId = (await GetAsync(_client, $"/api/prompts/{name}/versions/1.0.0")).Body.Str("id");

        var (status, body) = await PostAsync(_client, "/api/metrics",
            $$"""{ "{{member}}": [ { "versionId": "{{versionId}}", "latencyMs": 5 }, { "versionId": "{{versionId}}", "latencyMs": 6 } ] }""");

        Assert.True(status == HttpStatusCode.OK, body?.ToJsonString());
        Assert.Equal(2, body!["stored"]!.GetValue<int>());
        Assert.Equal(2, await CountAsync(name));
    }

    [Fact]
    public async Task AnUnknownVersionOrExperiment_IsEchoedAsEveryNotFoundIs() => await AssertUnknownReferencesEchoedAsync(_client);

    /// <summary>
    /// The version or experiment an event or an exposure names that does not exist is echoed by the rule of every not-found
    /// (<c>PromptRules.Echo</c>): a control character shows as <c>\u0001</c>, a long value is shortened. Run on each store.
    /// </summary>
    internal static async Task AssertUnknownReferencesEchoedAsync(HttpClient client)
    {
        var name = await CreateSupportPromptAsync(client);
        var versionId = (await GetAsync(client, $"/api/prompts/{name}/versions/1.0.0")).Body.Str("id");
        var typed = "a\u0001" + new string('x', 70);
        var echoed = "a\\u0001" + new string('x', 58) + "…";

        var (versionStatus, version) = await PostAsync(client, "/api/metrics", new { events = new object[] { new { versionId }, new { versionId = typed } } });
        var (experimentStatus, experiment) = await PostAsync(client, "/api/metrics", new { versionId, experimentId = typed, variantId = "v" });
        var (exposureStatus, exposure) = await PostAsync(client, "/api/exposures", new { exposures = new[] { new { experimentId = typed, variantId = "v", unitId = "u" } } });

        Assert.Equal((HttpStatusCode.BadRequest, "events[1].versionId"), (versionStatus, version.Str("field")));
        Assert.Equal($"events[1].versionId '{echoed}' is not a version of any prompt.", version.Str("detail"));
        Assert.Equal((HttpStatusCode.BadRequest, "experimentId"), (experimentStatus, experiment.Str("field")));
        Assert.Equal($"experimentId '{echoed}' is not an experiment.", experiment.Str("detail"));
        Assert.Equal((HttpStatusCode.BadRequest, "exposures[0].experimentId"), (exposureStatus, exposure.Str("field")));
        Assert.Equal($"exposures[0].experimentId '{echoed}' is not an experiment.", exposure.Str("detail"));
    }

    [Fact]
    public async Task AnEventForAVariant_MustNameThatVariantsVersion()
    {
        var (name, versions) = await CreatePromptWithChallengersAsync(_client);
        var experiment = await CreateAsync(_client, ThreeWay(name, versions));
        await MoveAsync(_client, experiment.Str("id"), "start");

        var (status, problem) = await PostAsync(_client, "/api/metrics", new
        {
            events = new object[] { new { versionId = versions[0], experimentId = experiment.Str("id"), variantId = VariantId(experiment, "casual"), converted = true } },
        });

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("events[0].versionId", problem.Str("field"));
    }

    private async Task<long> CountAsync(string name)
    {
        var (_, metrics) = await GetAsync(_client, $"/api/prompts/{name}/versions/1.0.0/metrics?period=all");
        return metrics!["summary"]!["count"]!.GetValue<long>();
    }

    /// <summary>The system's clock moved on to the start of the next hour when made: an hour passes before the next one starts.</summary>
    private sealed class FromTheTopOfAnHour : TimeProvider
    {
        private readonly TimeSpan _shift;

        public FromTheTopOfAnHour()
        {
            var now = System.GetUtcNow();
            _shift = MetricPeriods.HourOf(now).AddHours(1) - now;
        }

        public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + _shift;
    }
}
