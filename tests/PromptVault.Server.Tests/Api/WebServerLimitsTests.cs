using System.Net;

namespace PromptVault.Server.Tests.Api;

/// <summary>
/// Kestrel refuses a request line or headers past its limits before any of the app runs (it answers from its parser, with no
/// hook for a body), so these two are the only refusals without a problem body; docs/api.md says so and names the limits.
/// </summary>
public sealed class WebServerLimitsTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private readonly HttpClient _client = fixture.Server.CreateClient();

    [Fact]
    public async Task RequestLinePastKestrelsLimit_Is414WithoutABody()
    {
        using var response = await _client.GetAsync($"/api/prompts/{new string('a', 9 * 1024)}", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.RequestUriTooLong, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task HeadersPastKestrelsLimit_Are431WithoutABody()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/prompts");
        request.Headers.TryAddWithoutValidation("X-Padding", new string('a', 33 * 1024));
        using var response = await _client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));
    }
}
