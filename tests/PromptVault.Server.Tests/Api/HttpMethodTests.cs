using System.Net;
using static PromptVault.Server.Tests.ApiCalls;

namespace PromptVault.Server.Tests.Api;

/// <summary>Which methods a route answers: HEAD wherever GET (RFC 9110 §9.3.2), and nothing a route does not list.</summary>
public sealed class HttpMethodTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private readonly HttpClient _client = fixture.Server.CreateClient();

    public static TheoryData<string> GetRoutes =>
        ["/api/prompts", "/api/sdk/snapshot", "/api/audit", "/api/keys", "/api/webhooks", "/api/experiments", "/openapi/v1.json", "/healthz", "/livez", "/login"];

    [Theory]
    [MemberData(nameof(GetRoutes))]
    public async Task Head_OnAGetRoute_AnswersAsGetDoes_WithoutABody(string path)
    {
        using var get = await _client.GetAsync(path, TestContext.Current.CancellationToken);
        using var head = await _client.SendAsync(new HttpRequestMessage(HttpMethod.Head, path), TestContext.Current.CancellationToken);

        Assert.True(get.StatusCode == head.StatusCode, $"HEAD {path}: {head.StatusCode}, GET: {get.StatusCode}");
        Assert.Equal(get.Content.Headers.ContentType, head.Content.Headers.ContentType);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Head_OfTheSnapshot_AnswersIfNoneMatchWith304_AsGetDoes()
    {
        using var get = await _client.GetAsync("/api/sdk/snapshot", TestContext.Current.CancellationToken);
        var head = new HttpRequestMessage(HttpMethod.Head, "/api/sdk/snapshot");
        head.Headers.IfNoneMatch.Add(get.Headers.ETag!);

        using var answer = await _client.SendAsync(head, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NotModified, answer.StatusCode);
        Assert.Equal(get.Headers.ETag, answer.Headers.ETag);
    }

    [Fact]
    public async Task Head_OfTheSdkStream_AnswersItsHeadersAndEnds_FreeingTheConnection()
    {
        // One connection: a HEAD whose stream never ended would hold it, and the next request would wait for ever.
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1 }) { BaseAddress = fixture.Server.BaseAddress };
        client.DefaultRequestHeaders.Authorization = _client.DefaultRequestHeaders.Authorization;
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cancel.CancelAfter(TimeSpan.FromSeconds(30));

        using var head = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/api/sdk/stream"), cancel.Token);
        using var next = await client.GetAsync("/healthz", cancel.Token);

        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal("text/event-stream", head.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
    }

    [Fact]
    public async Task Head_OnARouteWithoutGet_Is405NamingHead()
    {
        using var head = await _client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/api/metrics"), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.MethodNotAllowed, head.StatusCode);
        Assert.Equal(["POST"], head.Content.Headers.Allow);
    }

    [Theory]
    [InlineData("POST")]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    public async Task Healthz_OtherThanGetOrHead_Is405(string method)
    {
        var (status, problem) = await SendAsync(_client, new HttpMethod(method), "/healthz");

        Assert.Equal(HttpStatusCode.MethodNotAllowed, status);
        Assert.Equal("method_not_allowed", problem.Str("code"));
    }
}
