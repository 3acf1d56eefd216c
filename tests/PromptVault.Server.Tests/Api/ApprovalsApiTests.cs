using System.Net;
using PromptVault.Core.Auth;
using static PromptVault.Server.Tests.ApiCalls;

namespace PromptVault.Server.Tests.Api;

/// <summary>SPEC §7's approvals and §5's <c>PATCH /api/prompts/{name}</c>.</summary>
public sealed class ApprovalsApiTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private readonly HttpClient _admin = fixture.Server.CreateClient();

    [Fact]
    public async Task Approve_ByTheAuthor_Forbidden_ByAnotherKey_RecordsApproverOnVersionAndInAudit()
    {
        var name = await CreateSupportPromptAsync(_admin);
        await PostAsync(_admin, $"/api/prompts/{name}/versions/1.0.0/status", new { status = "review" });
        using var reviewer = await ClientAsync("reviewer", ApiKeyRole.Writer);

        var (self, selfProblem) = await PostAsync(_admin, $"/api/prompts/{name}/versions/1.0.0/status", new { status = "approved" });
        var (other, approved) = await PostAsync(reviewer, $"/api/prompts/{name}/versions/1.0.0/status", new { status = "approved" });
        var (_, read) = await GetAsync(_admin, $"/api/prompts/{name}/versions/1.0.0");
        var (_, audit) = await GetAsync(_admin, $"/api/audit?prompt={name}&action=version.status_changed");

        Assert.Equal(HttpStatusCode.Forbidden, self);
        Assert.Equal("self_approval", selfProblem.Str("code"));
        Assert.Contains("cannot approve", selfProblem.Str("detail"));
        Assert.Equal(HttpStatusCode.OK, other);
        Assert.Equal("reviewer", approved.Str("approvedBy"));
        Assert.Equal("reviewer", read.Str("approvedBy"));
        Assert.NotNull(read!["approvedAt"]);
        var entry = audit!["entries"]!.AsArray().First(e => e!["after"]!["status"]!.GetValue<string>() == "approved");
        Assert.Equal("reviewer", entry.Str("actor"));
        Assert.Equal("reviewer", entry!["after"].Str("approvedBy"));
    }

    [Fact]
    public async Task Promote_UnapprovedVersionOfGatedPrompt_Conflict_ApprovedOne_Promotes_RollbackCarriesTheApproval()
    {
        var name = await CreateSupportPromptAsync(_admin);
        var (gate, gated) = await SendAsync(_admin, HttpMethod.Patch, $"/api/prompts/{name}", new { requireApproval = true });
        using var reviewer = await ClientAsync("approver", ApiKeyRole.Writer);

        var (unapproved, problem) = await PutAsync(_admin, $"/api/prompts/{name}/labels/production", new { version = "1.0.0" });
        var (viaStatus, _) = await PostAsync(_admin, $"/api/prompts/{name}/versions/1.0.0/status", new { status = "production" });
        await PostAsync(_admin, $"/api/prompts/{name}/versions/1.0.0/status", new { status = "review" });
        await PostAsync(reviewer, $"/api/prompts/{name}/versions/1.0.0/status", new { status = "approved" });
        var (promoted, _) = await PutAsync(_admin, $"/api/prompts/{name}/labels/production", new { version = "1.0.0" });
        await NewVersionAsync(_admin, name, new { content = SupportTemplate + "\nBe brief.", changeDescription = "Be brief" });
        var (second, secondProblem) = await PutAsync(_admin, $"/api/prompts/{name}/labels/production", new { version = "1.0.1" });
        var (unapprovedRollback, _) = await PostAsync(_admin, $"/api/prompts/{name}/rollback", new { version = "1.0.1" });
        await PostAsync(_admin, $"/api/prompts/{name}/versions/1.0.1/status", new { status = "review" });
        await PostAsync(reviewer, $"/api/prompts/{name}/versions/1.0.1/status", new { status = "approved" });
        await PutAsync(_admin, $"/api/prompts/{name}/labels/production", new { version = "1.0.1" });
        var (rollback, rolledBack) = await PostAsync(_admin, $"/api/prompts/{name}/rollback", new { version = "1.0.0" });

        Assert.Equal(HttpStatusCode.OK, gate);
        Assert.True(gated!["requireApproval"]!.GetValue<bool>());
        Assert.Equal(HttpStatusCode.Conflict, unapproved);
        Assert.Equal("approval_required", problem.Str("code"));
        Assert.Contains("version 1.0.0 is draft", problem.Str("detail"));
        Assert.Contains("move it to review", problem.Str("detail"));
        Assert.Equal(HttpStatusCode.Conflict, viaStatus);
        Assert.Equal(HttpStatusCode.OK, promoted);
        Assert.Equal(HttpStatusCode.Conflict, second);
        Assert.Contains("version 1.0.1 is draft", secondProblem.Str("detail"));
        Assert.Equal(HttpStatusCode.Conflict, unapprovedRollback);
        Assert.Equal(HttpStatusCode.OK, rollback);
        Assert.Equal("production", rolledBack.Str("status"));
        Assert.Equal("approver", rolledBack.Str("approvedBy"));
    }

    [Fact]
    public async Task Patch_OwnFieldsByWriter_GatesOnlyByAdmin_AuditHoldsBeforeAndAfter()
    {
        var name = await CreateSupportPromptAsync(_admin);
        using var writer = await ClientAsync("editor", ApiKeyRole.Writer);

        var (described, prompt) = await SendAsync(writer, HttpMethod.Patch, $"/api/prompts/{name}", new { description = "Answers customers", tags = new[] { "a", "b" } });
        var (gateByWriter, problem) = await SendAsync(writer, HttpMethod.Patch, $"/api/prompts/{name}", new { requireTests = true });
        var (gateByAdmin, gated) = await SendAsync(_admin, HttpMethod.Patch, $"/api/prompts/{name}", new { requireTests = true, requireApproval = true });
        var (_, audit) = await GetAsync(_admin, $"/api/audit?prompt={name}&action=prompt.updated");

        Assert.Equal(HttpStatusCode.OK, described);
        Assert.Equal("Answers customers", prompt.Str("description"));
        Assert.Equal("support", prompt.Str("category"));
        Assert.Equal(HttpStatusCode.Forbidden, gateByWriter);
        Assert.Contains("admin", problem.Str("detail"));
        Assert.Equal(HttpStatusCode.OK, gateByAdmin);
        Assert.True(gated!["requireTests"]!.GetValue<bool>());
        var entries = audit!["entries"]!.AsArray();
        Assert.Equal(2, entries.Count);
        var first = entries.Single(e => e.Str("actor") == "editor");
        Assert.Equal("Customer support system prompt", first!["before"].Str("description"));
        Assert.Equal("Answers customers", first!["after"].Str("description"));
        Assert.Equal("a, b", first!["after"].Str("tags"));
        Assert.Null(first!["after"]!["requireTests"]);
        var second = entries.Single(e => e.Str("actor") != "editor");
        Assert.Equal("false", second!["before"].Str("requireApproval"));
        Assert.Equal("true", second!["after"].Str("requireApproval"));
    }

    [Fact]
    public async Task Create_WithRequireApproval_IsGatedFromTheStart()
    {
        var name = UniqueName();
        var body = System.Text.Json.Nodes.JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(SupportPrompt(name)))!.AsObject();
        body["requireApproval"] = true;

        var (created, prompt) = await PostAsync(_admin, "/api/prompts", body);
        var (promote, _) = await PutAsync(_admin, $"/api/prompts/{name}/labels/production", new { version = "1.0.0" });

        Assert.Equal(HttpStatusCode.Created, created);
        Assert.True(prompt!["requireApproval"]!.GetValue<bool>());
        Assert.False(prompt!["requireTests"]!.GetValue<bool>());
        Assert.Equal(HttpStatusCode.Conflict, promote);
    }

    [Theory]
    [InlineData("requireApproval", "version 1.0.1 is draft")]
    [InlineData("requireTests", "requires tests: version 1.0.1 has no evaluation run")]
    public async Task PromoteWinner_WinnerAPromoteWouldRefuse_CompletesWithoutPromoting_AuditSaysWhy(string gate, string refusal)
    {
        var (name, versions) = await Experiments.CreatePromptWithChallengersAsync(_admin);
        await SendAsync(_admin, HttpMethod.Patch, $"/api/prompts/{name}", new Dictionary<string, bool> { [gate] = true });
        var experiment = await Experiments.CreateAsync(_admin, new
        {
            name = UniqueName("gated"),
            prompt = name,
            variants = new object[] { new { name = "control", versionId = versions[0], weight = 50 }, new { name = "casual", versionId = versions[1], weight = 50 } },
            targetMetric = "conversionRate",
            minimumSampleSize = 100,
            promoteWinner = true,
        });
        await Experiments.MoveAsync(_admin, experiment.Str("id"), "start");

        var stopped = await Experiments.SendUntilStoppedAsync(_admin, experiment, (arm, k) => new System.Text.Json.Nodes.JsonObject { ["converted"] = k % 10 < (arm == "casual" ? 6 : 1) });

        Assert.Equal("completed", stopped.Str("status"));
        Assert.Equal(Experiments.VariantId(experiment, "casual"), stopped.Str("winner"));
        var (_, prompt) = await GetAsync(_admin, $"/api/prompts/{name}");
        Assert.Equal("1.0.0", prompt!["labels"]!["production"]!.GetValue<string>());
        var (_, audit) = await GetAsync(_admin, $"/api/audit?prompt={name}");
        var completed = Assert.Single(audit!["entries"]!.AsArray(), e => e.Str("action") == "experiment.completed");
        Assert.Contains(refusal, completed!["after"]!["promotionRefused"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.DoesNotContain(audit["entries"]!.AsArray(), e => e.Str("action") == "version.promoted" && e.Str("subject") == "1.0.1");
    }

    [Fact]
    public async Task Complete_WithPromoteWinner_TestsRequiredAndNotRun_Answers200Completed_WinnerNotPromoted()
    {
        var (name, versions) = await Experiments.CreatePromptWithChallengersAsync(_admin);
        var experiment = await Experiments.CreateAsync(_admin, new
        {
            name = UniqueName("manual"),
            prompt = name,
            variants = new object[] { new { name = "control", versionId = versions[0], weight = 50 }, new { name = "casual", versionId = versions[1], weight = 50 } },
            targetMetric = "conversionRate",
            minimumSampleSize = 100,
            promoteWinner = true,
        });
        var id = experiment.Str("id");
        await Experiments.MoveAsync(_admin, id, "start");
        // A clear winner, paused before the look that would complete it, so the complete below decides.
        var events = new List<object>();
        var casual = Experiments.VariantId(experiment, "casual");
        for (var unit = 0; unit < 600; unit++)
        {
            var unitId = $"{id}-u{unit}";
            var (_, rendered) = await PostAsync(_admin, $"/api/prompts/{name}/render", new { variables = new { company_name = "Acme" }, unitId });
            var variantId = rendered.Str("variantId");
            events.Add(new { versionId = rendered.Str("versionId"), experimentId = id, variantId, unitId, converted = unit % 10 < (variantId == casual ? 6 : 1) });
        }
        await Experiments.MoveAsync(_admin, id, "pause");
        foreach (var chunk in events.Chunk(500))
            await Experiments.RecordAsync(_admin, chunk);
        await SendAsync(_admin, HttpMethod.Patch, $"/api/prompts/{name}", new { requireTests = true });

        var (status, completed) = await PostAsync(_admin, $"/api/experiments/{id}/complete", null);

        Assert.True(status == HttpStatusCode.OK, completed?.ToJsonString());
        Assert.Equal(("completed", Experiments.VariantId(experiment, "casual")), (completed.Str("status"), completed.Str("winner")));
        var (_, prompt) = await GetAsync(_admin, $"/api/prompts/{name}");
        Assert.Equal("1.0.0", prompt!["labels"]!["production"]!.GetValue<string>());
        var (_, audit) = await GetAsync(_admin, $"/api/audit?prompt={name}");
        var entry = Assert.Single(audit!["entries"]!.AsArray(), e => e.Str("action") == "experiment.completed");
        Assert.Contains("requires tests", entry!["after"]!["promotionRefused"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    private async Task<HttpClient> ClientAsync(string keyName, ApiKeyRole role) =>
        fixture.Server.CreateClient(await fixture.Server.CreateKeyAsync(keyName, role, TestContext.Current.CancellationToken));
}
