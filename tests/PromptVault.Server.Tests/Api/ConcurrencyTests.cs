using System.Net;
using static PromptVault.Server.Tests.ApiCalls;

namespace PromptVault.Server.Tests.Api;

public sealed class ConcurrencyTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task CreateVersion_SixtyParallelClients_GetDistinctConsecutiveNumbers()
    {
        const int clients = 60;
        using var admin = fixture.Server.CreateClient();
        var name = await CreateSupportPromptAsync(admin);

        var results = await Task.WhenAll(Enumerable.Range(1, clients).Select(async i =>
        {
            using var client = fixture.Server.CreateClient();
            return await PostAsync(client, $"/api/prompts/{name}/versions", new { content = $"{SupportTemplate}\nVariant {i}", changeDescription = $"client {i}" });
        }));
        var (_, history) = await GetAsync(admin, $"/api/prompts/{name}/versions");

        Assert.All(results, r => Assert.Equal(HttpStatusCode.Created, r.Status));
        var numbers = results.Select(r => r.Body.Str("version")).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(Enumerable.Range(1, clients).Select(i => $"1.0.{i}").Order(StringComparer.Ordinal), numbers);
        var stored = history!["versions"]!.AsArray();
        Assert.Equal(clients + 1, stored.Count);
        Assert.Equal(Enumerable.Range(1, clients).Select(i => $"client {i}").Order(), stored.Select(v => v.Str("changeDescription")).Where(d => d.StartsWith("client")).Order());
    }
}
