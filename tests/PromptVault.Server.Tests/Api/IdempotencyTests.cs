using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using PromptVault.Core.Auth;
using PromptVault.Core.Contracts;
using static PromptVault.Server.Tests.ApiCalls;

namespace PromptVault.Server.Tests.Api;

/// <summary>
/// <c>Idempotency-Key</c> on the create routes: a retry whose first answer was lost gets that answer again, never a second
/// write, even when other writes came in between; the same key for another request is refused.
/// </summary>
public sealed class IdempotencyTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private readonly HttpClient _client = fixture.Server.CreateClient();

    [Fact]
    public async Task CreateVersion_RetriedAfterAnotherVersionWasCreated_ReturnsTheFirstAnswerAndNoSecondCopy()
    {
        var name = await CreateSupportPromptAsync(_client);
        var body = new { content = "Retried {{company_name}}", changeDescription = "retried" };
        var key = Guid.NewGuid().ToString();

        var first = await SendAsync(_client, $"/api/prompts/{name}/versions", body, key);
        await NewVersionAsync(_client, name, new { content = "In between {{company_name}}", changeDescription = "in between" });
        var retry = await SendAsync(_client, $"/api/prompts/{name}/versions", body, key);

        Assert.Equal(HttpStatusCode.Created, first.Status);
        Assert.Equal(first, retry);
        var (_, history) = await GetAsync(_client, $"/api/prompts/{name}/versions");
        var versions = history!["versions"]!.AsArray();
        Assert.Equal(["1.0.2", "1.0.1", "1.0.0"], versions.Select(v => v.Str("version")));
        Assert.Single(versions, v => v.Str("content") == body.content);
    }

    [Fact]
    public async Task CreateVersion_ManyConcurrentRetriesOfOneKey_OneVersionAndOneAnswer()
    {
        var name = await CreateSupportPromptAsync(_client);
        var body = new { content = "Raced {{company_name}}", changeDescription = "raced" };
        var key = Guid.NewGuid().ToString();

        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => SendAsync(_client, $"/api/prompts/{name}/versions", body, key)));

        Assert.Equal(HttpStatusCode.Created, answers[0].Status);
        Assert.All(answers, answer => Assert.Equal(answers[0], answer));
        var (_, history) = await GetAsync(_client, $"/api/prompts/{name}/versions");
        Assert.Equal(2, history!["versions"]!.AsArray().Count);
    }

    [Fact]
    public async Task CreatePrompt_Retried_ReturnsTheFirstAnswerInsteadOfPromptExists()
    {
        var name = UniqueName("idem");
        var key = Guid.NewGuid().ToString();

        var first = await SendAsync(_client, "/api/prompts", SupportPrompt(name), key);
        var retry = await SendAsync(_client, "/api/prompts", SupportPrompt(name), key);
        var unkeyed = await SendAsync(_client, "/api/prompts", SupportPrompt(name), key: null);

        Assert.Equal(HttpStatusCode.Created, first.Status);
        Assert.Equal(first, retry);
        Assert.Equal(HttpStatusCode.Conflict, unkeyed.Status);
    }

    [Fact]
    public async Task SameKey_DifferentBodyOrRoute_Refused422NamingTheHeader_AndNothingWritten()
    {
        var name = await CreateSupportPromptAsync(_client);
        var versionId = (await GetAsync(_client, $"/api/prompts/{name}/versions/1.0.0")).Body.Str("id");
        var key = Guid.NewGuid().ToString();
        await SendAsync(_client, $"/api/prompts/{name}/versions", new { content = "First {{company_name}}", changeDescription = "first" }, key);

        var otherBody = await SendAsync(_client, $"/api/prompts/{name}/versions", new { content = "Other {{company_name}}", changeDescription = "other" }, key);
        var otherRoute = await SendAsync(_client, "/api/metrics", new { versionId, latencyMs = 5 }, key);

        foreach (var refused in new[] { otherBody, otherRoute })
        {
            Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.Status);
            var problem = JsonNode.Parse(refused.Body)!;
            Assert.Equal("idempotency_key_reused", problem.Str("code"));
            Assert.Equal("Idempotency-Key", problem.Str("field"));
        }
        var (_, history) = await GetAsync(_client, $"/api/prompts/{name}/versions");
        Assert.Equal(2, history!["versions"]!.AsArray().Count);
        Assert.Equal(0, await CountAsync(name));
    }

    [Fact]
    public async Task MetricBatchWithoutEventIds_RetriedWithItsKey_CountsOnce()
    {
        var name = await CreateSupportPromptAsync(_client);
        var versionId = (await GetAsync(_client, $"/api/prompts/{name}/versions/1.0.0")).Body.Str("id");
        var batch = new { events = new object[] { new { versionId, latencyMs = 10 }, new { versionId, latencyMs = 20 }, new { versionId, latencyMs = 30 } } };
        var key = Guid.NewGuid().ToString();

        var first = await SendAsync(_client, "/api/metrics", batch, key);
        await SendAsync(_client, "/api/metrics", new { versionId, latencyMs = 40 }, key: null);
        var retry = await SendAsync(_client, "/api/metrics", batch, key);

        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Equal(first, retry);
        Assert.Equal(4, await CountAsync(name));
    }

    [Fact]
    public async Task SameKeyFromAnotherApiKey_IsAnotherRequest()
    {
        var name = await CreateSupportPromptAsync(_client);
        var versionId = (await GetAsync(_client, $"/api/prompts/{name}/versions/1.0.0")).Body.Str("id");
        using var other = fixture.Server.CreateClient(await fixture.Server.CreateKeyAsync(UniqueName("writer"), ApiKeyRole.Writer, TestContext.Current.CancellationToken));
        var key = Guid.NewGuid().ToString();

        await SendAsync(_client, "/api/metrics", new { versionId, latencyMs = 10 }, key);
        var fromOther = await SendAsync(other, "/api/metrics", new { versionId, latencyMs = 10 }, key);

        Assert.Equal(HttpStatusCode.OK, fromOther.Status);
        Assert.Equal(2, await CountAsync(name));
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("tab\tinside")]
    [InlineData(null)]
    public async Task MalformedKey_Refused400NamingTheHeader(string? key)
    {
        var name = await CreateSupportPromptAsync(_client);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/prompts/{name}/versions")
        {
            Content = JsonContent.Create(new { content = "Never {{company_name}}", changeDescription = "never" }),
        };
        if (key is null) request.Headers.TryAddWithoutValidation("Idempotency-Key", ["a", "b"]);
        else request.Headers.TryAddWithoutValidation("Idempotency-Key", key.Length == 0 ? new string('k', 256) : key);

        using var response = await _client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken))!;
        Assert.Equal("invalid_idempotency_key", problem.Str("code"));
        Assert.Equal("Idempotency-Key", problem.Str("field"));
    }

    private static async Task<Answer> SendAsync(HttpClient client, string path, object body, string? key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body, options: PromptVaultJson.Options) };
        if (key is not null) request.Headers.Add("Idempotency-Key", key);
        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        return new Answer(response.StatusCode, response.Headers.Location?.ToString(), await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    private async Task<long> CountAsync(string name) =>
        (await GetAsync(_client, $"/api/prompts/{name}/versions/1.0.0/metrics?period=all")).Body!["summary"]!["count"]!.GetValue<long>();

    /// <summary>What a client sees of an answer: status, location and the body byte for byte.</summary>
    private sealed record Answer(HttpStatusCode Status, string? Location, string Body);
}
