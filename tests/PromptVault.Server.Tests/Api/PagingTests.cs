using System.Net;
using System.Text.Json.Nodes;
using PromptVault.Core.Auth;
using static PromptVault.Server.Tests.ApiCalls;

namespace PromptVault.Server.Tests.Api;

/// <summary>Every list route pages (<c>limit</c>, <c>offset</c>) and says how many there are (<c>total</c>) and where the next page is (<c>next</c>).</summary>
/// <remarks>
/// The tests share one server and tell their own data apart by prompt and key names; the one that counts every prompt
/// of a category starts its own.
/// </remarks>
public sealed class PagingTests(ServerFixture fixture) : IClassFixture<ServerFixture>, IDisposable
{
    private readonly RunningServer _server = fixture.Server;
    private readonly HttpClient _client = fixture.Server.CreateClient();

    public void Dispose() => _client.Dispose();

    [Fact]
    public async Task ListPrompts_FollowingNextLinks_ReturnsEveryPromptOnceByName()
    {
        // A server of its own: the shared one has other tests' prompts in the category, and this counts them all.
        await using var server = await RunningServer.StartAsync(TestContext.Current.CancellationToken);
        using var client = server.CreateClient();
        var names = new List<string>();
        for (var i = 0; i < 5; i++) names.Add(await CreateSupportPromptAsync(client));

        var (status, first) = await GetAsync(client, "/api/prompts?limit=2&category=support");
        var seen = Names(first, "prompts");
        for (var next = first!["next"]?.GetValue<string>(); next is not null;)
        {
            var (_, page) = await GetAsync(client, next);
            Assert.Equal(5, page!["total"]!.GetValue<int>());
            seen.AddRange(Names(page, "prompts"));
            next = page["next"]?.GetValue<string>();
        }

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(5, first["total"]!.GetValue<int>());
        Assert.Equal("/api/prompts?category=support&limit=2&offset=2", first.Str("next"));
        Assert.Equal(names.Order(StringComparer.Ordinal), seen);
    }

    [Theory]
    [InlineData("versions")]
    [InlineData("experiments")]
    [InlineData("keys")]
    [InlineData("entries")]
    public async Task ListRoutes_LimitOne_ReturnOneItemTheTotalAndANextLink(string field)
    {
        var (name, versionIds) = await Experiments.CreatePromptWithChallengersAsync(_client);
        for (var i = 0; i < 3; i++)
            await Experiments.CreateAsync(_client, Experiments.ThreeWay(name, versionIds));
        await _server.CreateKeyAsync("second", ApiKeyRole.Reader, TestContext.Current.CancellationToken);
        await _server.CreateKeyAsync("third", ApiKeyRole.Reader, TestContext.Current.CancellationToken);
        var path = field switch
        {
            "versions" => $"/api/prompts/{name}/versions",
            "experiments" => $"/api/experiments?prompt={name}",
            "keys" => "/api/keys",
            _ => $"/api/audit?prompt={name}",
        };

        var (status, page) = await GetAsync(_client, path + (path.Contains('?') ? "&" : "?") + "limit=1&offset=1");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Single(page![field]!.AsArray());
        Assert.True(page["total"]!.GetValue<int>() >= 3);
        Assert.EndsWith("limit=1&offset=2", page.Str("next"));
    }

    [Fact]
    public async Task ListAudit_ActorAndActionFilters_MatchExactly()
    {
        using var writer = _server.CreateClient(await _server.CreateKeyAsync("auditor-w", ApiKeyRole.Writer, TestContext.Current.CancellationToken));
        var name = await CreateSupportPromptAsync(writer);
        await CreateSupportPromptAsync(_client);

        var (_, byActor) = await GetAsync(_client, "/api/audit?actor=auditor-w");
        var (_, byAction) = await GetAsync(_client, "/api/audit?actor=auditor-w&action=prompt.created");

        Assert.Equal(["version.created", "prompt.created"], byActor!["entries"]!.AsArray().Select(e => e.Str("action")));
        Assert.Equal(2, byActor["total"]!.GetValue<int>());
        var created = Assert.Single(byAction!["entries"]!.AsArray());
        Assert.Equal(name, created.Str("promptName"));
        Assert.Null(byAction["next"]);
    }

    [Fact]
    public async Task ListAudit_TimeWindow_IncludesFromAndExcludesTo()
    {
        using var writer = _server.CreateClient(await _server.CreateKeyAsync("auditor-t", ApiKeyRole.Writer, TestContext.Current.CancellationToken));
        var first = await CreateSupportPromptAsync(writer);
        var second = await CreateSupportPromptAsync(writer);
        var (_, all) = await GetAsync(_client, "/api/audit?actor=auditor-t");
        var secondStarted = Uri.EscapeDataString(all!["entries"]!.AsArray().Last(e => e.Str("promptName") == second)!.Str("timestamp"));

        var (_, since) = await GetAsync(_client, $"/api/audit?actor=auditor-t&from={secondStarted}");
        var (_, before) = await GetAsync(_client, $"/api/audit?actor=auditor-t&to={secondStarted}");

        Assert.Equal(4, all["total"]!.GetValue<int>());
        Assert.Equal([second, second], since!["entries"]!.AsArray().Select(e => e.Str("promptName")));
        Assert.Equal(2, since["total"]!.GetValue<int>());
        Assert.Equal([first, first], before!["entries"]!.AsArray().Select(e => e.Str("promptName")));
    }

    [Theory]
    [InlineData("from=yesterday", "from")]
    [InlineData("from=2026-13-01T00:00:00Z", "from")]
    [InlineData("to=2026-12-01T25:00", "to")]
    [InlineData("from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z", "from")]
    public async Task ListAudit_BadTimeWindow_Returns400NamingTheParameter(string query, string field)
    {
        var (status, problem) = await GetAsync(_client, $"/api/audit?{query}");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(field, problem.Str("field"));
    }

    [Theory]
    [InlineData("/api/audit?action=prompt.created&action=version.created", "action")]
    [InlineData("/api/experiments?prompt=a&prompt=b", "prompt")]
    [InlineData("/api/prompts?limit=1&limit=1", "limit")]
    [InlineData("/api/prompts?tag=a&tag=b", "tag")]
    public async Task ListRoutes_AQueryParameterGivenTwice_Return400TooManyNamingIt(string path, string field)
    {
        var (status, problem) = await GetAsync(_client, path);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(("too_many", field), (problem.Str("code"), problem.Str("field")));
        Assert.StartsWith($"{field} is given 2 times", problem.Str("detail"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=1001", "limit")]
    [InlineData("limit=ten", "limit")]
    [InlineData("offset=-1", "offset")]
    [InlineData("offset=1.5", "offset")]
    public async Task ListRoutes_BadPage_Return400NamingTheParameter(string query, string field)
    {
        foreach (var path in new[] { "/api/prompts", "/api/experiments", "/api/audit", "/api/keys" })
        {
            var (status, problem) = await GetAsync(_client, $"{path}?{query}");

            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.Equal(field, problem.Str("field"));
        }
    }

    private static List<string> Names(JsonNode? page, string field) => page![field]!.AsArray().Select(p => p.Str("name")).ToList();
}
