using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using PromptVault.Core.Contracts;
using PromptVault.Core.Prompts;
using static PromptVault.Server.Tests.ApiCalls;
using static PromptVault.Server.Tests.Experiments;

namespace PromptVault.Server.Tests.Api;

/// <summary><c>GET /api/sdk/snapshot</c> (SPEC §8): what it holds, its ETag, and that every registry change makes a newer one.</summary>
public sealed class SdkSnapshotTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private readonly HttpClient _client = fixture.Server.CreateClient();

    [Fact]
    public async Task Snapshot_HoldsLabelledVersions_AndRunningExperimentsWithSeedsAndWeights()
    {
        var (name, versions) = await CreatePromptWithChallengersAsync(_client);
        var (status, _) = await PutAsync(_client, $"/api/prompts/{name}/labels/staging", new { version = "1.0.1" });
        Assert.Equal(HttpStatusCode.OK, status);
        var experiment = await CreateAsync(_client, ThreeWay(name, versions));
        var draft = await CreateAsync(_client, ThreeWay(name, versions));
        await MoveAsync(_client, experiment.Str("id"), "start");

        var (snapshot, _) = await GetSnapshotAsync(_client);

        Assert.Equal(1, snapshot.AssignmentVersion);
        var prompt = Assert.Single(snapshot.Prompts, p => p.Name == name);
        Assert.Equal(PromptType.System, prompt.Type);
        Assert.Equal(new Dictionary<string, string> { ["production"] = versions[0], ["staging"] = versions[1] }, prompt.Labels);
        Assert.Equal(versions.Order(), prompt.Versions.Select(v => v.Id).Order());
        Assert.Equal(versions[2], prompt.Latest);
        var production = prompt.Versions.Single(v => v.Id == versions[0]);
        Assert.Equal(("1.0.0", SupportTemplate, VersionStatus.Production), (production.Version, production.Content, production.Status));
        Assert.Equal(new[] { "company_name", "customer_name", "previous_messages" }, production.Variables.Select(v => v.Name));
        Assert.Equal(new PromptMetadata { Model = "gpt-4o-mini", Temperature = 0.3, MaxTokens = 500 }, production.Metadata with { Tags = null });
        Assert.Equal("Hey there! Support for {{company_name}} here.", prompt.Versions.Single(v => v.Id == versions[1]).Content);

        var running = Assert.Single(snapshot.Experiments, e => e.Prompt == name);
        Assert.Equal(experiment.Str("id"), running.Id);
        Assert.Equal(ulong.Parse(experiment.Str("hashSeed"), NumberStyles.HexNumber, CultureInfo.InvariantCulture), running.HashSeed);
        Assert.Equal(new[] { ("control", versions[0], 50m), ("casual", versions[1], 25m), ("structured", versions[2], 25m) },
            running.Variants.Select(v => (v.Name, v.VersionId, v.Weight)));
        Assert.Equal(experiment["variants"]!.AsArray().Select(v => v.Str("id")), running.Variants.Select(v => v.Id));
        Assert.DoesNotContain(snapshot.Experiments, e => e.Id == draft.Str("id"));
    }

    [Fact]
    public async Task ETag_IsStrongAndFromTheSequence_AndIfNoneMatchAnswers304UntilTheRegistryChanges()
    {
        await CreateSupportPromptAsync(_client);
        var (snapshot, etag) = await GetSnapshotAsync(_client);
        Assert.False(etag.IsWeak);
        Assert.Equal($"\"{snapshot.Sequence}\"", etag.Tag);

        using var unchanged = await ConditionalGetAsync(etag.Tag);
        Assert.Equal(HttpStatusCode.NotModified, unchanged.StatusCode);
        Assert.Equal(etag, unchanged.Headers.ETag);
        Assert.Empty(await unchanged.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));
        using var other = await ConditionalGetAsync("\"1\"");
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);

        await CreateSupportPromptAsync(_client);
        using var changed = await ConditionalGetAsync(etag.Tag);
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        Assert.NotEqual(etag, changed.Headers.ETag);
    }

    [Fact]
    public async Task AfterAChange_ConcurrentRequestsShareOneBuild_AndLaterOnesReuseIt()
    {
        await CreateSupportPromptAsync(_client);

        var concurrent = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => GetSnapshotAsync(_client)));
        var (later, _) = await GetSnapshotAsync(_client);

        // A build stamps the time it was made: one value means one build served them all.
        Assert.Single(concurrent.Select(r => r.Snapshot.GeneratedAt).Append(later.GeneratedAt).Distinct());
        Assert.Single(concurrent.Select(r => r.Snapshot.Sequence).Distinct());
    }

    [Fact]
    public async Task EveryChangeThatAffectsServing_MakesASnapshotWithAGreaterSequence_AndKeyChangesDoNot()
    {
        var (name, versions) = await CreatePromptWithChallengersAsync(_client);
        var id = (await CreateAsync(_client, ThreeWay(name, versions))).Str("id");
        var (last, _) = await GetSnapshotAsync(_client);

        async Task<SdkSnapshot> AfterAsync(Func<Task> change)
        {
            await change();
            var (next, _) = await GetSnapshotAsync(_client);
            Assert.True(next.Sequence > last.Sequence, $"{next.Sequence} after {last.Sequence}");
            return last = next;
        }
        SdkPrompt Prompt(SdkSnapshot snapshot) => snapshot.Prompts.Single(p => p.Name == name);

        var labelled = await AfterAsync(() => PutAsync(_client, $"/api/prompts/{name}/labels/staging", new { version = "1.0.2" }));
        Assert.Equal(versions[2], Prompt(labelled).Labels["staging"]);
        var moved = await AfterAsync(() => PutAsync(_client, $"/api/prompts/{name}/labels/staging", new { version = "1.0.1" }));
        Assert.Equal(versions[1], Prompt(moved).Labels["staging"]);
        Assert.DoesNotContain(versions[2], Prompt(moved).Labels.Values);
        Assert.Equal(versions[2], Prompt(moved).Latest); // still carried, for the version reference "latest"
        var reviewed = await AfterAsync(() => PostAsync(_client, $"/api/prompts/{name}/versions/1.0.1/status", new { status = "review" }));
        Assert.Equal(VersionStatus.Review, Prompt(reviewed).Versions.Single(v => v.Id == versions[1]).Status);
        var started = await AfterAsync(() => MoveAsync(_client, id, "start"));
        Assert.Contains(started.Experiments, e => e.Id == id);
        Assert.Contains(Prompt(started).Versions, v => v.Id == versions[2]);
        var paused = await AfterAsync(() => MoveAsync(_client, id, "pause"));
        Assert.DoesNotContain(paused.Experiments, e => e.Id == id);
        await AfterAsync(() => MoveAsync(_client, id, "start"));
        var completed = await AfterAsync(() => MoveAsync(_client, id, "complete"));
        Assert.DoesNotContain(completed.Experiments, e => e.Id == id);

        await fixture.Server.CreateKeyAsync("snapshot-reader", Core.Auth.ApiKeyRole.Reader, TestContext.Current.CancellationToken);
        var (afterKey, _) = await GetSnapshotAsync(_client);
        Assert.Equal(last.Sequence, afterKey.Sequence);
    }

    [Fact]
    public async Task ARemovedLabel_AndTheVersionOnlyItServed_LeaveTheSnapshot_TheNewestStays()
    {
        var (name, versions) = await CreatePromptWithChallengersAsync(_client);
        var (status, _) = await PutAsync(_client, $"/api/prompts/{name}/labels/staging", new { version = "1.0.1" });
        Assert.Equal(HttpStatusCode.OK, status);
        var (before, _) = await GetSnapshotAsync(_client);
        Assert.Equal(versions[1], before.Prompts.Single(p => p.Name == name).Labels["staging"]);

        var (removed, _) = await SendAsync(_client, HttpMethod.Delete, $"/api/prompts/{name}/labels/staging");
        Assert.Equal(HttpStatusCode.NoContent, removed);
        var (after, _) = await GetSnapshotAsync(_client);

        Assert.True(after.Sequence > before.Sequence);
        var served = after.Prompts.Single(p => p.Name == name);
        Assert.Equal(["production"], served.Labels.Keys);
        Assert.Equal(new[] { versions[0], versions[2] }.Order(), served.Versions.Select(v => v.Id).Order());
        Assert.Equal(versions[2], served.Latest);
    }

    [Fact]
    public async Task TheSequence_KeepsGrowingAcrossARestart()
    {
        await using var server = await RunningServer.StartAsync(TestContext.Current.CancellationToken);
        long before;
        using (var client = server.CreateClient())
        {
            for (var i = 0; i < 3; i++) await CreateSupportPromptAsync(client);
            before = (await GetSnapshotAsync(client)).Snapshot.Sequence;
        }
        await using var restarted = await server.RestartAsync(TestContext.Current.CancellationToken);
        using var again = restarted.CreateClient();

        var (after, _) = await GetSnapshotAsync(again);

        Assert.True(after.Sequence > before, $"{after.Sequence} after {before}");
        Assert.Equal(3, after.Prompts.Count);
    }

    [Fact]
    public async Task Snapshot_NeedsAKey_AndAReaderKeyIsEnough()
    {
        using var anonymous = fixture.Server.CreateClient("");
        using var reader = fixture.Server.CreateClient(await fixture.Server.CreateKeyAsync("sdk", Core.Auth.ApiKeyRole.Reader, TestContext.Current.CancellationToken));

        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(anonymous, "/api/sdk/snapshot")).Status);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(reader, "/api/sdk/snapshot")).Status);
    }

    internal static async Task<(SdkSnapshot Snapshot, EntityTagHeaderValue ETag)> GetSnapshotAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/api/sdk/snapshot", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var snapshot = await response.Content.ReadFromJsonAsync<SdkSnapshot>(PromptVaultJson.Options, TestContext.Current.CancellationToken);
        return (snapshot!, response.Headers.ETag!);
    }

    private Task<HttpResponseMessage> ConditionalGetAsync(string etag)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/api/sdk/snapshot");
        request.Headers.IfNoneMatch.Add(EntityTagHeaderValue.Parse(etag));
        return _client.SendAsync(request, TestContext.Current.CancellationToken);
    }
}
