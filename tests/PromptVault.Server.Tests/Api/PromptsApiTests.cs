using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using static PromptVault.Server.Tests.ApiCalls;

namespace PromptVault.Server.Tests.Api;

public sealed class PromptsApiTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private readonly HttpClient _client = fixture.Server.CreateClient();

    [Fact]
    public async Task CreatePrompt_NewName_ReturnsFirstVersionAsDraft()
    {
        var name = UniqueName();

        var (status, body) = await PostAsync(_client, "/api/prompts", SupportPrompt(name));

        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal(name, body.Str("name"));
        Assert.Equal("system", body.Str("type"));
        var latest = body!["latestVersion"]!;
        Assert.Equal("1.0.0", latest.Str("version"));
        Assert.Equal("draft", latest.Str("status"));
        Assert.Equal("Initial version", latest.Str("changeDescription"));
        Assert.Equal("admin", latest.Str("createdBy"));
        Assert.Equal(3, latest["variables"]!.AsArray().Count);
        Assert.Equal(0.3, latest["metadata"]!["temperature"]!.GetValue<double>());
    }

    [Fact]
    public async Task CreatePrompt_NameTaken_Returns409()
    {
        var name = await CreateSupportPromptAsync(_client);

        var (status, body) = await PostAsync(_client, "/api/prompts", SupportPrompt(name));

        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal("prompt_exists", body.Str("code"));
        // In the API's words, not the CLI's (which adds its own hint: a push).
        Assert.Equal($"prompt '{name}' already exists; create a new version of it with POST /api/prompts/{name}/versions instead.", body.Str("detail"));
    }

    [Fact]
    public async Task CreateVersion_ContentOnly_BumpsPatchAndKeepsVariables()
    {
        var name = await CreateSupportPromptAsync(_client);

        var version = await NewVersionAsync(_client, name, new { content = SupportTemplate + "\nBe brief.", changeDescription = "Be brief" });

        Assert.Equal("1.0.1", version.Str("version"));
        Assert.Equal(3, version["variables"]!.AsArray().Count);
        Assert.Equal("Be brief", version.Str("changeDescription"));
    }

    [Fact]
    public async Task CreateVersion_ContractChanges_BumpsByTheChange()
    {
        var name = await CreateSupportPromptAsync(_client);
        var optional = new object[]
        {
            new { name = "company_name", type = "string", required = true },
            new { name = "customer_name", type = "string" },
            new { name = "previous_messages", type = "array" },
            new { name = "tone", type = "string", defaultValue = "friendly" },
        };
        var required = optional.Append(new { name = "region", type = "string", required = true }).ToArray();

        var minor = await NewVersionAsync(_client, name, new { content = SupportTemplate + "\nTone: {{tone}}", variables = optional, changeDescription = "tone" });
        var major = await NewVersionAsync(_client, name, new { content = SupportTemplate + "\nTone: {{tone}} in {{region}}", variables = required, changeDescription = "region" });
        var raised = await NewVersionAsync(_client, name, new { content = SupportTemplate + "\n{{tone}} {{region}}!", changeDescription = "raise", bump = "minor" });

        Assert.Equal("1.1.0", minor.Str("version"));
        Assert.Equal("2.0.0", major.Str("version"));
        Assert.Equal("2.1.0", raised.Str("version"));
    }

    [Fact]
    public async Task CreateVersion_BumpSmallerThanRequired_Returns400NamingReason()
    {
        var name = await CreateSupportPromptAsync(_client);

        var (status, body) = await PostAsync(_client, $"/api/prompts/{name}/versions",
            new { content = "Hello {{company_name}}", variables = new[] { new { name = "company_name", type = "string", required = true } }, changeDescription = "drop", bump = "patch" });

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("bump_too_small", body.Str("code"));
        Assert.Contains("customer_name", body.Str("detail"));
    }

    [Fact]
    public async Task CreateVersion_NothingChanged_Returns409()
    {
        var name = await CreateSupportPromptAsync(_client);

        var (status, body) = await PostAsync(_client, $"/api/prompts/{name}/versions", new { content = SupportTemplate, changeDescription = "same" });

        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal("version_unchanged", body.Str("code"));
    }

    [Fact]
    public async Task CreateVersion_UndeclaredVariable_Returns400NamingIt()
    {
        var name = await CreateSupportPromptAsync(_client);

        var (status, body) = await PostAsync(_client, $"/api/prompts/{name}/versions", new { content = "Hi {{compnay_name}}", changeDescription = "typo" });

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("unknown_variable", body.Str("code"));
        Assert.Contains("compnay_name", body.Str("detail"));
        Assert.Equal("content", body.Str("field"));
    }

    [Fact]
    public async Task History_AfterTwoVersions_ListsNewestFirstWithAuthors()
    {
        var name = await ThreeVersionsAsync();

        var (status, body) = await GetAsync(_client, $"/api/prompts/{name}/versions");

        Assert.Equal(HttpStatusCode.OK, status);
        var versions = body!["versions"]!.AsArray();
        Assert.Equal(["1.0.2", "1.0.1", "1.0.0"], versions.Select(v => v.Str("version")));
        Assert.All(versions, v => Assert.Equal("admin", v.Str("createdBy")));
    }

    [Fact]
    public async Task GetVersion_ByNumberAndById_ReturnsTheSameVersion()
    {
        var name = await CreateSupportPromptAsync(_client);
        var created = await NewVersionAsync(_client, name, new { content = SupportTemplate + "\nA", changeDescription = "A" });

        var (_, byNumber) = await GetAsync(_client, $"/api/prompts/{name}/versions/1.0.1");
        var (_, byId) = await GetAsync(_client, $"/api/prompts/{name}/versions/{created.Str("id")}");
        var (missing, problem) = await GetAsync(_client, $"/api/prompts/{name}/versions/9.9.9");

        Assert.Equal(created.Str("id"), byNumber.Str("id"));
        Assert.Equal("1.0.1", byId.Str("version"));
        Assert.Equal(HttpStatusCode.NotFound, missing);
        Assert.Equal("version_not_found", problem.Str("code"));
    }

    /// <summary><c>promptvault test NAME --version production</c> answered only "has no version 'production'": a label's name in a
    /// version's place now says where that label is and how a version is named.</summary>
    [Fact]
    public async Task GetVersion_ByALabelsName_NotFoundSayingWhereTheLabelIs()
    {
        var name = await CreateSupportPromptAsync(_client);
        await PutAsync(_client, $"/api/prompts/{name}/labels/staging", new { version = "1.0.0" });

        var (status, problem) = await GetAsync(_client, $"/api/prompts/{name}/versions/staging");
        var (_, unlabelled) = await GetAsync(_client, $"/api/prompts/{name}/versions/canary");

        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("version_not_found", problem.Str("code"));
        Assert.Equal($"prompt '{name}' has no version 'staging': 'staging' is a label, at version 1.0.0; a version is named by its number, its id or latest.",
            problem.Str("detail"));
        Assert.Equal($"prompt '{name}' has no version 'canary'.", unlabelled.Str("detail"));
    }

    [Fact]
    public async Task Promote_SecondVersion_DeprecatesThePreviousAndMovesTheLabel()
    {
        var name = await CreateSupportPromptAsync(_client);
        await NewVersionAsync(_client, name, new { content = SupportTemplate + "\nA", changeDescription = "A" });

        var (first, _) = await PutAsync(_client, $"/api/prompts/{name}/labels/production", new { version = "1.0.0" });
        var (second, promoted) = await PutAsync(_client, $"/api/prompts/{name}/labels/production", new { version = "1.0.1" });
        var (_, prompt) = await GetAsync(_client, $"/api/prompts/{name}");
        var (_, old) = await GetAsync(_client, $"/api/prompts/{name}/versions/1.0.0");

        Assert.Equal(HttpStatusCode.OK, first);
        Assert.Equal(HttpStatusCode.OK, second);
        Assert.Equal("production", promoted.Str("status"));
        Assert.Equal(["production"], promoted!["labels"]!.AsArray().Select(l => l!.GetValue<string>()));
        Assert.Equal("1.0.1", prompt!["labels"]!["production"]!.GetValue<string>());
        Assert.Equal("deprecated", old.Str("status"));
    }

    [Fact]
    public async Task MoveLabel_Staging_DoesNotChangeStatus()
    {
        var name = await CreateSupportPromptAsync(_client);

        var (status, version) = await PutAsync(_client, $"/api/prompts/{name}/labels/staging", new { version = "1.0.0" });
        var (_, prompt) = await GetAsync(_client, $"/api/prompts/{name}");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("draft", version.Str("status"));
        Assert.Equal("1.0.0", prompt!["labels"]!["staging"]!.GetValue<string>());
    }

    [Fact]
    public async Task RemoveLabel_StopsRendersThroughIt_AndIsAudited()
    {
        var name = await CreateSupportPromptAsync(_client);
        await PutAsync(_client, $"/api/prompts/{name}/labels/staging", new { version = "1.0.0" });
        var render = new { label = "staging", variables = new { company_name = "Acme", customer_name = "Ann" } };
        var (renderedBefore, _) = await PostAsync(_client, $"/api/prompts/{name}/render", render);

        var (status, _) = await SendAsync(_client, HttpMethod.Delete, $"/api/prompts/{name}/labels/staging");
        var (renderedAfter, problem) = await PostAsync(_client, $"/api/prompts/{name}/render", render);
        var (_, prompt) = await GetAsync(_client, $"/api/prompts/{name}");
        var (_, audit) = await GetAsync(_client, $"/api/audit?prompt={name}&action=label.removed");

        Assert.Equal(HttpStatusCode.OK, renderedBefore);
        Assert.Equal(HttpStatusCode.NoContent, status);
        Assert.Equal(HttpStatusCode.NotFound, renderedAfter);
        Assert.Contains("staging", problem.Str("detail"));
        Assert.Null(prompt!["labels"]!["staging"]);
        var entry = Assert.Single(audit!["entries"]!.AsArray());
        Assert.Equal("1.0.0", entry!["before"]!["version"]!.GetValue<string>());
    }

    [Fact]
    public async Task RemoveLabel_ProductionOrAbsent_IsRefusedNamingIt()
    {
        var name = await CreateSupportPromptAsync(_client);
        await PutAsync(_client, $"/api/prompts/{name}/labels/production", new { version = "1.0.0" });

        var (production, productionProblem) = await SendAsync(_client, HttpMethod.Delete, $"/api/prompts/{name}/labels/production");
        var (absent, absentProblem) = await SendAsync(_client, HttpMethod.Delete, $"/api/prompts/{name}/labels/canary");
        var (_, prompt) = await GetAsync(_client, $"/api/prompts/{name}");

        Assert.Equal(HttpStatusCode.Conflict, production);
        Assert.Equal("production_label_required", productionProblem.Str("code"));
        Assert.Equal(HttpStatusCode.NotFound, absent);
        Assert.Equal("label_not_found", absentProblem.Str("code"));
        Assert.Equal("1.0.0", prompt!["labels"]!["production"]!.GetValue<string>());
    }

    [Fact]
    public async Task MoveLabel_IfMatch_MovesOnlyFromTheVersionTheCallerSaw()
    {
        var name = await ThreeVersionsAsync();
        var path = $"/api/prompts/{name}/labels/staging";

        var (absent, absentTag, _) = await ConditionalWriteAsync(HttpMethod.Put, path, new { version = "1.0.0" }, ifMatch: null);
        var (matching, matchingTag, _) = await ConditionalWriteAsync(HttpMethod.Put, path, new { version = "1.0.1" }, "\"1.0.0\"");
        var (stale, _, staleProblem) = await ConditionalWriteAsync(HttpMethod.Put, path, new { version = "1.0.2" }, "\"1.0.0\"");
        var (_, afterStale) = await GetAsync(_client, $"/api/prompts/{name}");
        var (repeated, _, _) = await ConditionalWriteAsync(HttpMethod.Put, path, new { version = "1.0.1" }, "\"1.0.1\"");
        var (malformed, _, malformedProblem) = await ConditionalWriteAsync(HttpMethod.Put, path, new { version = "1.0.2" }, "1.0.1");
        var (any, _, _) = await ConditionalWriteAsync(HttpMethod.Put, path, new { version = "1.0.2" }, "*");
        var (_, audit) = await GetAsync(_client, $"/api/audit?prompt={name}&action=label.moved");

        Assert.Equal(HttpStatusCode.OK, absent);
        Assert.Equal("\"1.0.0\"", absentTag);
        Assert.Equal(HttpStatusCode.OK, matching);
        Assert.Equal("\"1.0.1\"", matchingTag);
        Assert.Equal(HttpStatusCode.PreconditionFailed, stale);
        Assert.Equal("label_moved", staleProblem.Str("code"));
        Assert.Contains("points at version 1.0.1", staleProblem.Str("detail"));
        Assert.Contains($"labels of GET /api/prompts/{name}, or the ETag the last move of it answered", staleProblem.Str("detail"));
        Assert.Equal("1.0.1", afterStale!["labels"]!["staging"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, repeated);
        Assert.Equal(HttpStatusCode.BadRequest, malformed);
        Assert.Equal("invalid_if_match", malformedProblem.Str("code"));
        Assert.Equal(HttpStatusCode.OK, any);
        Assert.Equal(3, audit!["entries"]!.AsArray().Count);
    }

    [Fact]
    public async Task RemoveLabel_IfMatchStale_Is412AndKeepsTheLabel()
    {
        var name = await CreateSupportPromptAsync(_client);
        await PutAsync(_client, $"/api/prompts/{name}/labels/staging", new { version = "1.0.0" });
        var path = $"/api/prompts/{name}/labels/staging";

        var (stale, _, problem) = await ConditionalWriteAsync(HttpMethod.Delete, path, null, "\"1.0.1\"");
        var (_, prompt) = await GetAsync(_client, $"/api/prompts/{name}");
        var (matching, _, _) = await ConditionalWriteAsync(HttpMethod.Delete, path, null, "\"1.0.0\"");
        var (again, _, againProblem) = await ConditionalWriteAsync(HttpMethod.Delete, path, null, "\"1.0.0\"");
        var (anyAgain, _, anyAgainProblem) = await ConditionalWriteAsync(HttpMethod.Delete, path, null, "*");

        Assert.Equal(HttpStatusCode.PreconditionFailed, stale);
        Assert.Equal("label_moved", problem.Str("code"));
        Assert.Equal("1.0.0", prompt!["labels"]!["staging"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NoContent, matching);
        Assert.Equal(HttpStatusCode.NotFound, again);
        Assert.Equal("label_not_found", againProblem.Str("code"));
        // RFC 9110 §13.2.1: without If-Match this is 404, so the precondition is not evaluated (not 412), * included.
        Assert.Equal(HttpStatusCode.NotFound, anyAgain);
        Assert.Equal("label_not_found", anyAgainProblem.Str("code"));
    }

    [Fact]
    public async Task RemoveLabel_IfNoneMatch_Is400WhichNoRemovalCanMeet_AndKeepsTheLabel()
    {
        var name = await CreateSupportPromptAsync(_client);
        await PutAsync(_client, $"/api/prompts/{name}/labels/staging", new { version = "1.0.0" });

        var (set, _, setProblem) = await ConditionalWriteAsync(HttpMethod.Delete, $"/api/prompts/{name}/labels/staging", null, ifMatch: null, ifNoneMatch: "*");
        var (unset, _, unsetProblem) = await ConditionalWriteAsync(HttpMethod.Delete, $"/api/prompts/{name}/labels/qa", null, ifMatch: null, ifNoneMatch: "*");
        var (_, prompt) = await GetAsync(_client, $"/api/prompts/{name}");

        Assert.Equal((HttpStatusCode.BadRequest, "invalid_if_none_match", "If-None-Match"), (set, setProblem.Str("code"), setProblem.Str("field")));
        Assert.Contains("no removal can meet", setProblem.Str("detail"));
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_if_none_match"), (unset, unsetProblem.Str("code")));
        Assert.Equal("1.0.0", prompt!["labels"]!["staging"]!.GetValue<string>());
    }

    [Fact]
    public async Task MoveLabel_IfNoneMatchAny_SetsOnlyALabelNotSetYet_AndIfMatchAnyOnlyOneThatIs()
    {
        var name = await ThreeVersionsAsync();
        var path = $"/api/prompts/{name}/labels/staging";

        var (first, firstTag, _) = await ConditionalWriteAsync(HttpMethod.Put, path, new { version = "1.0.0" }, ifMatch: null, ifNoneMatch: "*");
        var (second, _, secondProblem) = await ConditionalWriteAsync(HttpMethod.Put, path, new { version = "1.0.1" }, ifMatch: null, ifNoneMatch: "*");
        var (notAny, _, notAnyProblem) = await ConditionalWriteAsync(HttpMethod.Put, path, new { version = "1.0.1" }, ifMatch: null, ifNoneMatch: "\"1.0.0\"");
        var (both, _, bothProblem) = await ConditionalWriteAsync(HttpMethod.Put, path, new { version = "1.0.1" }, "\"1.0.0\"", ifNoneMatch: "*");
        var (_, afterRefusals) = await GetAsync(_client, $"/api/prompts/{name}");
        // RFC 9110 §13.1.1: If-Match: * is false when there is no label.
        var (anyUnset, _, anyUnsetProblem) = await ConditionalWriteAsync(HttpMethod.Put, $"/api/prompts/{name}/labels/qa", new { version = "1.0.0" }, "*");
        var (anySet, anySetTag, _) = await ConditionalWriteAsync(HttpMethod.Put, path, new { version = "1.0.2" }, "*");
        var (_, prompt) = await GetAsync(_client, $"/api/prompts/{name}");
        var (_, audit) = await GetAsync(_client, $"/api/audit?prompt={name}&action=label.moved");

        Assert.Equal((HttpStatusCode.OK, "\"1.0.0\""), (first, firstTag));
        Assert.Equal((HttpStatusCode.PreconditionFailed, "label_moved"), (second, secondProblem.Str("code")));
        Assert.Contains("points at version 1.0.0", secondProblem.Str("detail"));
        Assert.Equal("If-None-Match", secondProblem.Str("field"));
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_if_none_match"), (notAny, notAnyProblem.Str("code")));
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_if_none_match"), (both, bothProblem.Str("code")));
        Assert.Contains("not both", bothProblem.Str("detail"));
        Assert.Equal("1.0.0", afterRefusals!["labels"]!["staging"]!.GetValue<string>());
        Assert.Equal((HttpStatusCode.PreconditionFailed, "label_moved"), (anyUnset, anyUnsetProblem.Str("code")));
        Assert.Contains("is not set", anyUnsetProblem.Str("detail"));
        Assert.Equal((HttpStatusCode.OK, "\"1.0.2\""), (anySet, anySetTag));
        Assert.Null(prompt!["labels"]!["qa"]);
        Assert.Equal(2, audit!["entries"]!.AsArray().Count);
    }

    [Fact]
    public async Task MoveLabel_IfNoneMatchAny_OfFirstDeploysAtOnceOneLandsTheOthersAre412()
    {
        var name = await ThreeVersionsAsync();
        var path = $"/api/prompts/{name}/labels/staging";

        var answers = await Task.WhenAll(Enumerable.Range(0, 10).Select(i =>
            ConditionalWriteAsync(HttpMethod.Put, path, new { version = $"1.0.{i % 3}" }, ifMatch: null, ifNoneMatch: "*")));
        var (_, prompt) = await GetAsync(_client, $"/api/prompts/{name}");
        var (_, audit) = await GetAsync(_client, $"/api/audit?prompt={name}&action=label.moved");

        var landed = Assert.Single(answers, a => a.Status == HttpStatusCode.OK);
        Assert.All(answers.Where(a => a.Status != HttpStatusCode.OK), a => Assert.Equal((HttpStatusCode.PreconditionFailed, "label_moved"), (a.Status, a.Body.Str("code"))));
        Assert.Equal(landed.ETag, $"\"{prompt!["labels"]!["staging"]!.GetValue<string>()}\"");
        Assert.Single(audit!["entries"]!.AsArray());
    }

    /// <summary>The hint of a label not set names what the answering route takes: it once sent a promote or a rollback off to "moving the label".</summary>
    [Fact]
    public async Task PromoteAndRollback_IfMatchWhileProductionIsNotSet_HintWorksOnTheSameRoute()
    {
        var name = await ThreeVersionsAsync();
        var promote = $"/api/prompts/{name}/versions/1.0.1/status";
        var production = new { status = "production" };

        var (refused, _, problem) = await ConditionalWriteAsync(HttpMethod.Post, promote, production, ifMatch: "\"1.0.0\"");
        var (rollbackRefused, _, rollbackProblem) = await ConditionalWriteAsync(HttpMethod.Post, $"/api/prompts/{name}/rollback", new { version = "1.0.0" }, ifMatch: "*");
        var (retried, retriedTag, _) = await ConditionalWriteAsync(HttpMethod.Post, promote, production, ifMatch: null, ifNoneMatch: "*");

        Assert.Equal((HttpStatusCode.PreconditionFailed, "label_moved"), (refused, problem.Str("code")));
        Assert.Equal((HttpStatusCode.PreconditionFailed, "label_moved"), (rollbackRefused, rollbackProblem.Str("code")));
        foreach (var detail in new[] { problem.Str("detail"), rollbackProblem.Str("detail") })
        {
            Assert.Contains("send If-None-Match: * instead to make this change only while it is still not set", detail);
            Assert.DoesNotContain("moving the label", detail);
        }
        Assert.Equal((HttpStatusCode.OK, "\"1.0.1\""), (retried, retriedTag));
    }

    [Fact]
    public async Task PromoteAndRollback_IfNoneMatchAny_OnlyWhileProductionIsNotSet()
    {
        var name = await ThreeVersionsAsync();
        string Status(string version) => $"/api/prompts/{name}/versions/{version}/status";
        var production = new { status = "production" };

        var (first, firstTag, _) = await ConditionalWriteAsync(HttpMethod.Post, Status("1.0.1"), production, ifMatch: null, ifNoneMatch: "*");
        var (second, _, secondProblem) = await ConditionalWriteAsync(HttpMethod.Post, Status("1.0.2"), production, ifMatch: null, ifNoneMatch: "*");
        var (rollback, _, rollbackProblem) = await ConditionalWriteAsync(HttpMethod.Post, $"/api/prompts/{name}/rollback", new { version = "1.0.0" }, ifMatch: null, ifNoneMatch: "*");
        var (review, _, reviewProblem) = await ConditionalWriteAsync(HttpMethod.Post, Status("1.0.2"), new { status = "review" }, ifMatch: null, ifNoneMatch: "*");
        var (_, prompt) = await GetAsync(_client, $"/api/prompts/{name}");
        var (_, notPromoted) = await GetAsync(_client, $"/api/prompts/{name}/versions/1.0.2");

        Assert.Equal((HttpStatusCode.OK, "\"1.0.1\""), (first, firstTag));
        Assert.Equal((HttpStatusCode.PreconditionFailed, "label_moved"), (second, secondProblem.Str("code")));
        Assert.Contains("points at version 1.0.1", secondProblem.Str("detail"));
        Assert.Equal((HttpStatusCode.PreconditionFailed, "label_moved"), (rollback, rollbackProblem.Str("code")));
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_if_none_match"), (review, reviewProblem.Str("code")));
        Assert.Equal("1.0.1", prompt!["labels"]!["production"]!.GetValue<string>());
        Assert.Equal("1.0.2", prompt["latestVersion"].Str("version"));
        Assert.Equal("draft", notPromoted.Str("status"));
    }

    /// <summary>A new prompt with versions 1.0.0, 1.0.1 and 1.0.2, all drafts.</summary>
    private async Task<string> ThreeVersionsAsync()
    {
        var name = await CreateSupportPromptAsync(_client);
        await NewVersionAsync(_client, name, new { content = SupportTemplate + "\nA", changeDescription = "A" });
        await NewVersionAsync(_client, name, new { content = SupportTemplate + "\nB", changeDescription = "B" });
        return name;
    }

    private async Task<(HttpStatusCode Status, string? ETag, JsonNode? Body)> ConditionalWriteAsync(HttpMethod method, string path, object? body, string? ifMatch,
        string? ifNoneMatch = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = JsonContent.Create(body);
        if (ifMatch is not null) request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        if (ifNoneMatch is not null) request.Headers.TryAddWithoutValidation("If-None-Match", ifNoneMatch);
        using var response = await _client.SendAsync(request, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        return (response.StatusCode, response.Headers.ETag?.ToString(), text.Length == 0 ? null : JsonNode.Parse(text));
    }

    [Fact]
    public async Task Rollback_IfMatch_RollsBackOnlyFromTheProductionVersionTheCallerSaw()
    {
        var name = await ThreeVersionsAsync();
        await PutAsync(_client, $"/api/prompts/{name}/labels/production", new { version = "1.0.1" });
        var path = $"/api/prompts/{name}/rollback";

        var (stale, _, staleProblem) = await ConditionalWriteAsync(HttpMethod.Post, path, new { version = "1.0.0" }, "\"1.0.2\"");
        var (_, afterStale) = await GetAsync(_client, $"/api/prompts/{name}");
        var (_, auditAfterStale) = await GetAsync(_client, $"/api/audit?prompt={name}&action=prompt.rolled_back");
        var (malformed, _, malformedProblem) = await ConditionalWriteAsync(HttpMethod.Post, path, new { version = "1.0.0" }, "1.0.1");
        var (matching, matchingTag, matchingBody) = await ConditionalWriteAsync(HttpMethod.Post, path, new { version = "1.0.0" }, "\"1.0.1\"");
        // A rollback retried after its answer was lost, or someone else's from the same reading: production moved meanwhile.
        var (repeated, _, repeatedProblem) = await ConditionalWriteAsync(HttpMethod.Post, path, new { version = "1.0.2" }, "\"1.0.1\"");
        var (any, anyTag, _) = await ConditionalWriteAsync(HttpMethod.Post, path, new { version = "1.0.2" }, "*");
        var (absent, absentTag, _) = await ConditionalWriteAsync(HttpMethod.Post, path, new { version = "1.0.0" }, ifMatch: null);
        var (_, audit) = await GetAsync(_client, $"/api/audit?prompt={name}&action=prompt.rolled_back");

        Assert.Equal((HttpStatusCode.PreconditionFailed, "label_moved"), (stale, staleProblem.Str("code")));
        Assert.Contains("points at version 1.0.1", staleProblem.Str("detail"));
        Assert.Equal("1.0.1", afterStale!["labels"]!["production"]!.GetValue<string>());
        Assert.Equal("1.0.2", afterStale["latestVersion"].Str("version"));
        Assert.Empty(auditAfterStale!["entries"]!.AsArray());
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_if_match"), (malformed, malformedProblem.Str("code")));
        Assert.Equal(HttpStatusCode.OK, matching);
        Assert.Equal("1.0.3", matchingBody.Str("version"));
        Assert.Equal("\"1.0.3\"", matchingTag);
        Assert.Equal(HttpStatusCode.PreconditionFailed, repeated);
        Assert.Contains("points at version 1.0.3", repeatedProblem.Str("detail"));
        Assert.Equal((HttpStatusCode.OK, "\"1.0.4\""), (any, anyTag));
        Assert.Equal((HttpStatusCode.OK, "\"1.0.5\""), (absent, absentTag));
        Assert.Equal(3, audit!["entries"]!.AsArray().Count);
    }

    [Fact]
    public async Task ChangeStatus_IfMatch_PromotesOnlyFromTheProductionVersionTheCallerSaw_AndOtherStatusesTakeNone()
    {
        var name = await ThreeVersionsAsync();
        await PutAsync(_client, $"/api/prompts/{name}/labels/production", new { version = "1.0.0" });
        string Status(string version) => $"/api/prompts/{name}/versions/{version}/status";
        var production = new { status = "production" };

        var (stale, _, staleProblem) = await ConditionalWriteAsync(HttpMethod.Post, Status("1.0.2"), production, "\"1.0.1\"");
        var (_, afterStale) = await GetAsync(_client, $"/api/prompts/{name}");
        var (_, versionAfterStale) = await GetAsync(_client, $"/api/prompts/{name}/versions/1.0.2");
        var (malformed, _, malformedProblem) = await ConditionalWriteAsync(HttpMethod.Post, Status("1.0.2"), production, "1.0.0");
        var (matching, matchingTag, _) = await ConditionalWriteAsync(HttpMethod.Post, Status("1.0.1"), production, "\"1.0.0\"");
        var (repeated, repeatedTag, _) = await ConditionalWriteAsync(HttpMethod.Post, Status("1.0.1"), production, "\"1.0.1\"");
        var (any, anyTag, _) = await ConditionalWriteAsync(HttpMethod.Post, Status("1.0.2"), production, "*");
        var (archive, _, archiveProblem) = await ConditionalWriteAsync(HttpMethod.Post, Status("1.0.0"), new { status = "archived" }, "\"1.0.2\"");
        var (_, archivedAfterRefusal) = await GetAsync(_client, $"/api/prompts/{name}/versions/1.0.0");
        var (archiveAny, archiveAnyTag, _) = await ConditionalWriteAsync(HttpMethod.Post, Status("1.0.0"), new { status = "archived" }, "*");
        var (_, audit) = await GetAsync(_client, $"/api/audit?prompt={name}&action=version.promoted");

        Assert.Equal((HttpStatusCode.PreconditionFailed, "label_moved"), (stale, staleProblem.Str("code")));
        Assert.Contains("points at version 1.0.0", staleProblem.Str("detail"));
        Assert.Equal("1.0.0", afterStale!["labels"]!["production"]!.GetValue<string>());
        Assert.Equal("draft", versionAfterStale.Str("status"));
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_if_match"), (malformed, malformedProblem.Str("code")));
        Assert.Equal((HttpStatusCode.OK, "\"1.0.1\""), (matching, matchingTag));
        Assert.Equal((HttpStatusCode.OK, "\"1.0.1\""), (repeated, repeatedTag));
        Assert.Equal((HttpStatusCode.OK, "\"1.0.2\""), (any, anyTag));
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_if_match"), (archive, archiveProblem.Str("code")));
        Assert.Contains("archived", archiveProblem.Str("detail"));
        Assert.Equal("deprecated", archivedAfterRefusal.Str("status"));
        Assert.Equal(HttpStatusCode.OK, archiveAny);
        Assert.Null(archiveAnyTag);
        Assert.Equal(3, audit!["entries"]!.AsArray().Count);
    }

    [Fact]
    public async Task ChangeStatus_FollowsTheLifecycleTable()
    {
        var name = await CreateSupportPromptAsync(_client);

        using var reviewer = fixture.Server.CreateClient(await fixture.Server.CreateKeyAsync("reviewer", Core.Auth.ApiKeyRole.Writer, TestContext.Current.CancellationToken));

        var (review, _) = await PostAsync(_client, $"/api/prompts/{name}/versions/1.0.0/status", new { status = "review" });
        var (approved, body) = await PostAsync(reviewer, $"/api/prompts/{name}/versions/1.0.0/status", new { status = "approved" });
        var (backToDraft, problem) = await PostAsync(_client, $"/api/prompts/{name}/versions/1.0.0/status", new { status = "deprecated" });
        var (production, promoted) = await PostAsync(_client, $"/api/prompts/{name}/versions/1.0.0/status", new { status = "production" });

        Assert.Equal(HttpStatusCode.OK, review);
        Assert.Equal(HttpStatusCode.OK, approved);
        Assert.Equal("approved", body.Str("status"));
        Assert.Equal(HttpStatusCode.Conflict, backToDraft);
        Assert.Equal("invalid_transition", problem.Str("code"));
        Assert.Equal(HttpStatusCode.OK, production);
        Assert.Equal(["production"], promoted!["labels"]!.AsArray().Select(l => l!.GetValue<string>()));
    }

    [Fact]
    public async Task ChangeStatus_ToTheStatusItHas_Answers200AndChangesNothing()
    {
        // A retried status request whose first answer was lost must not be refused as a move outside the table.
        var name = await CreateSupportPromptAsync(_client);
        var (_, before) = await GetAsync(_client, $"/api/audit?prompt={name}");

        var (draft, body) = await PostAsync(_client, $"/api/prompts/{name}/versions/1.0.0/status", new { status = "draft" });
        var (_, auditAfterDraft) = await GetAsync(_client, $"/api/audit?prompt={name}");
        await PostAsync(_client, $"/api/prompts/{name}/versions/1.0.0/status", new { status = "archived" });
        var (archivedAgain, _) = await PostAsync(_client, $"/api/prompts/{name}/versions/1.0.0/status", new { status = "archived" });
        var (_, auditAfterArchive) = await GetAsync(_client, $"/api/audit?prompt={name}");

        Assert.Equal(HttpStatusCode.OK, draft);
        Assert.Equal("draft", body.Str("status"));
        Assert.Equal(before!["total"]!.GetValue<int>(), auditAfterDraft!["total"]!.GetValue<int>());
        Assert.Equal(HttpStatusCode.OK, archivedAgain);
        Assert.Equal(before["total"]!.GetValue<int>() + 1, auditAfterArchive!["total"]!.GetValue<int>());
    }

    [Fact]
    public async Task Render_EscapesTextAsEveryOtherAnswerDoes()
    {
        var name = await CreateSupportPromptAsync(_client);
        // Every character a request may carry (not U+0000, no lone surrogate), and a surrogate pair.
        var everyCharacter = string.Concat(Enumerable.Range(1, 0xFFFF).Select(c => (char)c).Where(c => !char.IsSurrogate(c))) + "\ud83d\ude00";
        var answers = fixture.Server.Services.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;

        using var response = await _client.PostAsJsonAsync($"/api/prompts/{name}/render",
            new { version = "1.0.0", variables = new { company_name = everyCharacter, customer_name = "Ana" } }, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(JsonSerializer.Serialize(everyCharacter, answers)[1..^1], text, StringComparison.Ordinal);
        Assert.Contains("The customer's name is Ana.", text, StringComparison.Ordinal); // as a prompt's description reads back
    }

    [Fact]
    public async Task ArchivedVersion_CannotBePromotedOrRendered()
    {
        var name = await CreateSupportPromptAsync(_client);
        await PostAsync(_client, $"/api/prompts/{name}/versions/1.0.0/status", new { status = "archived" });

        var (promote, problem) = await PutAsync(_client, $"/api/prompts/{name}/labels/production", new { version = "1.0.0" });
        var (render, _) = await PostAsync(_client, $"/api/prompts/{name}/render", new { version = "1.0.0", variables = new { company_name = "Acme" } });

        Assert.Equal(HttpStatusCode.Conflict, promote);
        Assert.Equal("version_archived", problem.Str("code"));
        Assert.Equal(HttpStatusCode.Conflict, render);
    }

    [Fact]
    public async Task Rollback_CreatesNewVersionWithOldContentAndPromotesIt()
    {
        var name = await CreateSupportPromptAsync(_client);
        await NewVersionAsync(_client, name, new { content = SupportTemplate + "\nA", changeDescription = "A" });
        await PutAsync(_client, $"/api/prompts/{name}/labels/production", new { version = "1.0.1" });

        var (status, rolled) = await PostAsync(_client, $"/api/prompts/{name}/rollback", new { version = "1.0.0", reason = "A hurt conversions" });
        var (_, history) = await GetAsync(_client, $"/api/prompts/{name}/versions");
        var (_, original) = await GetAsync(_client, $"/api/prompts/{name}/versions/1.0.0");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("1.0.2", rolled.Str("version"));
        Assert.Equal("Rollback to version 1.0.0", rolled.Str("changeDescription"));
        Assert.Equal(original.Str("content"), rolled.Str("content"));
        Assert.Equal("production", rolled.Str("status"));
        var statuses = history!["versions"]!.AsArray().ToDictionary(v => v.Str("version"), v => v.Str("status"));
        Assert.Equal("deprecated", statuses["1.0.1"]);
        Assert.Equal(3, statuses.Count);
    }

    [Fact]
    public async Task Compare_TwoVersions_ReturnsDiffOfContentVariablesAndMetadata()
    {
        var name = await CreateSupportPromptAsync(_client);
        await NewVersionAsync(_client, name, new
        {
            content = SupportTemplate.Replace("helpful", "friendly") + "\nTone: {{tone}}",
            variables = new object[]
            {
                new { name = "company_name", type = "string", required = true },
                new { name = "customer_name", type = "string" },
                new { name = "previous_messages", type = "array" },
                new { name = "tone", type = "string" },
            },
            metadata = new { model = "gpt-4o", temperature = 0.3, maxTokens = 500 },
            changeDescription = "friendlier",
        });

        var (status, diff) = await GetAsync(_client, $"/api/prompts/{name}/compare?a=1.0.0&b=1.1.0");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("-You are a helpful customer support agent", diff.Str("unifiedDiff"));
        Assert.Contains("+You are a friendly customer support agent", diff.Str("unifiedDiff"));
        Assert.Contains("Tone: {{tone}}", diff!["contentDiff"]!["added"]!.AsArray().Select(l => l!.GetValue<string>()));
        Assert.Equal(["tone"], diff["variablesDiff"]!["added"]!.AsArray().Select(v => v!.GetValue<string>()));
        Assert.Equal("\"gpt-4o\"", diff["metadataDiff"]!["model"]!.Str("b"));
        Assert.NotNull(diff["metricsDiff"]!["latencyMs"]);
    }

    [Fact]
    public async Task Render_ProductionLabel_RendersTemplateWithVariables()
    {
        var name = await CreateSupportPromptAsync(_client);
        await PutAsync(_client, $"/api/prompts/{name}/labels/production", new { version = "1.0.0" });

        var (status, body) = await PostAsync(_client, $"/api/prompts/{name}/render", new
        {
            variables = new
            {
                company_name = "Acme <Corp>",
                customer_name = "Ana",
                previous_messages = new[] { new { role = "user", content = "Where is {{company_name}}?" }, new { role = "assistant", content = "Here." } },
            },
        });

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("""
            You are a helpful customer support agent for Acme <Corp>.
            The customer's name is Ana.
            Previous messages:
            user: Where is {{company_name}}?
            assistant: Here.
            """, body.Str("content"));
        Assert.Equal("1.0.0", body.Str("version"));
        Assert.Equal("gpt-4o-mini", body!["metadata"]!.Str("model"));
    }

    [Fact]
    public async Task Render_BadVariables_Returns400NamingTheVariable()
    {
        var name = await CreateSupportPromptAsync(_client);

        var (missing, missingBody) = await PostAsync(_client, $"/api/prompts/{name}/render", new { version = "1.0.0", variables = new { customer_name = "Ana" } });
        var (wrongType, wrongBody) = await PostAsync(_client, $"/api/prompts/{name}/render", new { version = "1.0.0", variables = new { company_name = 42 } });
        var (noLabel, noLabelBody) = await PostAsync(_client, $"/api/prompts/{name}/render", new { variables = new { company_name = "Acme" } });

        Assert.Equal(HttpStatusCode.BadRequest, missing);
        Assert.Contains("company_name", missingBody.Str("detail"));
        Assert.Equal(HttpStatusCode.BadRequest, wrongType);
        Assert.Equal("variables.company_name", wrongBody.Str("field"));
        Assert.Equal(HttpStatusCode.NotFound, noLabel);
        Assert.Equal("label_not_found", noLabelBody.Str("code"));
    }

    [Fact]
    public async Task ListPrompts_FiltersByTypeCategoryAndTag()
    {
        var name = await CreateSupportPromptAsync(_client);

        var (_, byTag) = await GetAsync(_client, "/api/prompts?tag=support&type=system&category=support");
        var (_, byOtherType) = await GetAsync(_client, "/api/prompts?type=user");
        var (badType, problem) = await GetAsync(_client, "/api/prompts?type=bogus");

        Assert.Contains(name, byTag!["prompts"]!.AsArray().Select(p => p.Str("name")));
        Assert.DoesNotContain(name, byOtherType!["prompts"]!.AsArray().Select(p => p.Str("name")));
        Assert.Equal(HttpStatusCode.BadRequest, badType);
        Assert.Equal("type", problem.Str("field"));
    }

    [Fact]
    public async Task ListPrompts_EmptyFilterFiltersNothing_RepeatedOneIs400_TypeMatchesExactlyAsCreateDoes()
    {
        var name = await CreateSupportPromptAsync(_client);

        var (_, all) = await GetAsync(_client, "/api/prompts?limit=200");
        var (_, empty) = await GetAsync(_client, "/api/prompts?limit=200&type=&category=&tag=");
        var (repeated, repeatedProblem) = await GetAsync(_client, "/api/prompts?tag=support&tag=other");
        var (capitalised, capitalisedProblem) = await GetAsync(_client, "/api/prompts?type=System");
        var (created, _) = await PostAsync(_client, "/api/prompts", new { name = name + "-cap", type = "System", content = "x" });

        Assert.Equal(all!["total"]!.GetValue<int>(), empty!["total"]!.GetValue<int>());
        Assert.Contains(name, empty["prompts"]!.AsArray().Select(p => p.Str("name")));
        Assert.Equal(HttpStatusCode.BadRequest, repeated);
        Assert.Equal(("too_many", "tag"), (repeatedProblem.Str("code"), repeatedProblem.Str("field")));
        Assert.Equal(HttpStatusCode.BadRequest, created); // a new prompt's type is its exact name, so the filter's is too
        Assert.Equal(HttpStatusCode.BadRequest, capitalised);
        Assert.Equal(("invalid_type", "type"), (capitalisedProblem.Str("code"), capitalisedProblem.Str("field")));
    }

    [Fact]
    public void Audit_EveryActionItRecords_IsListedInTheApiDoc()
    {
        // GET /api/audit?action= must match exactly, so a reader needs every name the log can hold.
        var doc = File.ReadAllText(RepositoryFiles.Docs("api.md")).ReplaceLineEndings("\n");
        var start = doc.IndexOf("An audit entry:", StringComparison.Ordinal);
        var paragraph = doc[start..doc.IndexOf("\n\n", start, StringComparison.Ordinal)];
        var actions = typeof(Core.Audit.AuditActions).GetFields().Select(f => (string)f.GetRawConstantValue()!);

        Assert.All(actions, action => Assert.Contains($"`{action}`", paragraph, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Audit_RecordsEveryStepWithItsAuthor()
    {
        var writerKey = await fixture.Server.CreateKeyAsync("ci-bot", Core.Auth.ApiKeyRole.Writer, TestContext.Current.CancellationToken);
        using var writer = fixture.Server.CreateClient(writerKey);
        var name = await CreateSupportPromptAsync(writer);
        await NewVersionAsync(writer, name, new { content = SupportTemplate + "\nA", changeDescription = "A" });
        await PutAsync(_client, $"/api/prompts/{name}/labels/production", new { version = "1.0.1" });
        await PostAsync(_client, $"/api/prompts/{name}/rollback", new { version = "1.0.0" });

        var (status, body) = await GetAsync(_client, $"/api/audit?prompt={name}");

        Assert.Equal(HttpStatusCode.OK, status);
        var entries = body!["entries"]!.AsArray().Reverse().Select(e => (Action: e.Str("action"), Actor: e.Str("actor"))).ToList();
        Assert.Equal(
            [("prompt.created", "ci-bot"), ("version.created", "ci-bot"), ("version.created", "ci-bot"),
             ("version.promoted", "admin"), ("version.created", "admin"), ("prompt.rolled_back", "admin")],
            entries);
    }

    [Fact]
    public async Task Versions_HaveNoRouteThatChangesThem()
    {
        var name = await CreateSupportPromptAsync(_client);

        var (put, _) = await PutAsync(_client, $"/api/prompts/{name}/versions/1.0.0", new { content = "changed" });
        var (delete, _) = await SendAsync(_client, HttpMethod.Delete, $"/api/prompts/{name}/versions/1.0.0");
        var (patch, _) = await SendAsync(_client, HttpMethod.Patch, $"/api/prompts/{name}/versions/1.0.0", new { content = "changed" });
        var (_, version) = await GetAsync(_client, $"/api/prompts/{name}/versions/1.0.0");

        Assert.Equal(HttpStatusCode.MethodNotAllowed, put);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, delete);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, patch);
        Assert.Equal(SupportTemplate, version.Str("content"));
    }

    [Fact]
    public async Task PromptNameWithSlash_IsAddressableWhenEscaped()
    {
        var name = $"team/{UniqueName()}";
        await CreateSupportPromptAsync(_client, name);

        var (status, body) = await GetAsync(_client, $"/api/prompts/{Uri.EscapeDataString(name)}");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(name, body.Str("name"));
    }
}
