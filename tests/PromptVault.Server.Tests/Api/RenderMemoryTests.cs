using System.Net;
using System.Text.Json;
using PromptVault.Core.Templates;
using static PromptVault.Server.Tests.ApiCalls;

namespace PromptVault.Server.Tests.Api;

/// <summary>Runs alone: the process's managed memory is what it measures, and other tests' servers would add to it.</summary>
[CollectionDefinition(nameof(RenderMemoryTests), DisableParallelization = true)]
public sealed class RenderMemoryCollection;

/// <summary>Hostile renders at the limits leave the server's memory where it was (issue 8, finding 2).</summary>
[Collection(nameof(RenderMemoryTests))]
public sealed class RenderMemoryTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private readonly HttpClient _client = fixture.Server.CreateClient();

    [Fact]
    public async Task Render_WorstTemplateAtItsLimits_MemoryStaysBounded()
    {
        var name = await HostileInputTests.CreateProductionPromptAsync(_client, HostileInputTests.WorstTemplate);
        // The first item is as long as an output may be, less one: every render reaches the output limit, in loops at
        // the depth limit, 8 at a time.
        var body = JsonSerializer.Serialize(new { variables = new { items = new[] { new string('x', TemplateLimits.MaxOutputLength - 1), "y" } } });
        var baseline = GC.GetTotalMemory(forceFullCollection: true);
        var afterRounds = new List<long>();

        for (var round = 0; round < 5; round++)
        {
            var statuses = await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
                (await PostAsync(_client, $"/api/prompts/{name}/render", body)).Status));
            Assert.All(statuses, status => Assert.Equal(HttpStatusCode.BadRequest, status));
            afterRounds.Add(GC.GetTotalMemory(forceFullCollection: true) - baseline);
        }

        // Pools (request buffers) may keep about one input per concurrent render: 8 × 2 MB. Render buffers this long are not
        // pooled: the shared pool kept them per thread, and the growth from one round to the next once passed the bound.
        // Before the limits and the shared item values, the same renders kept 465 MB.
        var growth = string.Join(", ", afterRounds.Select(b => $"{b / (1024 * 1024)} MB"));
        // The bounds leave room for what else the process holds (measured alone: 32 MB, flat after the first round).
        Assert.True(afterRounds.Max() < 96 * 1024 * 1024, $"managed memory grew from {baseline:N0} bytes by {growth} after each round");
        Assert.True(afterRounds[^1] - afterRounds[1] < 16 * 1024 * 1024, $"managed memory kept growing from {baseline:N0} bytes: {growth}");
    }
}
