using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using static PromptVault.Server.Tests.ApiCalls;

namespace PromptVault.Server.Tests.Api;

/// <summary>
/// The reads clients poll (a prompt, a version, the lists, an experiment and its results) answer with a strong ETag and
/// <c>Cache-Control: no-cache</c>, and <c>If-None-Match</c> with 304 until something in the answer changes.
/// </summary>
public sealed class ConditionalReadTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private readonly HttpClient _client = fixture.Server.CreateClient();

    [Theory]
    [InlineData("")]
    [InlineData("/versions/1.0.0")]
    [InlineData("/versions/latest")]
    public async Task Read_HasAStrongETag_AndIfNoneMatchWithItIs304WithoutABody_RepeatingTheHeaders(string route)
    {
        await RevalidatedAsync($"/api/prompts/{await CreateSupportPromptAsync(_client)}{route}");
    }

    [Fact]
    public async Task PromptETag_ChangesWithEveryKindOfChange_AndTheNewOneIs304()
    {
        var name = await CreateSupportPromptAsync(_client);
        var path = $"/api/prompts/{name}";
        var seen = new List<string> { (await ReadAsync(path)).ETag.Tag };

        await ChangedAsync(path, seen, () => PutAsync(_client, $"{path}/labels/staging", new { version = "1.0.0" }), "label set");
        await ChangedAsync(path, seen, () => ApiCalls.SendAsync(_client, HttpMethod.Patch, path, new { description = "Edited" }), "description edited");
        await ChangedAsync(path, seen, () => ApiCalls.SendAsync(_client, HttpMethod.Patch, path, new { tags = new[] { "support", "edited" } }), "tags edited");
        await ChangedAsync(path, seen, () => PostAsync(_client, $"{path}/versions",
            new { content = "Hi from {{company_name}}.", changeDescription = "Shorter" }), "version added");
        await ChangedAsync(path, seen, () => PostAsync(_client, $"{path}/versions/1.0.1/status", new { status = "review" }), "latest version's status");
        await ChangedAsync(path, seen, () => PutAsync(_client, $"{path}/labels/staging", new { version = "1.0.1" }), "label moved");
        await ChangedAsync(path, seen, () => ApiCalls.SendAsync(_client, HttpMethod.Delete, $"{path}/labels/staging"), "label removed");
    }

    [Fact]
    public async Task VersionETag_ChangesWithItsStatusAndLabels_NotWithAnotherVersionsChange()
    {
        var name = await CreateSupportPromptAsync(_client);
        var path = $"/api/prompts/{name}/versions/1.0.0";
        var seen = new List<string> { (await ReadAsync(path)).ETag.Tag };

        await ChangedAsync(path, seen, () => PutAsync(_client, $"/api/prompts/{name}/labels/staging", new { version = "1.0.0" }), "label set");
        await ChangedAsync(path, seen, () => PostAsync(_client, $"{path}/status", new { status = "review" }), "status");
        await NewVersionAsync(_client, name, new { content = "Hi from {{company_name}}.", changeDescription = "Shorter" });
        using var untouched = await GetWithAsync(path, seen[^1]);
        Assert.Equal(HttpStatusCode.NotModified, untouched.StatusCode);
        await ChangedAsync(path, seen, () => PutAsync(_client, $"/api/prompts/{name}/labels/staging", new { version = "1.0.1" }), "label moved away");
    }

    [Fact]
    public async Task IfNoneMatch_ComparesWeakly_MatchesStarAndAnyTagOfAList_AndAMalformedOneIsIgnored()
    {
        var path = $"/api/prompts/{await CreateSupportPromptAsync(_client)}";
        var etag = (await ReadAsync(path)).ETag.Tag;

        foreach (var matching in new[] { $"W/{etag}", "*", $"\"other\", {etag}" })
        {
            using var response = await GetWithAsync(path, matching);
            Assert.True(response.StatusCode == HttpStatusCode.NotModified, $"If-None-Match: {matching} answered {response.StatusCode}");
        }
        // RFC 9110 §13.1.2: a tag that is not the current one, and a field that is not a list of entity tags (an unquoted tag),
        // cannot say the client holds this answer, so it gets the whole of it.
        foreach (var other in new[] { "\"other\"", "W/\"other\"", etag.Trim('"'), "\"unterminated" })
        {
            using var response = await GetWithAsync(path, other);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"If-None-Match: {other} answered {response.StatusCode}");
            Assert.Equal(etag, response.Headers.ETag?.Tag);
            Assert.NotEmpty(await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("/versions/1.0.0")]
    public async Task IfMatch_NotHoldingTheCurrentTag_IsAProblemNamingTheHeader_AndTheCurrentTagOrStarIsTheAnswer(string route)
    {
        var path = $"/api/prompts/{await CreateSupportPromptAsync(_client)}{route}";
        var etag = (await ReadAsync(path)).ETag.Tag;

        foreach (var stale in new[] { "\"other\"", $"W/{etag}" })
        {
            using var refused = await SendWithAsync(path, "If-Match", stale);
            Assert.Equal(HttpStatusCode.PreconditionFailed, refused.StatusCode);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
            var problem = await refused.Content.ReadFromJsonAsync<System.Text.Json.Nodes.JsonNode>(TestContext.Current.CancellationToken);
            Assert.Equal("precondition_failed", problem.Str("code"));
            Assert.Equal("If-Match", problem.Str("field"));
            Assert.Contains(stale, problem.Str("detail"));
            Assert.Contains("ETag", problem.Str("detail"));
        }
        foreach (var holding in new[] { etag, "*", $"\"other\", {etag}" })
        {
            using var answered = await SendWithAsync(path, "If-Match", holding);
            Assert.True(answered.StatusCode == HttpStatusCode.OK, $"If-Match: {holding} answered {answered.StatusCode}");
        }
    }

    [Fact]
    public async Task PromptList_IsRevalidated_UntilAPromptInItChanges()
    {
        var name = await CreateSupportPromptAsync(_client);
        var tag = UniqueName("tag");
        Assert.Equal(HttpStatusCode.OK, (await ApiCalls.SendAsync(_client, HttpMethod.Patch, $"/api/prompts/{name}", new { tags = new[] { tag } })).Status);

        await RevalidatedUntilChangedAsync($"/api/prompts?tag={tag}", () => PutAsync(_client, $"/api/prompts/{name}/labels/staging", new { version = "1.0.0" }));
    }

    [Fact]
    public async Task VersionList_IsRevalidated_UntilAVersionIsAdded()
    {
        var name = await CreateSupportPromptAsync(_client);

        await RevalidatedUntilChangedAsync($"/api/prompts/{name}/versions", () => PostAsync(_client, $"/api/prompts/{name}/versions",
            new { content = "Hi from {{company_name}}.", changeDescription = "Shorter" }));
    }

    [Fact]
    public async Task AuditList_IsRevalidated_UntilAnEntryIsAdded()
    {
        var name = await CreateSupportPromptAsync(_client);

        await RevalidatedUntilChangedAsync($"/api/audit?prompt={name}", () => PutAsync(_client, $"/api/prompts/{name}/labels/staging", new { version = "1.0.0" }));
    }

    [Theory]
    [InlineData("/api/experiments?prompt={prompt}")]
    [InlineData("/api/experiments/{id}")]
    [InlineData("/api/experiments/{id}/results")]
    public async Task ExperimentReads_AreRevalidated_UntilTheExperimentStarts(string route)
    {
        var (prompt, versionIds) = await Experiments.CreatePromptWithChallengersAsync(_client);
        var id = (await Experiments.CreateAsync(_client, Experiments.ThreeWay(prompt, versionIds))).Str("id");

        await RevalidatedUntilChangedAsync(route.Replace("{prompt}", prompt).Replace("{id}", id), () => PostAsync(_client, $"/api/experiments/{id}/start", null));
    }

    [Fact]
    public async Task ExperimentResults_AreRevalidated_UntilAUnitIsExposed()
    {
        var (prompt, versionIds) = await Experiments.CreatePromptWithChallengersAsync(_client);
        var id = (await Experiments.CreateAsync(_client, Experiments.ThreeWay(prompt, versionIds))).Str("id");
        await Experiments.MoveAsync(_client, id, "start");

        await RevalidatedUntilChangedAsync($"/api/experiments/{id}/results", () => PostAsync(_client, $"/api/prompts/{prompt}/render",
            new { variables = new { company_name = "Acme" }, unitId = "unit-1" }));
    }

    /// <summary>The read at <paramref name="path"/> is revalidated (304 with its tag) until <paramref name="change"/>, then 200 with a new tag.</summary>
    private async Task RevalidatedUntilChangedAsync(string path, Func<Task<(HttpStatusCode Status, System.Text.Json.Nodes.JsonNode? Body)>> change)
    {
        await ChangedAsync(path, [await RevalidatedAsync(path)], change, path);
    }

    /// <summary>The read is 200 with a strong tag, and with that tag 304 without a body, repeating the headers; returns the tag.</summary>
    private async Task<string> RevalidatedAsync(string path)
    {
        var (status, etag, body) = await ReadAsync(path);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.False(etag.IsWeak);
        Assert.NotEmpty(body);

        using var unchanged = await GetWithAsync(path, etag.Tag);

        Assert.Equal(HttpStatusCode.NotModified, unchanged.StatusCode);
        Assert.Equal(etag, unchanged.Headers.ETag);
        Assert.True(unchanged.Headers.CacheControl?.NoCache, unchanged.Headers.CacheControl?.ToString());
        Assert.False(unchanged.Headers.CacheControl?.Public);
        Assert.Empty(await unchanged.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));
        return etag.Tag;
    }

    [Fact]
    public async Task LabelIfMatch_StillTakesTheVersionNumberTheLabelPointsAt_NotThePromptsETag()
    {
        var name = await CreateSupportPromptAsync(_client);
        Assert.Equal(HttpStatusCode.OK, (await PutAsync(_client, $"/api/prompts/{name}/labels/staging", new { version = "1.0.0" })).Status);
        var promptTag = (await ReadAsync($"/api/prompts/{name}")).ETag.Tag;

        Assert.Equal(HttpStatusCode.PreconditionFailed, await MoveStagingAsync(name, promptTag));
        Assert.Equal(HttpStatusCode.OK, await MoveStagingAsync(name, "\"1.0.0\""));
    }

    private async Task<HttpStatusCode> MoveStagingAsync(string name, string ifMatch)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, $"/api/prompts/{name}/labels/staging") { Content = JsonContent.Create(new { version = "1.0.0" }) };
        request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        using var response = await _client.SendAsync(request, TestContext.Current.CancellationToken);
        return response.StatusCode;
    }

    /// <summary>Makes a change; the read with the last tag is then 200 with a tag never seen, and with that tag 304.</summary>
    private async Task ChangedAsync(string path, List<string> seen, Func<Task<(HttpStatusCode Status, System.Text.Json.Nodes.JsonNode? Body)>> change, string what)
    {
        var (status, body) = await change();
        Assert.True((int)status < 300, $"{what}: {status} {body?.ToJsonString()}");
        using var changed = await GetWithAsync(path, seen[^1]);
        Assert.True(changed.StatusCode == HttpStatusCode.OK, $"after {what}: {changed.StatusCode}");
        var tag = changed.Headers.ETag!.Tag;
        Assert.DoesNotContain(tag, seen);
        seen.Add(tag);
        using var again = await GetWithAsync(path, tag);
        Assert.Equal(HttpStatusCode.NotModified, again.StatusCode);
    }

    private async Task<(HttpStatusCode Status, EntityTagHeaderValue ETag, byte[] Body)> ReadAsync(string path)
    {
        using var response = await GetWithAsync(path, null);
        Assert.True(response.Headers.CacheControl?.NoCache, response.Headers.CacheControl?.ToString());
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return (response.StatusCode, response.Headers.ETag!, await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));
    }

    private Task<HttpResponseMessage> GetWithAsync(string path, string? ifNoneMatch) =>
        ifNoneMatch is null ? _client.GetAsync(path, TestContext.Current.CancellationToken) : SendWithAsync(path, "If-None-Match", ifNoneMatch);

    private Task<HttpResponseMessage> SendWithAsync(string path, string header, string value)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.TryAddWithoutValidation(header, value);
        return _client.SendAsync(request, TestContext.Current.CancellationToken);
    }
}
