using PromptVault.Server.Tests;

namespace PromptVault.Cli.Tests;

/// <summary><c>promptvault test</c> and the <c>tests:</c> block of prompt files, against a real server.</summary>
public sealed class TestCommandTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private static string PromptFile(string name, string body, string tests) => CommandTests.PromptFile(name, body, "tests:\n" + tests);

    private const string Tests = """
          - name: greets by name
            variables: { who: Ann }
            expect:
              - { type: contains, value: "Hello Ann" }
              - { type: maxLength, value: 40 }
          - name: no apology
            variables: { who: Bob }
            expect:
              - { type: notContains, value: sorry }
        """;

    [Fact]
    public async Task Test_AllChecksPass_ExitsZeroAndPrintsEachCase()
    {
        using var folder = new TempFolder();
        var name = ApiCalls.UniqueName("cli-test");
        await Cli.RunAsync(fixture.Server, null, "push", folder.Write("p.md", PromptFile(name, "Hello {{who}}.", Tests)));

        var result = await Cli.RunAsync(fixture.Server, null, "test", name);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("PASS greets by name", result.Out);
        Assert.Contains("    PASS contains: render contains 'Hello Ann'", result.Out);
        Assert.Contains($"{name} 1.0.0: passed, 2 of 2 cases passed", result.Out);
    }

    [Fact]
    public async Task Test_ACheckFails_ExitsOneAndSaysWhichAndWhy()
    {
        using var folder = new TempFolder();
        var name = ApiCalls.UniqueName("cli-test");
        var file = folder.Write("p.md", PromptFile(name, "Hello {{who}}.", Tests));
        await Cli.RunAsync(fixture.Server, null, "push", file);
        await File.WriteAllTextAsync(file, PromptFile(name, "Hello {{who}}, sorry for the wait.", Tests), TestContext.Current.CancellationToken);
        await Cli.RunAsync(fixture.Server, null, "push", file, "-m", "Apologise");

        var failing = await Cli.RunAsync(fixture.Server, null, "test", name);
        var first = await Cli.RunAsync(fixture.Server, null, "test", name, "--version", "1.0.0");

        Assert.Equal(1, failing.ExitCode);
        Assert.Contains("FAIL no apology", failing.Out);
        Assert.Contains("    FAIL notContains: render contains 'sorry' at character 11", failing.Out);
        Assert.Contains($"{name} 1.0.1: failed, 1 of 2 cases passed", failing.Out);
        Assert.Equal(0, first.ExitCode);
    }

    [Fact]
    public async Task Push_ACaseLacksARequiredVariable_IsRefusedNamingTheCaseAndVariable_NothingStored()
    {
        using var folder = new TempFolder();
        var name = ApiCalls.UniqueName("cli-test");
        var file = folder.Write("p.md", PromptFile(name, "Hello {{who}}.", """
              - name: nobody
                variables: {}
                expect:
                  - { type: contains, value: Hello }
            """));

        var pushed = await Cli.RunAsync(fixture.Server, null, "push", file);
        var listed = await Cli.RunAsync(fixture.Server, null, "get", name);

        Assert.NotEqual(0, pushed.ExitCode);
        Assert.Contains("tests[0] ('nobody') does not give 'who', which the version requires (required, with no defaultValue).", pushed.Error);
        Assert.NotEqual(0, listed.ExitCode);
    }

    [Fact]
    public async Task Test_NoTests_ExitsOneWithTheServersProblem_AndHintsAtThePromptFilesTestsBlock()
    {
        using var folder = new TempFolder();
        var name = ApiCalls.UniqueName("cli-test");
        await Cli.RunAsync(fixture.Server, null, "push", folder.Write("p.md", PromptFile(name, "Hello {{who}}.", "  []")));

        var result = await Cli.RunAsync(fixture.Server, null, "test", name);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("error (no_tests):", result.Error);
        Assert.Contains("hint: add a tests: block to the prompt's file (docs/evaluations.md#test-cases) and run 'promptvault push FILE'", result.Error);
    }

    [Fact]
    public async Task PullThenPush_TestsRoundTrip_AndATestsOnlyChangeUpdatesThem()
    {
        using var folder = new TempFolder();
        var name = ApiCalls.UniqueName("cli-test");
        await Cli.RunAsync(fixture.Server, null, "push", folder.Write("p.md", PromptFile(name, "Hello {{who}}.", Tests)));

        var pulled = await Cli.RunAsync(fixture.Server, null, "pull", name);
        var repushed = await Cli.RunAsync(fixture.Server, null, "push", folder.Write("pulled.md", pulled.Out));
        var changed = pulled.Out.Replace("\"sorry\"", "\"regret\"", StringComparison.Ordinal);
        var updated = await Cli.RunAsync(fixture.Server, null, "push", folder.Write("changed.md", changed));
        var after = await Cli.RunAsync(fixture.Server, null, "pull", name);

        Assert.Contains("tests:\n  - {", pulled.Out);
        Assert.Contains($"{name} 1.0.0 unchanged", repushed.Out);
        Assert.Contains($"{name} 1.0.0 test cases updated", updated.Out);
        Assert.Contains("\"regret\"", after.Out);
    }

    [Fact]
    public async Task Test_ModelChecks_PrintsTheAnswerAndEachVerdictWithTheJudgesScore_ExitsOneWhenACaseErrors()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var model = await FakeModelServer.StartAsync(ct);
        model.Script = request =>
        {
            var question = request["messages"]!.AsArray().Last()!["content"]!.GetValue<string>();
            return question switch
            {
                _ when request["response_format"]?["json_schema"]?["name"]?.GetValue<string>() == "judge_grade" =>
                    new FakeReply("""{ "score": 5, "reason": "Warm, and it answers with the order's status." }""", PromptTokens: 210, CompletionTokens: 18),
                _ when question.Contains("Ann", StringComparison.Ordinal) =>
                    new FakeReply("""{ "reply": "Hello Ann, your order ships today.", "mood": "glad" }""", PromptTokens: 42, CompletionTokens: 14),
                _ => new FakeReply("", Status: 503),
            };
        };
        await using var server = await RunningServer.StartAsync(new ServerSetup(
        [
            $"--PromptVault:Models:default:Endpoint={model.Endpoint}",
            "--PromptVault:Models:default:Model=gpt-4o-mini",
            "--PromptVault:Models:default:MaxRetries=0",
        ]), ct);
        using var folder = new TempFolder();
        var name = ApiCalls.UniqueName("cli-judge");
        await Cli.RunAsync(server, null, "push", folder.Write("p.md", $$"""
            ---
            name: {{name}}
            type: template
            variables:
              - { name: who, type: string, required: true }
            metadata:
              model: gpt-4o-mini
              responseFormat:
                title: reply
                type: object
                required: [reply]
                properties:
                  reply: { type: string }
                  mood: { enum: [glad, sorry] }
            tests:
              - name: greets by name
                variables: { who: Ann }
                expect:
                  - { type: contains, value: "Hello Ann", target: output }
                  - { type: jsonSchema }
                  - { type: judge, rubric: "Is the reply polite and does it answer where the order is?", passingScore: 4 }
              - name: provider down
                variables: { who: Bob }
                expect:
                  - { type: notContains, value: sorry, target: output }
            ---
            Greet {{"{{who}}"}} and say where their order is. Answer as JSON.

            """));

        var result = await Cli.RunAsync(server, null, "test", name);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("PASS greets by name", result.Out);
        Assert.Contains(@"    output (", result.Out);
        Assert.Contains("42 in + 14 out tokens", result.Out);
        Assert.Contains("""): { "reply": "Hello Ann, your order ships today.", "mood": "glad" }""", result.Out);
        Assert.Contains("    PASS contains: output contains 'Hello Ann'", result.Out);
        Assert.Contains("    PASS jsonSchema: output matches metadata.responseFormat", result.Out);
        Assert.Contains("    PASS judge: scored 5 of 5, at least the passing score 4: Warm, and it answers with the order's status.", result.Out);
        Assert.Contains("ERROR provider down", result.Out);
        Assert.Contains("    error: model 'default' (gpt-4o-mini) failed: the provider answered HTTP 503", result.Out);
        Assert.Contains($"{name} 1.0.0: error, 1 of 2 cases passed", result.Out);
        if (Environment.GetEnvironmentVariable("PROMPTVAULT_DOCS_OUTPUT") is { Length: > 0 } docs) // to refresh docs/evaluations.md
            await File.WriteAllTextAsync(docs, result.Out, ct);
    }

    [Fact]
    public async Task Test_RunOutlastsTheCliRequestTimeout_WaitsForTheServerAndPrintsTheRun()
    {
        // A run lasts as long as its cases (a slow model, many cases): the CLI's usual request timeout (here 1 s) would give up on it,
        // and the server would cancel the run and store nothing. The model answers after 2 s.
        var ct = TestContext.Current.CancellationToken;
        await using var model = await FakeModelServer.StartAsync(ct);
        model.Answer = _ => "Hello Ann.";
        model.Delay = TimeSpan.FromSeconds(2);
        await using var server = await RunningServer.StartAsync(new ServerSetup(
        [
            $"--PromptVault:Models:default:Endpoint={model.Endpoint}",
            "--PromptVault:Models:default:Model=gpt-4o-mini",
        ]), ct);
        using var folder = new TempFolder();
        var name = ApiCalls.UniqueName("cli-slow");
        await Cli.RunAsync(server, null, "push", folder.Write("p.md", PromptFile(name, "Greet {{who}}.", """
              - name: greets by name
                variables: { who: Ann }
                expect:
                  - { type: contains, value: "Hello Ann", target: output }
            """)));

        var result = await Cli.RunAsync(server, null, TimeSpan.FromSeconds(1), "test", name);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("    PASS contains: output contains 'Hello Ann'", result.Out);
        Assert.Contains($"{name} 1.0.0: passed, 1 of 1 cases passed", result.Out);
    }
}
