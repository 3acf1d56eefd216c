using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using static PromptVault.Server.Tests.ApiCalls;

namespace PromptVault.Server.Tests.Api;

public sealed class EvaluationsApiTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private readonly HttpClient _client = fixture.Server.CreateClient();

    private static object Tests(params object[] cases) => new { tests = cases };

    private static object Case(string name, string company, params object[] expect) =>
        new { name, variables = new { company_name = company }, expect };

    private static string VersionPath(string name, string version) => $"/api/prompts/{name}/versions/{version}";

    [Fact]
    public async Task PutTests_ThenGet_ReturnsThemWithDefaults()
    {
        var name = await CreateSupportPromptAsync(_client);

        var (status, _) = await PutAsync(_client, VersionPath(name, "1.0.0") + "/tests",
            Tests(Case("names the company", "Acme", new { type = "contains", value = "Acme" })));
        var (_, body) = await GetAsync(_client, VersionPath(name, "1.0.0") + "/tests");

        Assert.Equal(HttpStatusCode.OK, status);
        var check = body!["tests"]![0]!["expect"]![0]!;
        Assert.Equal("contains", check.Str("type"));
        Assert.Equal("render", check.Str("target"));
        Assert.Equal("Acme", body["tests"]![0]!["variables"]!.Str("company_name"));
    }

    /// <summary>A case with a check of the model's answer, run on a server with no model, said only "(PromptVault:Models)": it names
    /// the settings to add, as the playground's 503 does.</summary>
    [Fact]
    public async Task Evaluate_JudgeCheckWithNoModelConfigured_TheCaseSaysWhichSettingsToAdd()
    {
        var name = await CreateSupportPromptAsync(_client);
        await PutAsync(_client, VersionPath(name, "1.0.0") + "/tests",
            Tests(Case("polite", "Acme", new { type = "judge", rubric = "Is it polite?" })));

        var (status, run) = await PostAsync(_client, VersionPath(name, "1.0.0") + "/evaluate", new { });

        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("error", run.Str("status"));
        Assert.Equal("this case has checks of the model's answer, and no model is configured: set PromptVault:Models:default:Endpoint and :Model "
            + "(an OpenAI-compatible endpoint) in the server's configuration", run!["cases"]![0].Str("error"));
    }

    /// <summary>A repeated PUT (the SDK retries one whose answer was lost) acts once: the same answer, one audit entry.</summary>
    [Fact]
    public async Task PutTests_Unchanged_AnswersTheSameAndWritesNoAuditEntry()
    {
        var name = await CreateSupportPromptAsync(_client);
        var path = VersionPath(name, "1.0.0") + "/tests";
        var tests = Tests(Case("names the company", "Acme", new { type = "contains", value = "Acme" }));

        var (firstStatus, first) = await PutAsync(_client, path, tests);
        var (againStatus, again) = await PutAsync(_client, path, tests);
        var (_, audit) = await GetAsync(_client, $"/api/audit?prompt={name}&action=version.tests_changed");

        Assert.Equal(HttpStatusCode.OK, firstStatus);
        Assert.Equal(HttpStatusCode.OK, againStatus);
        Assert.Equal(first!.ToJsonString(), again!.ToJsonString());
        Assert.Single(audit!["entries"]!.AsArray());
    }

    [Theory]
    [InlineData("""{ "type": "resembles", "value": "x" }""", "tests[1].expect[0].type")]
    [InlineData("""{ "type": "regex", "value": "(unclosed" }""", "tests[1].expect[0].value")]
    [InlineData("""{ "type": "regex", "value": "(a)\\1" }""", "tests[1].expect[0].value")]
    [InlineData("""{ "type": "contains" }""", "tests[1].expect[0].value")]
    [InlineData("""{ "type": "maxLength", "value": "ten" }""", "tests[1].expect[0].value")]
    [InlineData("""{ "type": "judge", "rubric": "Polite", "passingScore": 6 }""", "tests[1].expect[0].passingScore")]
    [InlineData("""{ "type": "judge", "rubric": "Polite", "passingScore": 0 }""", "tests[1].expect[0].passingScore")]
    [InlineData("""{ "type": "judge" }""", "tests[1].expect[0].rubric")]
    [InlineData("""{ "type": "contains", "value": "x", "target": "answer" }""", "tests[1].expect[0].target")]
    public async Task PutTests_BadCheck_Returns400NamingCaseAndField(string check, string field)
    {
        var (status, problem, name) = await PutAFineCaseAndABadCheckAsync(check);
        var (_, stored) = await GetAsync(_client, VersionPath(name, "1.0.0") + "/tests");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_test", problem.Str("code"));
        Assert.Equal(field, problem.Str("field"));
        Assert.Empty(stored!["tests"]!.AsArray());
    }

    /// <summary>A member the check's type does not read was stored and ignored (a rubric on equals, a value on judge), and a
    /// value of the wrong kind was called missing ("is required"), which sent the user looking for a member they had written.</summary>
    [Theory]
    [InlineData("""{ "type": "equals", "value": "x", "rubric": "Polite" }""", "tests[1].expect[0].rubric",
        "tests[1].expect[0].rubric belongs to judge checks only; equals checks against its value, so remove it.")]
    [InlineData("""{ "type": "judge", "value": "5", "rubric": "Polite" }""", "tests[1].expect[0].value",
        "tests[1].expect[0].value is not taken by judge, which checks the model's answer against its rubric; remove it.")]
    [InlineData("""{ "type": "jsonSchema", "value": { "type": "object" } }""", "tests[1].expect[0].value",
        "tests[1].expect[0].value is not taken by jsonSchema, which checks the model's answer against the version's metadata.responseFormat; remove it.")]
    [InlineData("""{ "type": "maxLength", "value": -1 }""", "tests[1].expect[0].value",
        "tests[1].expect[0].value is -1; maxLength takes a whole number of characters, 0 or more.")]
    [InlineData("""{ "type": "maxLength", "value": "forty" }""", "tests[1].expect[0].value",
        "tests[1].expect[0].value is a string; maxLength takes a whole number of characters, 0 or more.")]
    [InlineData("""{ "type": "contains", "value": 5 }""", "tests[1].expect[0].value",
        "tests[1].expect[0].value is 5; contains takes a string.")]
    [InlineData("""{ "type": "contains", "value": null }""", "tests[1].expect[0].value",
        "tests[1].expect[0].value is required for contains: a string.")]
    [InlineData("""{ "type": "judge", "rubric": "Polite", "passingScore": 4.5 }""", "tests[1].expect[0].passingScore",
        "'tests[1].expect[0].passingScore' is invalid: 4.5 is not a whole number from 1 to 5 written in digits (100, not 1e2 or 100.0).")]
    public async Task PutTests_CheckMemberItsTypeDoesNotTakeOrOfTheWrongKind_Returns400SayingWhatWasGiven(string check, string field, string detail)
    {
        var (status, problem, _) = await PutAFineCaseAndABadCheckAsync(check);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(field, problem.Str("field"));
        Assert.Equal(detail, problem.Str("detail"));
    }

    private async Task<(HttpStatusCode Status, JsonNode? Problem, string Name)> PutAFineCaseAndABadCheckAsync(string check)
    {
        var name = await CreateSupportPromptAsync(_client);
        var body = JsonNode.Parse($$"""
            { "tests": [
                { "name": "fine", "variables": {}, "expect": [ { "type": "contains", "value": "x" } ] },
                { "name": "bad", "variables": {}, "expect": [ {{check}} ] } ] }
            """);
        var (status, problem) = await PutAsync(_client, VersionPath(name, "1.0.0") + "/tests", body);
        return (status, problem, name);
    }

    /// <summary>Dropped, a misspelt <c>target</c> checked the render instead of the model's answer, and a misspelt <c>unitId</c> rendered with none.</summary>
    [Theory]
    [InlineData("""{ "name": "bad", "variables": {}, "expect": [ { "type": "contains", "value": "x", "targt": "output" } ] }""", "tests[1].expect[0].targt", "type, value, target, rubric, passingScore")]
    [InlineData("""{ "name": "bad", "variables": {}, "unit_id": "u1", "expect": [ { "type": "contains", "value": "x" } ] }""", "tests[1].unit_id", "name, variables, unitId, expect")]
    public async Task PutTests_MisspeltMember_Returns400UnknownFieldNamingIt(string test, string field, string members)
    {
        var name = await CreateSupportPromptAsync(_client);
        var body = JsonNode.Parse($$"""
            { "tests": [ { "name": "fine", "variables": {}, "expect": [ { "type": "contains", "value": "x" } ] }, {{test}} ] }
            """);

        var (status, problem) = await PutAsync(_client, VersionPath(name, "1.0.0") + "/tests", body);
        var (_, stored) = await GetAsync(_client, VersionPath(name, "1.0.0") + "/tests");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("unknown_field", problem.Str("code"));
        Assert.Equal(field, problem.Str("field"));
        Assert.Equal($"'{field}' is not a field this object takes; it takes {members}.", problem.Str("detail"));
        Assert.Empty(stored!["tests"]!.AsArray());
    }

    [Fact]
    public async Task NewVersion_WithoutTests_CarriesThePreviousOnesForward_WithTests_KeepsItsOwn()
    {
        var name = await CreateSupportPromptAsync(_client);
        await PutAsync(_client, VersionPath(name, "1.0.0") + "/tests", Tests(Case("first", "Acme", new { type = "contains", value = "Acme" })));

        await NewVersionAsync(_client, name, new { content = SupportTemplate + "\nBe brief.", changeDescription = "brief" });
        await NewVersionAsync(_client, name, new
        {
            content = SupportTemplate + "\nBe very brief.", changeDescription = "very brief",
            tests = new[] { Case("own", "Initech", new { type = "notContains", value = "sorry" }) },
        });
        var (_, carried) = await GetAsync(_client, VersionPath(name, "1.0.1") + "/tests");
        var (_, own) = await GetAsync(_client, VersionPath(name, "1.0.2") + "/tests");

        Assert.Equal("first", carried!["tests"]![0].Str("name"));
        Assert.Equal("own", Assert.Single(own!["tests"]!.AsArray()).Str("name"));
    }

    [Fact]
    public async Task Evaluate_RenderChecks_StoresTheRunWithEachVerdictAndReason()
    {
        var name = await CreateSupportPromptAsync(_client);
        await PutAsync(_client, VersionPath(name, "1.0.0") + "/tests", Tests(
            Case("passes", "Acme", new { type = "contains", value = "for Acme." }, new { type = "maxLength", value = 500 }),
            Case("fails", "Acme", new { type = "regex", value = "^Hello" }, new { type = "notContains", value = "support" })));

        var (status, run) = await PostAsync(_client, VersionPath(name, "1.0.0") + "/evaluate", null);
        var (_, stored) = await GetAsync(_client, $"/api/evaluations/{run.Str("id")}");
        var (_, list) = await GetAsync(_client, VersionPath(name, "1.0.0") + "/evaluations");

        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("failed", stored.Str("status"));
        Assert.Equal(name, stored.Str("promptName"));
        Assert.Equal("1.0.0", stored.Str("version"));
        var cases = stored!["cases"]!.AsArray();
        Assert.True(cases[0]!["passed"]!.GetValue<bool>());
        Assert.StartsWith("You are a helpful customer support agent for Acme.", cases[0].Str("render"));
        Assert.False(cases[1]!["passed"]!.GetValue<bool>());
        var checks = cases[1]!["checks"]!.AsArray();
        Assert.Contains("does not match /^Hello/", checks[0].Str("reason"));
        Assert.Contains("contains 'support'", checks[1].Str("reason"));
        Assert.Equal(run.Str("id"), list!["evaluations"]![0].Str("id"));
    }

    [Fact]
    public async Task ListEvaluations_Pages_WithTotalAndNext_AndRefusesABadLimit()
    {
        var name = await CreateSupportPromptAsync(_client);
        await PutAsync(_client, VersionPath(name, "1.0.0") + "/tests", Tests(Case("names the company", "Acme", new { type = "contains", value = "Acme" })));
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
            ids.Add((await PostAsync(_client, VersionPath(name, "1.0.0") + "/evaluate", null)).Body.Str("id"));

        var (status, page) = await GetAsync(_client, VersionPath(name, "1.0.0") + "/evaluations?limit=1&offset=1");
        var (_, last) = await GetAsync(_client, VersionPath(name, "1.0.0") + "/evaluations?offset=2");
        var (badStatus, problem) = await GetAsync(_client, VersionPath(name, "1.0.0") + "/evaluations?limit=0");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(ids[1], Assert.Single(page!["evaluations"]!.AsArray()).Str("id"));
        Assert.Equal(3, page["total"]!.GetValue<int>());
        Assert.Equal($"{VersionPath(name, "1.0.0")}/evaluations?limit=1&offset=2", page.Str("next"));
        Assert.Equal(ids[0], Assert.Single(last!["evaluations"]!.AsArray()).Str("id"));
        Assert.Null(last["next"]);
        Assert.Equal(HttpStatusCode.BadRequest, badStatus);
        Assert.Equal("limit", problem.Str("field"));
    }

    /// <summary>A support prompt whose 1.0.0 has one case, <paramref name="caseName"/>, giving company_name "acme", and whose 2.0.0
    /// (carrying that case unchanged) requires company_name to match ^[A-Z]; returns the prompt's name.</summary>
    private async Task<string> WithLowerCaseCaseCarriedToACapitalizedVersionAsync(string caseName)
    {
        var name = await CreateSupportPromptAsync(_client);
        await PutAsync(_client, VersionPath(name, "1.0.0") + "/tests", Tests(Case(caseName, "acme", new { type = "contains", value = "x" })));
        await NewVersionAsync(_client, name, new
        {
            content = "Support for {{company_name}}.", changeDescription = "capitalized",
            variables = new object[] { new { name = "company_name", type = "string", required = true, validation = "^[A-Z]" } },
        });
        return name;
    }

    /// <summary>A case carried to a new version whose pattern its value fails (carried unchanged, so never checked against it) fails when run.</summary>
    [Fact]
    public async Task Evaluate_CaseVariablesDoNotRender_FailsThatCaseWithTheReason()
    {
        var name = await WithLowerCaseCaseCarriedToACapitalizedVersionAsync("lower-case company");

        var (_, run) = await PostAsync(_client, VersionPath(name, "2.0.0") + "/evaluate", null);

        Assert.Equal("failed", run.Str("status"));
        Assert.Equal("the case gives a value version 2.0.0 refuses: variable 'company_name' does not match its validation pattern ^[A-Z]",
            run!["cases"]![0]!["checks"]![0].Str("reason"));
    }

    /// <summary>A case that fits its version can still fail to render: here an included prompt's new version, now in production,
    /// adds a pattern the case's value fails, which no check of the case's own version sees.</summary>
    [Fact]
    public async Task Evaluate_IncludedPromptRefusesTheCaseValue_FailsThatCaseWithTheRenderReason()
    {
        var guard = UniqueName("guard");
        await PostAsync(_client, "/api/prompts", new
        {
            name = guard, type = "system", content = "Follow: {{policy}}.",
            variables = new object[] { new { name = "policy", type = "string", required = true } },
        });
        await PutAsync(_client, $"/api/prompts/{guard}/labels/production", new { version = "1.0.0" });
        var includer = UniqueName("includer");
        await PostAsync(_client, "/api/prompts", new { name = includer, type = "system", content = $"Hi. {{{{> {guard}}}}}", variables = Array.Empty<object>() });
        var (saved, _) = await PutAsync(_client, VersionPath(includer, "1.0.0") + "/tests",
            Tests(new { name = "lower-case policy", variables = new { policy = "refunds" }, expect = new[] { new { type = "contains", value = "x" } } }));
        await NewVersionAsync(_client, guard, new
        {
            content = "Follow: {{policy}}.", changeDescription = "capitalized",
            variables = new object[] { new { name = "policy", type = "string", required = true, validation = "^[A-Z]" } },
        });
        await PutAsync(_client, $"/api/prompts/{guard}/labels/production", new { version = "2.0.0" });

        var (_, run) = await PostAsync(_client, VersionPath(includer, "1.0.0") + "/evaluate", null);

        Assert.Equal(HttpStatusCode.OK, saved);
        Assert.Equal("failed", run.Str("status"));
        Assert.Equal($"the case's variables do not render: prompt '{includer}' version 1.0.0 refused the render: variable 'policy' does not match its validation pattern ^[A-Z].",
            run!["cases"]![0]!["checks"]![0].Str("reason"));
    }

    /// <summary>A blank unit id is refused as a render refuses it (<c>Serving.RefuseBlankUnitId</c>); it was stored, and a run rendered
    /// the case with it.</summary>
    [Theory]
    [InlineData("put", "")]
    [InlineData("put", "   ")]
    [InlineData("post", "   ")]
    public async Task SaveTests_BlankUnitId_Returns400InvalidUnitIdNamingTheCase_AndStoresNothing(string route, string unitId)
    {
        var name = await CreateSupportPromptAsync(_client);
        var path = VersionPath(name, "1.0.0") + "/tests";
        await PutAsync(_client, path, Tests(Case("one", "Acme", new { type = "contains", value = "Acme" }), Case("two", "Acme", new { type = "contains", value = "Acme" })));
        var (_, before) = await GetAsync(_client, path);
        var blank = new { name = "blank", variables = new { company_name = "Acme" }, unitId, expect = new[] { new { type = "contains", value = "Acme" } } };

        var (status, problem) = route == "put"
            ? await PutAsync(_client, path, Tests(Case("one", "Acme", new { type = "contains", value = "Acme" }), Case("two", "Acme", new { type = "contains", value = "Acme" }), blank))
            : await PostAsync(_client, path, blank);
        var (_, after) = await GetAsync(_client, path);

        Assert.Equal((HttpStatusCode.BadRequest, "invalid_unit_id", "tests[2].unitId"), (status, problem.Str("code"), problem.Str("field")));
        Assert.Equal("tests[2].unitId is blank; a unit id names the user (or other unit) an experiment assigns, and is used exactly as given: " +
            "send one, or leave it out for no unit.", problem.Str("detail"));
        Assert.Equal(before!.ToJsonString(), after!.ToJsonString());
    }

    /// <summary>Such a case was stored and only failed when run, its render refused: the check is the render's own
    /// (<c>VariableContract.CheckValue</c>), so saving the carried cases again is refused too.</summary>
    [Fact]
    public async Task PutTests_CaseValueFailingItsPattern_Returns400NamingCaseVariableAndPattern_AndKeepsTheStoredCases()
    {
        var name = await WithLowerCaseCaseCarriedToACapitalizedVersionAsync("kept");
        var path = VersionPath(name, "2.0.0") + "/tests";
        var (_, before) = await GetAsync(_client, path);

        var (status, problem) = await PutAsync(_client, path, Tests(
            Case("fine", "Acme", new { type = "contains", value = "x" }),
            Case("bad", "acme", new { type = "contains", value = "x" })));
        var (_, after) = await GetAsync(_client, path);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_test", problem.Str("code"));
        Assert.Equal("tests[1].variables", problem.Str("field"));
        Assert.Equal("tests[1] ('bad') gives a value the version refuses: variable 'company_name' does not match its validation pattern ^[A-Z].",
            problem.Str("detail"));
        Assert.Equal(before!.ToJsonString(), after!.ToJsonString());
        Assert.Equal("kept", after["tests"]![0].Str("name"));
    }

    /// <summary>Such a case was stored and only failed when run, its render refused.</summary>
    [Theory]
    [InlineData("""{ "company_name": 5 }""", "tests[1] ('bad') gives 'company_name' a number, but the version declares it a string.")]
    [InlineData("""{ "company_name": "Acme", "previous_messages": "hi" }""",
        "tests[1] ('bad') gives 'previous_messages' a string, but the version declares it an array.")]
    public async Task PutTests_CaseValueOfTheWrongType_Returns400NamingCaseVariableAndTypes_AndKeepsTheStoredCases(string variables, string detail)
    {
        var name = await CreateSupportPromptAsync(_client);
        var path = VersionPath(name, "1.0.0") + "/tests";
        await PutAsync(_client, path, Tests(Case("kept", "Acme", new { type = "contains", value = "Acme" })));
        var (_, before) = await GetAsync(_client, path);
        var body = JsonNode.Parse($$"""
            { "tests": [
                { "name": "fine", "variables": { "company_name": "Acme" }, "expect": [ { "type": "contains", "value": "x" } ] },
                { "name": "bad", "variables": {{variables}}, "expect": [ { "type": "contains", "value": "x" } ] } ] }
            """);

        var (status, problem) = await PutAsync(_client, path, body);
        var (_, after) = await GetAsync(_client, path);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_test", problem.Str("code"));
        Assert.Equal("tests[1].variables", problem.Str("field"));
        Assert.Equal(detail, problem.Str("detail"));
        Assert.Equal(before!.ToJsonString(), after!.ToJsonString());
        Assert.Equal("kept", after["tests"]![0].Str("name"));
    }

    /// <summary>Stored, such a case only failed when run: one lacking a required variable never renders, and one giving a
    /// variable the version lacks checks a render that ignored it.</summary>
    [Theory]
    [InlineData("""{ "customer_name": "Ann" }""", "tests[1] ('bad') does not give 'company_name', which the version requires (required, with no defaultValue).")]
    [InlineData("""{ "company_name": null }""", "tests[1] ('bad') does not give 'company_name', which the version requires (required, with no defaultValue).")]
    [InlineData("""{ "company_name": "Acme", "custmer_name": "Ann" }""",
        "tests[1] ('bad') gives 'custmer_name', which the version does not have (its variables: company_name, customer_name, previous_messages).")]
    public async Task PutTests_CaseVariablesDoNotFitTheVersion_Returns400NamingCaseAndVariable(string variables, string detail)
    {
        var name = await CreateSupportPromptAsync(_client);
        var body = JsonNode.Parse($$"""
            { "tests": [
                { "name": "fine", "variables": { "company_name": "Acme" }, "expect": [ { "type": "contains", "value": "x" } ] },
                { "name": "bad", "variables": {{variables}}, "expect": [ { "type": "contains", "value": "x" } ] } ] }
            """);

        var (status, problem) = await PutAsync(_client, VersionPath(name, "1.0.0") + "/tests", body);
        var (_, stored) = await GetAsync(_client, VersionPath(name, "1.0.0") + "/tests");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_test", problem.Str("code"));
        Assert.Equal("tests[1].variables", problem.Str("field"));
        Assert.Equal(detail, problem.Str("detail"));
        Assert.Empty(stored!["tests"]!.AsArray());
    }

    [Fact]
    public async Task NewVersion_WithTestsLackingARequiredVariable_Returns400AndCreatesNoVersion()
    {
        var name = await CreateSupportPromptAsync(_client);

        var (status, problem) = await PostAsync(_client, $"/api/prompts/{name}/versions", new
        {
            content = SupportTemplate + "\nBe brief.", changeDescription = "brief",
            tests = new[] { new { name = "no company", variables = new { }, expect = new[] { new { type = "contains", value = "x" } } } },
        });
        var (missing, _) = await GetAsync(_client, VersionPath(name, "1.0.1"));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("tests[0].variables", problem.Str("field"));
        Assert.Contains("does not give 'company_name'", problem.Str("detail"));
        Assert.Equal(HttpStatusCode.NotFound, missing);
    }

    /// <summary>A new version is given its previous version's cases as they are; a variable it added or dropped is reported by the run.</summary>
    [Fact]
    public async Task Evaluate_CarriedCases_ThatDoNotFitTheNewVersionsVariables_FailNamingTheVariable()
    {
        var name = await CreateSupportPromptAsync(_client);
        await PutAsync(_client, VersionPath(name, "1.0.0") + "/tests", Tests(
            new { name = "with customer", variables = new { company_name = "Acme", customer_name = "Ann" }, expect = new[] { new { type = "contains", value = "Acme" } } },
            Case("company only", "Acme", new { type = "contains", value = "Acme" })));
        await NewVersionAsync(_client, name, new
        {
            content = "Support for {{company_name}} in a {{tone}} tone.", changeDescription = "tone",
            variables = new object[]
            {
                new { name = "company_name", type = "string", required = true },
                new { name = "tone", type = "string", required = true },
            },
        });

        var (_, run) = await PostAsync(_client, VersionPath(name, "2.0.0") + "/evaluate", null);

        Assert.Equal("failed", run.Str("status"));
        var cases = run!["cases"]!.AsArray();
        Assert.Equal("the case gives 'customer_name', which version 2.0.0 does not have (its variables: company_name, tone)", cases[0]!["checks"]![0].Str("reason"));
        Assert.Equal("the case does not give 'tone', which version 2.0.0 requires (required, with no defaultValue)", cases[1]!["checks"]![0].Str("reason"));
    }

    [Fact]
    public async Task Evaluate_NoTests_Returns409()
    {
        var name = await CreateSupportPromptAsync(_client);

        var (status, problem) = await PostAsync(_client, VersionPath(name, "1.0.0") + "/evaluate", null);

        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal("no_tests", problem.Str("code"));
    }

    [Fact]
    public async Task Evaluate_ArchivedVersion_Returns409SayingItsTestsCannotRun()
    {
        var name = await CreateSupportPromptAsync(_client);
        await PutAsync(_client, VersionPath(name, "1.0.0") + "/tests", Tests(Case("names the company", "Acme", new { type = "contains", value = "Acme" })));
        await PostAsync(_client, VersionPath(name, "1.0.0") + "/status", new { status = "archived" });

        var (status, problem) = await PostAsync(_client, VersionPath(name, "1.0.0") + "/evaluate", null);
        var (_, runs) = await GetAsync(_client, VersionPath(name, "1.0.0") + "/evaluations");

        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal(("version_archived", "version"), (problem.Str("code"), problem.Str("field")));
        Assert.Equal($"version 1.0.0 of '{name}' is archived, so its tests cannot be run (an archived version never renders); " +
            "run them on a version that is not archived, or create a new version with its content to test it.", problem.Str("detail"));
        Assert.Equal(0, runs!["total"]!.GetValue<int>());
    }

    [Fact]
    public async Task GetEvaluation_Unknown_Returns404()
    {
        var (status, problem) = await GetAsync(_client, "/api/evaluations/nope");

        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("evaluation_not_found", problem.Str("code"));
    }

    [Fact]
    public async Task Promote_RequireTests_OnlyAfterThePassedLatestRun_AndTheAuditNamesIt()
    {
        var name = await CreateGatedSupportPromptAsync(_client);
        var promote = new { version = "1.0.0" };

        var (untested, untestedProblem) = await PutAsync(_client, $"/api/prompts/{name}/labels/production", promote);
        await PutAsync(_client, VersionPath(name, "1.0.0") + "/tests", Tests(Case("wrong", "Acme", new { type = "contains", value = "Initech" })));
        var (_, failedRun) = await PostAsync(_client, VersionPath(name, "1.0.0") + "/evaluate", null);
        var (failing, failingProblem) = await PutAsync(_client, $"/api/prompts/{name}/labels/production", promote);
        await PutAsync(_client, VersionPath(name, "1.0.0") + "/tests", Tests(Case("right", "Acme", new { type = "contains", value = "Acme" })));
        var (_, passedRun) = await PostAsync(_client, VersionPath(name, "1.0.0") + "/evaluate", null);
        var (passing, _) = await PutAsync(_client, $"/api/prompts/{name}/labels/production", promote);
        var (_, audit) = await GetAsync(_client, $"/api/audit?prompt={name}&action=version.promoted");

        Assert.Equal(HttpStatusCode.Conflict, untested);
        Assert.Equal("tests_required", untestedProblem.Str("code"));
        Assert.Equal(HttpStatusCode.Conflict, failing);
        Assert.Equal("tests_failed", failingProblem.Str("code"));
        Assert.Contains(failedRun.Str("id"), failingProblem.Str("detail"));
        Assert.Equal(HttpStatusCode.OK, passing);
        Assert.Equal(passedRun.Str("id"), audit!["entries"]![0]!["after"].Str("evaluationId"));
    }

    [Fact]
    public async Task Promote_RequireTests_CasesChangedSinceThePassedRun_Returns409TestsRequired_UntilTheyRunAgain()
    {
        var name = await CreateGatedSupportPromptAsync(_client);
        var promote = new { version = "1.0.0" };
        await PutAsync(_client, VersionPath(name, "1.0.0") + "/tests", Tests(Case("easy", "Acme", new { type = "contains", value = "Acme" })));
        var (_, passedRun) = await PostAsync(_client, VersionPath(name, "1.0.0") + "/evaluate", null);
        await PutAsync(_client, VersionPath(name, "1.0.0") + "/tests", Tests(Case("hard", "Acme", new { type = "contains", value = "Initech" })));

        var (stale, staleProblem) = await PutAsync(_client, $"/api/prompts/{name}/labels/production", promote);
        var (_, failedRun) = await PostAsync(_client, VersionPath(name, "1.0.0") + "/evaluate", null);
        var (failing, failingProblem) = await PutAsync(_client, $"/api/prompts/{name}/labels/production", promote);

        Assert.Equal("passed", passedRun.Str("status"));
        Assert.Equal(HttpStatusCode.Conflict, stale);
        Assert.Equal(("tests_required", "version"), (staleProblem.Str("code"), staleProblem.Str("field")));
        Assert.Equal($"prompt '{name}' requires tests: the test cases of version 1.0.0 changed since its latest evaluation run {passedRun.Str("id")} " +
            "started; run them again (POST .../versions/1.0.0/evaluate).", staleProblem.Str("detail"));
        Assert.Equal(HttpStatusCode.Conflict, failing);
        Assert.Equal("tests_failed", failingProblem.Str("code"));
        Assert.Contains(failedRun.Str("id"), failingProblem.Str("detail"));
    }

    [Fact]
    public async Task Runs_SayWhetherTheirVersionsCasesChangedSince_ComputedWhenRead_NeverStored()
    {
        var name = await CreateSupportPromptAsync(_client);
        var runs = VersionPath(name, "1.0.0") + "/evaluations";
        await PutAsync(_client, VersionPath(name, "1.0.0") + "/tests", Tests(Case("easy", "Acme", new { type = "contains", value = "Acme" })));
        var (_, run) = await PostAsync(_client, VersionPath(name, "1.0.0") + "/evaluate", null);
        var (_, fresh) = await GetAsync(_client, $"/api/evaluations/{run.Str("id")}");
        var (_, freshList) = await GetAsync(_client, runs);

        await PutAsync(_client, VersionPath(name, "1.0.0") + "/tests", Tests(Case("hard", "Acme", new { type = "contains", value = "Initech" })));
        var (_, changed) = await GetAsync(_client, $"/api/evaluations/{run.Str("id")}");
        var (_, changedList) = await GetAsync(_client, runs);

        Assert.False(run!["testsChanged"]!.GetValue<bool>());
        Assert.False(fresh!["testsChanged"]!.GetValue<bool>());
        Assert.False(freshList!["evaluations"]![0]!["testsChanged"]!.GetValue<bool>());
        Assert.True(changed!["testsChanged"]!.GetValue<bool>());
        Assert.True(changedList!["evaluations"]![0]!["testsChanged"]!.GetValue<bool>());
        Assert.Equal("passed", changed.Str("status"));
        await using var connection = new SqliteConnection($"Data Source={fixture.Server.DatabasePath}");
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var read = connection.CreateCommand();
        read.CommandText = "SELECT run FROM evaluation_runs WHERE id = $id";
        read.Parameters.AddWithValue("$id", run.Str("id"));
        var stored = (string)(await read.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
        Assert.DoesNotContain("testsChanged", stored, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Promote_WithoutRequireTests_NeedsNoRun()
    {
        var name = await CreateSupportPromptAsync(_client);

        var (status, _) = await PutAsync(_client, $"/api/prompts/{name}/labels/production", new { version = "1.0.0" });

        Assert.Equal(HttpStatusCode.OK, status);
    }

    [Fact]
    public async Task PostTest_AppendsOneCase_KeepingTheOthers()
    {
        var name = await CreateSupportPromptAsync(_client);
        await PutAsync(_client, VersionPath(name, "1.0.0") + "/tests", Tests(Case("first", "Acme", new { type = "contains", value = "Acme" })));

        var (status, body) = await PostAsync(_client, VersionPath(name, "1.0.0") + "/tests", Case("second", "Initech", new { type = "maxLength", value = 500 }));
        var (_, stored) = await GetAsync(_client, VersionPath(name, "1.0.0") + "/tests");

        Assert.True(status == HttpStatusCode.OK, body?.ToJsonString());
        Assert.Equal(["first", "second"], stored!["tests"]!.AsArray().Select(t => t.Str("name")));
        Assert.Equal("Initech", stored["tests"]![1]!["variables"].Str("company_name"));
        Assert.Equal("render", stored["tests"]![1]!["expect"]![0].Str("target"));
    }

    [Fact]
    public async Task PostTest_NameTakenOrNoCheck_Returns400NamingTheFieldAndKeepsTheCases()
    {
        var name = await CreateSupportPromptAsync(_client);
        await PutAsync(_client, VersionPath(name, "1.0.0") + "/tests", Tests(Case("first", "Acme", new { type = "contains", value = "Acme" })));

        var (taken, takenProblem) = await PostAsync(_client, VersionPath(name, "1.0.0") + "/tests", Case("first", "Initech", new { type = "contains", value = "x" }));
        var (unchecked_, uncheckedProblem) = await PostAsync(_client, VersionPath(name, "1.0.0") + "/tests", Case("second", "Initech"));
        var (_, stored) = await GetAsync(_client, VersionPath(name, "1.0.0") + "/tests");

        Assert.Equal(HttpStatusCode.BadRequest, taken);
        Assert.Equal("tests[1].name", takenProblem.Str("field"));
        Assert.Equal(HttpStatusCode.BadRequest, unchecked_);
        Assert.Equal("tests[1].expect", uncheckedProblem.Str("field"));
        Assert.Equal(["first"], stored!["tests"]!.AsArray().Select(t => t.Str("name")));
    }
}
