using System.Net;
using Microsoft.Extensions.DependencyInjection;
using PromptVault.Core.Storage;
using static PromptVault.Server.Tests.ApiCalls;

namespace PromptVault.Server.Tests.Api;

/// <summary>
/// A merge import (<c>POST /api/import?merge=true</c>) through a real server: what the prompts it adds serve must pass the
/// include checks a promote passes, on the registry as it would be after the import, or nothing is imported.
/// </summary>
public sealed class ImportIncludesApiTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private readonly HttpClient _client = fixture.Server.CreateClient();

    private const string At = "2026-12-01T06:00:00.0000000+00:00";

    /// <summary>A prompt of the document: its one version 1.0.0, with <paramref name="content"/>, in production.</summary>
    private sealed record Imported(string Name, string Content, params string[] Variables)
    {
        public string Id { get; } = Guid.NewGuid().ToString("N");
        public string VersionId { get; } = Guid.NewGuid().ToString("N");
        public string Label { get; init; } = "production";
        public object Tags { get; init; } = Array.Empty<string>();
        public string? Category { get; init; }

        /// <summary>When set, the document holds a draft experiment of the prompt with these names, its two variants of the one version.</summary>
        public (string Name, string Control, string Treatment)? Experiment { get; init; }

        /// <summary>When set, the document holds a reader key of this name.</summary>
        public string? KeyName { get; init; }
    }

    private static object Document(params Imported[] prompts) => new
    {
        format = "promptvault-export",
        formatVersion = 1,
        exportedAt = At,
        prompts = prompts.Select(p => new
        {
            id = p.Id, name = p.Name, description = "", type = "system", tags = p.Tags, category = p.Category,
            createdAt = At, createdBy = "alice", updatedAt = At, updatedBy = "alice", requireApproval = false, requireTests = false,
        }),
        versions = prompts.Select(p => new
        {
            id = p.VersionId, promptId = p.Id, sequence = 1, major = 1, minor = 0, patch = 0, content = p.Content,
            variables = p.Variables.Select(v => new { name = v, type = "string", required = true, description = "" }),
            metadata = new { }, changeDescription = "Initial version", createdBy = "alice", createdAt = At, status = "production",
            messages = (object?)null, approvedBy = (string?)null, approvedAt = (string?)null,
        }),
        labels = prompts.Select(p => new { promptId = p.Id, name = p.Label, versionId = p.VersionId, updatedAt = At, updatedBy = "alice" }),
        experiments = prompts.Where(p => p.Experiment is not null).Select(p => new
        {
            id = Guid.NewGuid().ToString("N"), promptId = p.Id, name = p.Experiment!.Value.Name, description = "",
            variants = new[] { p.Experiment.Value.Control, p.Experiment.Value.Treatment }
                .Select(name => new { id = Guid.NewGuid().ToString("N"), name, versionId = p.VersionId, weight = 50 }),
            targetMetric = "conversion_rate", minimumSampleSize = 100, confidenceLevel = 0.95, minimumDetectableEffect = 0.1, power = 0.8,
            guardrails = Array.Empty<object>(), promoteWinner = false, status = "draft", hashSeed = 1, winner = (string?)null, statusReason = (string?)null,
            createdAt = At, createdBy = "alice", updatedAt = At, startedAt = (string?)null, endedAt = (string?)null,
        }),
        apiKeys = prompts.Where(p => p.KeyName is not null).Select(p => new
        {
            id = Guid.NewGuid().ToString("N"), name = p.KeyName, role = "reader", prefix = "pv_test", keyHash = Guid.NewGuid().ToString("N"),
            createdAt = At, createdBy = "alice", revokedAt = (string?)null,
        }),
    };

    private async Task AssertNotStoredAsync(params string[] names)
    {
        foreach (var name in names)
            Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(_client, $"/api/prompts/{name}")).Status);
    }

    [Fact]
    public async Task Merge_ALabelLongerThan64Characters_Returns400NamingTheLimit_AndStoresNothing()
    {
        var longest = new Imported(UniqueName("label-64"), "Plain.") { Label = new string('l', 64) };
        var tooLong = new Imported(UniqueName("label-65"), "Plain.") { Label = new string('l', 65) };

        var (taken, _) = await PostAsync(_client, "/api/import?merge=true", Document(longest));
        var (status, body) = await PostAsync(_client, "/api/import?merge=true", Document(tooLong));

        Assert.Equal(HttpStatusCode.OK, taken);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_export_document", body.Str("code"));
        Assert.Equal("$.labels[0].name", body.Str("field"));
        Assert.Contains("is 65 characters long; the limit is 64", body.Str("detail"), StringComparison.Ordinal);
        await AssertNotStoredAsync(tooLong.Name);
    }

    [Fact]
    public async Task Merge_APromptNameTheApiRefuses_Returns400NamingIt_AndStoresNothing()
    {
        var unreachable = new Imported("Has Space " + UniqueName("x"), "Plain.");

        var (status, body) = await PostAsync(_client, "/api/import?merge=true", Document(unreachable));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_export_document", body.Str("code"));
        Assert.Equal("$.prompts[0].name", body.Str("field"));
        Assert.Contains("use 1–100 characters of a-z", body.Str("detail"), StringComparison.Ordinal);
        // The API cannot name it (that is the point), so the store is asked.
        Assert.Null(await fixture.Server.Services.GetRequiredService<IPromptStore>().FindPromptAsync(unreachable.Name, TestContext.Current.CancellationToken));
    }

    [Theory]
    [InlineData("51 tags", "$.prompts[0].tags", "tags has 51 entries; the limit is 50")]
    [InlineData("a 101-character tag", "$.prompts[0].tags", "tags[1] is 101 characters long; the limit is 100")]
    [InlineData("tags not an array", "$.prompts[0].tags", "it must be an array of strings")]
    [InlineData("a 101-character category", "$.prompts[0].category", "category is 101 characters long; the limit is 100")]
    public async Task Merge_TagsOrACategoryTheApiRefuses_Returns400NamingTheField_AndStoresNothing(string problem, string field, string detail)
    {
        var refused = problem switch
        {
            "51 tags" => new Imported(UniqueName("tags"), "Plain.") { Tags = Enumerable.Range(0, 51).Select(i => $"t{i}").ToArray() },
            "a 101-character tag" => new Imported(UniqueName("tag"), "Plain.") { Tags = new[] { "ok", new string('t', 101) } },
            "tags not an array" => new Imported(UniqueName("tags"), "Plain.") { Tags = "ok" },
            _ => new Imported(UniqueName("category"), "Plain.") { Category = new string('c', 101) },
        };

        var (status, body) = await PostAsync(_client, "/api/import?merge=true", Document(refused));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_export_document", body.Str("code"));
        Assert.Equal(field, body.Str("field"));
        Assert.Contains(detail, body.Str("detail"), StringComparison.Ordinal);
        await AssertNotStoredAsync(refused.Name);
    }

    [Fact]
    public async Task Merge_AnExperimentOrVariantNameTheApiRefuses_Returns400NamingTheField_AndStoresNothing()
    {
        var taken = new Imported(UniqueName("experiment"), "Plain.") { Experiment = ("Tone", "control", new string('v', 100)) };
        var blank = new Imported(UniqueName("experiment"), "Plain.") { Experiment = (" ", "control", "treatment") };
        var tooLong = new Imported(UniqueName("experiment"), "Plain.") { Experiment = ("Tone", "control", new string('v', 101)) };

        var (takenStatus, _) = await PostAsync(_client, "/api/import?merge=true", Document(taken));
        var (blankStatus, blankBody) = await PostAsync(_client, "/api/import?merge=true", Document(blank));
        var (tooLongStatus, tooLongBody) = await PostAsync(_client, "/api/import?merge=true", Document(tooLong));

        Assert.Equal(HttpStatusCode.OK, takenStatus);
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_export_document", "$.experiments[0].name"), (blankStatus, blankBody.Str("code"), blankBody.Str("field")));
        Assert.Contains("name is required and must not be empty", blankBody.Str("detail"), StringComparison.Ordinal);
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_export_document", "$.experiments[0].variants"),
            (tooLongStatus, tooLongBody.Str("code"), tooLongBody.Str("field")));
        Assert.Contains("variants[1].name is 101 characters long; the limit is 100", tooLongBody.Str("detail"), StringComparison.Ordinal);
        await AssertNotStoredAsync(blank.Name, tooLong.Name);
    }

    [Fact]
    public async Task Merge_AKeyNamedAsPromptVaultsOwnActor_Returns400NamingTheField_AndStoresNothing()
    {
        var reserved = new Imported(UniqueName("keyed"), "Plain.") { KeyName = "promptvault" };

        var (status, body) = await PostAsync(_client, "/api/import?merge=true", Document(reserved));

        Assert.Equal((HttpStatusCode.BadRequest, "invalid_export_document", "$.apiKeys[0].name"), (status, body.Str("code"), body.Str("field")));
        Assert.Contains("name 'promptvault' is reserved for PromptVault's own changes", body.Str("detail"), StringComparison.Ordinal);
        await AssertNotStoredAsync(reserved.Name);
    }

    [Fact]
    public async Task Merge_AServedVersionIncludesAMissingPrompt_Returns422NamingIt_AndStoresNothing()
    {
        var (missing, other) = (UniqueName("nobody"), new Imported(UniqueName("plain"), "Plain."));
        var includer = new Imported(UniqueName("includer"), $"Hello. {{{{> {missing}}}}}");

        var (status, body) = await PostAsync(_client, "/api/import?merge=true", Document(other, includer));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        Assert.Equal("reference_not_found", body.Str("code"));
        Assert.Equal("$.versions[1]", body.Str("field"));
        Assert.Contains($"'{includer.Name}' 1.0.0 (production)", body.Str("detail"), StringComparison.Ordinal);
        Assert.Contains($"no prompt '{missing}'", body.Str("detail"), StringComparison.Ordinal);
        await AssertNotStoredAsync(other.Name, includer.Name);
    }

    [Fact]
    public async Task Merge_AServedVersionPinsAnArchivedStoredVersion_Returns409VersionArchived_AndStoresNothing()
    {
        var included = UniqueName("guard");
        Assert.Equal(HttpStatusCode.Created, (await PostAsync(_client, "/api/prompts", new { name = included, type = "system", content = "Be kind." })).Status);
        await NewVersionAsync(_client, included, new { content = "Be very kind.", changeDescription = "kinder" });
        Assert.Equal(HttpStatusCode.OK, (await PutAsync(_client, $"/api/prompts/{included}/labels/production", new { version = "1.0.1" })).Status);
        var (archived, archive) = await PostAsync(_client, $"/api/prompts/{included}/versions/1.0.0/status", new { status = "archived" });
        Assert.True(archived == HttpStatusCode.OK, archive?.ToJsonString());
        var includer = new Imported(UniqueName("includer"), $"Hello. {{{{> {included}@1.0.0}}}}");

        var (status, body) = await PostAsync(_client, "/api/import?merge=true", Document(includer));

        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal("version_archived", body.Str("code"));
        Assert.Contains($"version 1.0.0 of '{included}' is archived", body.Str("detail"), StringComparison.Ordinal);
        await AssertNotStoredAsync(includer.Name);
    }

    [Fact]
    public async Task Merge_ServedVersionsIncludingEachOther_Returns409ReferenceCycle_AndStoresNothing()
    {
        var (first, second) = (UniqueName("first"), UniqueName("second"));

        var (status, body) = await PostAsync(_client, "/api/import?merge=true",
            Document(new Imported(first, $"One. {{{{> {second}}}}}"), new Imported(second, $"Two. {{{{> {first}}}}}")));

        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal("reference_cycle", body.Str("code"));
        Assert.Contains($"{first} → {second} → {first}", body.Str("detail"), StringComparison.Ordinal);
        await AssertNotStoredAsync(first, second);
    }

    [Fact]
    public async Task Merge_ServedVersionsWithIncludesThatResolve_AreImportedAndRender()
    {
        var stored = UniqueName("guard");
        Assert.Equal(HttpStatusCode.Created, (await PostAsync(_client, "/api/prompts", new
        {
            name = stored, type = "system", content = "Follow the policy: {{policy}}.",
            variables = new[] { new { name = "policy", type = "string", required = true, description = "" } },
        })).Status);
        Assert.Equal(HttpStatusCode.OK, (await PutAsync(_client, $"/api/prompts/{stored}/labels/production", new { version = "1.0.0" })).Status);
        var inner = new Imported(UniqueName("inner"), $"Inner. {{{{> {stored}@1.0.0}}}}", "policy");
        var outer = new Imported(UniqueName("outer"), $"Hello. {{{{> {inner.Name}}}}}", "policy");

        var (status, body) = await PostAsync(_client, "/api/import?merge=true", Document(outer, inner));
        var (rendered, render) = await PostAsync(_client, $"/api/prompts/{outer.Name}/render", new { variables = new { policy = "30 days" } });

        Assert.True(status == HttpStatusCode.OK, body?.ToJsonString());
        Assert.True(rendered == HttpStatusCode.OK, render?.ToJsonString());
        Assert.Equal("Hello. Inner. Follow the policy: 30 days.", render.Str("content"));
    }
}
