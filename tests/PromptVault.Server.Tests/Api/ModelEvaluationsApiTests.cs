using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using PromptVault.Core.Evaluations;
using PromptVault.Core.Metrics;
using PromptVault.Server.Hosting;
using static PromptVault.Server.Tests.ApiCalls;

namespace PromptVault.Server.Tests.Api;

/// <summary>
/// A server whose default model is a scripted fake provider: each test files the replies for its own company name, which the
/// rendered support prompt carries; the judge's grade depends on the answer it grades. Cases run two at once, each within 10 s.
/// A second server's model is unreachable. A third, on the same fake model, gives a case 2 s, so a case that times out on purpose
/// is not waited on for 10.
/// </summary>
public sealed class ModelEvaluationsFixture : IAsyncLifetime
{
    public const string JudgeFormat = "judge_grade";

    /// <summary>An answer holding this is not graded: the judge's call fails with HTTP 503.</summary>
    public const string JudgeDown = "(the judge is down)";

    public FakeModelServer Model { get; private set; } = null!;

    public RunningServer Server { get; private set; } = null!;

    public RunningServer Unreachable { get; private set; } = null!;

    /// <summary>The fake model's server with a case timeout of 2 s.</summary>
    public RunningServer Hurried { get; private set; } = null!;

    /// <summary>The reply to a prompt whose render contains the key.</summary>
    public ConcurrentDictionary<string, FakeReply> Replies { get; } = new();

    public async ValueTask InitializeAsync()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        Model = await FakeModelServer.StartAsync(cancellationToken);
        Model.Script = Reply;
        Task<RunningServer>[] starting =
        [
            StartAsync([.. Settings(Model.Endpoint), "--PromptVault:Evaluations:MaxConcurrency=2", "--PromptVault:Evaluations:CaseTimeout=00:00:10"]),
            StartAsync([.. Settings(Model.Endpoint), "--PromptVault:Evaluations:CaseTimeout=00:00:02"]),
            // Port 1 on loopback: nothing listens, so the connection is refused, and refused again when retried (as by default):
            // the SDK reports every attempt's failure together, which was a 500 and a run lost.
            StartAsync(Settings("http://127.0.0.1:1/v1", retries: 1)),
        ];
        try
        {
            await Task.WhenAll(starting);
        }
        catch
        {
            // One that did not start leaves the others running, and none of them is a property for DisposeAsync yet.
            foreach (var started in starting.Where(start => start.IsCompletedSuccessfully)) await started.Result.DisposeAsync();
            throw;
        }
        (Server, Hurried, Unreachable) = (starting[0].Result, starting[1].Result, starting[2].Result);

        Task<RunningServer> StartAsync(string[] settings) => RunningServer.StartAsync(new ServerSetup(settings), cancellationToken);

        static string[] Settings(string endpoint, int retries = 0) =>
        [
            $"--PromptVault:Models:default:Endpoint={endpoint}",
            "--PromptVault:Models:default:Model=gpt-4o-mini",
            $"--PromptVault:Models:default:MaxRetries={retries}",
        ];
    }

    private FakeReply Reply(JsonObject request)
    {
        var question = request["messages"]!.AsArray().Last()!["content"]!.GetValue<string>();
        if ((string?)request["response_format"]?["json_schema"]?["name"] == JudgeFormat)
        {
            var answer = question[(question.LastIndexOf("The assistant's answer:", StringComparison.Ordinal) + 1)..];
            if (answer.Contains(JudgeDown, StringComparison.Ordinal)) return new FakeReply("", Status: 503);
            return new FakeReply(answer.Contains("whatever", StringComparison.Ordinal)
                ? """{ "score": 2, "reason": "Curt and dismissive." }"""
                : """{ "score": 5, "reason": "Polite and answers the question." }""");
        }
        return Replies.FirstOrDefault(r => question.Contains(r.Key, StringComparison.Ordinal)).Value ?? new FakeReply("unscripted");
    }

    public async ValueTask DisposeAsync()
    {
        if (Unreachable is not null) await Unreachable.DisposeAsync();
        if (Hurried is not null) await Hurried.DisposeAsync();
        if (Server is not null) await Server.DisposeAsync();
        if (Model is not null) await Model.DisposeAsync();
    }
}

public sealed class ModelEvaluationsApiTests(ModelEvaluationsFixture fixture) : IClassFixture<ModelEvaluationsFixture>
{
    private readonly HttpClient _client = fixture.Server.CreateClient();

    private static object Case(string name, string company, params object[] expect) =>
        new { name, variables = new { company_name = company }, expect };

    private static object Output(string type, object? value = null) => new { type, value, target = "output" };

    private async Task<JsonNode> EvaluateAsync(HttpClient client, string name, params object[] cases)
    {
        var (saved, problem) = await PutAsync(client, $"/api/prompts/{name}/versions/latest/tests", new { tests = cases });
        Assert.True(saved == HttpStatusCode.OK, problem?.ToJsonString());
        var (status, run) = await PostAsync(client, $"/api/prompts/{name}/versions/latest/evaluate", null);
        Assert.True(status == HttpStatusCode.Created, run?.ToJsonString());
        var (_, stored) = await GetAsync(client, $"/api/evaluations/{run.Str("id")}");
        Assert.Equal(run!.ToJsonString(), stored!.ToJsonString());
        return stored;
    }

    private List<JsonObject> SentFor(string company) =>
        fixture.Model.Requests.Where(r => r["messages"]!.ToJsonString().Contains(company, StringComparison.Ordinal)).ToList();

    [Fact]
    public async Task Evaluate_OutputChecks_AsksTheModelOncePerCaseAndRecordsOutputLatencyTokensAndCost()
    {
        var name = await CreateSupportPromptAsync(_client);
        var company = UniqueName("acme");
        fixture.Replies[company] = new FakeReply($"Sorry, {company} cannot help with that.", PromptTokens: 77, CompletionTokens: 11);

        var run = await EvaluateAsync(_client, name,
            Case("names the company", company, Output("contains", company), new { type = "contains", value = company }),
            Case("no apology", company, Output("notContains", "Sorry"), Output("maxLength", 500)));

        Assert.True(run.Str("status") == "failed", run.ToJsonString());
        var cases = run["cases"]!.AsArray();
        Assert.True(cases[0]!["passed"]!.GetValue<bool>(), cases[0]!.ToJsonString());
        Assert.Equal(["output contains", "render contains"], cases[0]!["checks"]!.AsArray().Select(c => c.Str("reason")[..15]));
        Assert.False(cases[1]!["passed"]!.GetValue<bool>());
        Assert.Equal("output contains 'Sorry' at character 0: '…Sorry, " + company + " cannot help with that.'", cases[1]!["checks"]![0].Str("reason"));
        Assert.True(cases[1]!["checks"]![1]!["passed"]!.GetValue<bool>());
        foreach (var result in cases)
        {
            Assert.Null(result!["error"]);
            Assert.Equal($"Sorry, {company} cannot help with that.", result.Str("output"));
            Assert.True(result["latencyMs"]!.GetValue<double>() > 0);
            Assert.Equal(77, result["inputTokens"]!.GetValue<long>());
            Assert.Equal(11, result["outputTokens"]!.GetValue<long>());
            Assert.Equal(PriceTable.Default.CostOf("gpt-4o-mini", 77, 11)!.Value, result["cost"]!.GetValue<double>(), 12);
        }
        // One call per case: the version's render as the user message, with the version's settings.
        var sent = SentFor(company);
        Assert.Equal(2, sent.Count);
        Assert.All(sent, request =>
        {
            Assert.Equal(cases[0].Str("render"), request["messages"]!.AsArray().Single()!.Str("content"));
            Assert.Equal("gpt-4o-mini", request.Str("model"));
            Assert.Equal(0.3, Math.Round(request["temperature"]!.GetValue<double>(), 3));
        });
    }

    [Fact]
    public async Task Evaluate_JsonSchema_ValidatesTheAnswerAgainstTheResponseFormat_NamingPathAndKeyword()
    {
        var name = await CreateSupportPromptAsync(_client);
        await NewVersionAsync(_client, name, new
        {
            content = SupportTemplate,
            metadata = new
            {
                model = "gpt-4o-mini",
                responseFormat = Json("""
                    { "title": "reply", "type": "object", "required": ["answer"],
                      "properties": { "answer": { "type": "string" }, "confidence": { "type": "number", "maximum": 1 } } }
                    """),
            },
            changeDescription = "Structured answers",
        });
        var (valid, tooSure, prose) = (UniqueName("valid"), UniqueName("sure"), UniqueName("prose"));
        fixture.Replies[valid] = new FakeReply("""{ "answer": "Your order ships today.", "confidence": 0.9 }""");
        fixture.Replies[tooSure] = new FakeReply("""{ "answer": "Yes.", "confidence": 3 }""");
        fixture.Replies[prose] = new FakeReply("Your order ships today.");

        var run = await EvaluateAsync(_client, name,
            Case("valid", valid, new { type = "jsonSchema" }),
            Case("too sure", tooSure, new { type = "jsonSchema" }),
            Case("prose", prose, new { type = "jsonSchema" }));

        Assert.Equal("failed", run.Str("status"));
        var reasons = run["cases"]!.AsArray().Select(c => (c!["checks"]![0]!["passed"]!.GetValue<bool>(), c["checks"]![0].Str("reason"))).ToList();
        Assert.Equal((true, "output matches metadata.responseFormat"), reasons[0]);
        Assert.False(reasons[1].Item1);
        Assert.StartsWith("output does not match metadata.responseFormat at '/confidence': maximum:", reasons[1].Item2);
        Assert.False(reasons[2].Item1);
        Assert.StartsWith("output is not JSON (", reasons[2].Item2);
        // The response format went to the provider as the version's JSON schema.
        Assert.Equal("reply", SentFor(valid).Single()["response_format"]!["json_schema"].Str("name"));
    }

    [Fact]
    public async Task Evaluate_Judge_KeepsTheScoreAndReason_PassesAtThePassingScore()
    {
        var name = await CreateSupportPromptAsync(_client);
        var (kind, curt) = (UniqueName("kind"), UniqueName("curt"));
        fixture.Replies[kind] = new FakeReply("Of course! Your order ships today.");
        fixture.Replies[curt] = new FakeReply("whatever, check the website.");
        var judge = new { type = "judge", rubric = "Is the answer polite?", passingScore = 4 };

        var run = await EvaluateAsync(_client, name, Case("kind", kind, judge), Case("curt", curt, judge));

        Assert.Equal("failed", run.Str("status"));
        var checks = run["cases"]!.AsArray().Select(c => c!["checks"]![0]!).ToList();
        Assert.True(checks[0]!["passed"]!.GetValue<bool>());
        Assert.Equal(5, checks[0]!["score"]!.GetValue<int>());
        Assert.Equal("scored 5 of 5, at least the passing score 4: Polite and answers the question.", checks[0].Str("reason"));
        Assert.False(checks[1]!["passed"]!.GetValue<bool>());
        Assert.Equal(2, checks[1]!["score"]!.GetValue<int>());
        Assert.Equal("scored 2 of 5, below the passing score 4: Curt and dismissive.", checks[1].Str("reason"));
        // The judge saw the rubric, the prompt it answered and the answer, and was asked for a grade.
        var grading = fixture.Model.Requests.Single(r => (string?)r["response_format"]?["json_schema"]?["name"] == ModelEvaluationsFixture.JudgeFormat
            && r["messages"]!.ToJsonString().Contains(curt, StringComparison.Ordinal));
        var question = grading["messages"]!.AsArray().Last().Str("content");
        Assert.Contains("Is the answer polite?", question);
        Assert.Contains($"support agent for {curt}.", question);
        Assert.EndsWith("whatever, check the website.", question);
    }

    [Fact]
    public async Task Evaluate_JudgeFails_TheAnswersOtherChecksStillRun_TheJudgeSaysWhyNot()
    {
        var name = await CreateSupportPromptAsync(_client);
        var company = UniqueName("judge-down");
        fixture.Replies[company] = new FakeReply("Hello, sorry " + ModelEvaluationsFixture.JudgeDown);
        var judge = new { type = "judge", rubric = "Is the answer polite?" };

        var run = await EvaluateAsync(_client, name, Case("graded", company, Output("contains", "Hello"), judge, Output("notContains", "sorry")));

        Assert.Equal("error", run.Str("status"));
        var result = run["cases"]![0]!;
        Assert.False(result["passed"]!.GetValue<bool>());
        Assert.StartsWith("the judge, model 'default', failed: the provider answered HTTP 503", result.Str("error"));
        var checks = result["checks"]!.AsArray();
        Assert.Equal((true, "output contains 'Hello'"), (checks[0]!["passed"]!.GetValue<bool>(), checks[0].Str("reason")));
        Assert.StartsWith("not checked: the judge, model 'default', failed", checks[1].Str("reason"));
        Assert.False(checks[2]!["passed"]!.GetValue<bool>());
        Assert.StartsWith("output contains 'sorry'", checks[2].Str("reason"));
    }

    [Fact]
    public async Task Evaluate_SlowCase_IsAnErrorNamingTheTimeout_TheOthersStillRun()
    {
        using var client = fixture.Hurried.CreateClient();
        var name = await CreateSupportPromptAsync(client);
        var (slow, quick) = (UniqueName("slow"), UniqueName("quick"));
        fixture.Replies[slow] = new FakeReply("late", Delay: TimeSpan.FromSeconds(30));
        fixture.Replies[quick] = new FakeReply("Hello!");

        var run = await EvaluateAsync(client, name, Case("slow", slow, Output("contains", "late")), Case("quick", quick, Output("contains", "Hello")));

        Assert.Equal("error", run.Str("status"));
        var cases = run["cases"]!.AsArray();
        Assert.False(cases[0]!["passed"]!.GetValue<bool>());
        Assert.Equal("the case timed out: it did not finish within 2 s (PromptVault:Evaluations:CaseTimeout)", cases[0].Str("error"));
        Assert.StartsWith("not checked: the case timed out", cases[0]!["checks"]![0].Str("reason"));
        Assert.True(cases[1]!["passed"]!.GetValue<bool>(), cases[1]!.ToJsonString());
        Assert.Equal("Hello!", cases[1].Str("output"));
    }

    [Fact]
    public async Task Evaluate_Provider500_CaseErrors_RenderChecksStillRun_AndTheGateRefusesThePromotion()
    {
        var name = await CreateGatedSupportPromptAsync(_client);
        var broken = UniqueName("broken");
        fixture.Replies[broken] = new FakeReply("", Status: 500);

        var run = await EvaluateAsync(_client, name, Case("broken", broken, new { type = "contains", value = broken }, Output("contains", "x")));
        var (promote, problem) = await PutAsync(_client, $"/api/prompts/{name}/labels/production", new { version = "1.0.0" });

        Assert.Equal("error", run.Str("status"));
        var result = run["cases"]![0]!;
        Assert.Contains("model 'default' (gpt-4o-mini) failed: the provider answered HTTP 500", result.Str("error"));
        Assert.True(result["checks"]![0]!["passed"]!.GetValue<bool>());
        Assert.False(result["checks"]![1]!["passed"]!.GetValue<bool>());
        Assert.Equal(HttpStatusCode.Conflict, promote);
        Assert.Equal("tests_failed", problem.Str("code"));
        Assert.Contains(run.Str("id"), problem.Str("detail"));
    }

    [Fact]
    public async Task Promote_RequireTests_ARunThatStartedBeforeTheCasesChanged_DoesNotCount_ThoughStoredAfter()
    {
        var name = await CreateGatedSupportPromptAsync(_client);
        var company = UniqueName("before-put");
        var (asked, answer) = (new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        fixture.Replies[company] = new FakeReply("Hello!", Gate: answer.Task, Asked: asked);
        var tests = $"/api/prompts/{name}/versions/1.0.0/tests";
        await PutAsync(_client, tests, new { tests = new[] { Case("old", company, Output("contains", "Hello")) } });

        var running = PostAsync(_client, $"/api/prompts/{name}/versions/1.0.0/evaluate", null);
        // The run has read the old cases once it asks the model; the new cases land while the model holds its answer back.
        await asked.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        await PutAsync(_client, tests, new { tests = new[] { Case("new", company, new { type = "contains", value = "Initech" }) } });
        var (_, beforeStored) = await PutAsync(_client, $"/api/prompts/{name}/labels/production", new { version = "1.0.0" });
        answer.SetResult();
        var (_, run) = await running;
        var (promote, problem) = await PutAsync(_client, $"/api/prompts/{name}/labels/production", new { version = "1.0.0" });

        // The case: no run was stored when the cases changed, and the run stored after them is the one refused.
        Assert.Contains("version 1.0.0 has no evaluation run", beforeStored.Str("detail"));
        Assert.Equal(("passed", "old"), (run.Str("status"), run!["cases"]![0].Str("name")));
        Assert.Equal(HttpStatusCode.Conflict, promote);
        Assert.Equal("tests_required", problem.Str("code"));
        Assert.Contains($"the test cases of version 1.0.0 changed since its latest evaluation run {run.Str("id")} started", problem.Str("detail"));
    }

    [Fact]
    public async Task Evaluate_ProviderAnswersSomethingNotACompletion_CaseErrorsSayingSo_TheOthersStillRun()
    {
        var name = await CreateSupportPromptAsync(_client);
        var (html, empty, oddFinish, good) = (UniqueName("html"), UniqueName("empty"), UniqueName("finish"), UniqueName("good"));
        fixture.Replies[html] = new FakeReply("", Body: "<html>Sign in to the proxy</html>");
        fixture.Replies[empty] = new FakeReply("", Body: """{ "choices": [] }""");
        fixture.Replies[oddFinish] = new FakeReply("", Body: """{ "choices": [ { "index": 0, "message": { "role": "assistant", "content": "hi" }, "finish_reason": "eos" } ] }""");
        fixture.Replies[good] = new FakeReply("Hello!");

        var run = await EvaluateAsync(_client, name, Case("html", html, Output("contains", "x")), Case("empty", empty, Output("contains", "x")),
            Case("odd finish", oddFinish, Output("contains", "x")), Case("good", good, Output("contains", "Hello")));

        Assert.Equal("error", run.Str("status"));
        var cases = run["cases"]!.AsArray();
        foreach (var failed in cases.Take(3))
            Assert.StartsWith("model 'default' (gpt-4o-mini) failed: the provider's answer is not a chat completion: ", failed.Str("error"));
        Assert.Contains("'<' is an invalid start of a value.", cases[0].Str("error"));
        Assert.True(cases[3]!["passed"]!.GetValue<bool>(), cases[3]!.ToJsonString());
    }

    [Fact]
    public async Task Evaluate_AnswerPastTheDefaultMaxAnswerBytes_CaseErrorsNamingTheLimit_TheOthersKeepTheirVerdicts()
    {
        var name = await CreateSupportPromptAsync(_client);
        var (huge, good) = (UniqueName("huge"), UniqueName("good"));
        fixture.Replies[huge] = new FakeReply(new string('x', 3 * 1024 * 1024));
        fixture.Replies[good] = new FakeReply("Hello!");

        var run = await EvaluateAsync(_client, name, Case("huge", huge, Output("contains", "x")), Case("good", good, Output("contains", "Hello")));

        Assert.Equal("error", run.Str("status"));
        var cases = run["cases"]!.AsArray();
        Assert.Equal("model 'default' (gpt-4o-mini) failed: the model's answer exceeded 1048576 bytes (PromptVault:Models:default:MaxAnswerBytes)", cases[0].Str("error"));
        Assert.Null(cases[0]!["output"]);
        Assert.True(cases[1]!["passed"]!.GetValue<bool>(), cases[1]!.ToJsonString());
    }

    [Fact]
    public void ANonPositiveMaxAnswerBytes_StopsStartUp_NamingIt()
    {
        var options = new ServerOptions { DatabasePath = Path.Combine(Path.GetTempPath(), "unused.db"), Urls = "http://127.0.0.1:0" };

        var error = Assert.Throws<InvalidOperationException>(() => PromptVaultServer.Build(options,
            ["--PromptVault:Models:default:Endpoint=http://127.0.0.1:1/v1", "--PromptVault:Models:default:Model=m", "--PromptVault:Models:default:MaxAnswerBytes=0"]));

        Assert.Contains("configuration PromptVault:Models:default:MaxAnswerBytes must be a positive number of bytes", error.Message);
    }

    [Fact]
    public async Task Evaluate_ProviderErrorAnswers_AreDescribedOnOneLine_WithoutEmptyParts()
    {
        var name = await CreateSupportPromptAsync(_client);
        var (typed, coded, bare, proxy, empty) = (UniqueName("typed"), UniqueName("coded"), UniqueName("bare"), UniqueName("proxy"), UniqueName("empty"));
        fixture.Replies[typed] = new FakeReply("", Status: 503);
        fixture.Replies[coded] = new FakeReply("", Status: 404,
            Body: """{ "error": { "message": "The model\n does not exist.", "type": "invalid_request_error", "code": "model_not_found", "param": null } }""");
        fixture.Replies[bare] = new FakeReply("", Status: 429, Body: """{ "error": { "message": "Slow down.", "type": "", "code": null } }""");
        fixture.Replies[proxy] = new FakeReply("", Status: 502, Body: "<html>\n  Bad   gateway\n</html>");
        fixture.Replies[empty] = new FakeReply("", Status: 500, Body: "");

        var run = await EvaluateAsync(_client, name, [.. new[] { typed, coded, bare, proxy, empty }.Select(c => Case(c, c, Output("contains", "x")))]);

        var errors = run["cases"]!.AsArray().Select(c => c.Str("error")).ToList();
        const string Failed = "model 'default' (gpt-4o-mini) failed: the provider answered ";
        Assert.Equal(
        [
            Failed + "HTTP 503 (server_error): the fake provider is failing",
            Failed + "HTTP 404 (invalid_request_error, model_not_found): The model does not exist.",
            Failed + "HTTP 429: Slow down.",
            Failed + "HTTP 502: <html> Bad gateway </html>",
            Failed + "HTTP 500",
        ], errors);
    }

    [Fact]
    public async Task Evaluate_ProviderUnreachable_CaseErrorsSayingSo()
    {
        var client = fixture.Unreachable.CreateClient();
        var name = await CreateSupportPromptAsync(client);

        var run = await EvaluateAsync(client, name, Case("any", "Acme", Output("contains", "x")));

        Assert.Equal("error", run.Str("status"));
        Assert.Contains("failed: the provider could not be reached", run["cases"]![0].Str("error"));
    }

    [Fact]
    public async Task Evaluate_ManyCases_RunAtMostMaxConcurrencyAtOnce()
    {
        var name = await CreateSupportPromptAsync(_client);
        var company = UniqueName("busy");
        fixture.Replies[company] = new FakeReply("ok", Delay: TimeSpan.FromMilliseconds(300));
        fixture.Model.ResetMaxInFlight();

        var run = await EvaluateAsync(_client, name, [.. Enumerable.Range(0, 6).Select(i => Case($"case {i}", company, Output("equals", "ok")))]);

        Assert.Equal("passed", run.Str("status"));
        Assert.Equal(6, SentFor(company).Count);
        // Tests of a class run one at a time, so no other test's requests overlap these.
        Assert.Equal(2, fixture.Model.MaxInFlight);
    }

    [Theory]
    [InlineData("--PromptVault:Evaluations:MaxConcurrency=0", "MaxConcurrency")]
    [InlineData("--PromptVault:Evaluations:CaseTimeout=00:00:00", "CaseTimeout")]
    public void ABadEvaluationsSetting_StopsStartUp_NamingIt(string setting, string key)
    {
        var options = new ServerOptions { DatabasePath = Path.Combine(Path.GetTempPath(), "unused.db"), Urls = "http://127.0.0.1:0" };

        var error = Assert.Throws<InvalidOperationException>(() => PromptVaultServer.Build(options, [setting]));

        // Named as the user writes it, not by the .NET options type (ServerConfigurationTests).
        Assert.Contains($"PromptVault:Evaluations:{key}", error.Message);
        Assert.DoesNotContain(nameof(EvaluationsOptions), error.Message);
    }
}
