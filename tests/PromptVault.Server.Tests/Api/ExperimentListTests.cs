using Microsoft.Extensions.DependencyInjection;
using PromptVault.Core.Contracts;
using PromptVault.Core.Experiments;
using PromptVault.Core.Registry;
using PromptVault.Core.Storage;

namespace PromptVault.Server.Tests.Api;

/// <summary>Listing experiments reads the store a fixed number of times, however many experiments there are.</summary>
public sealed class ExperimentListTests
{
    [Fact]
    public async Task ListAsync_ThreeHundredExperiments_ReadsVersionNumbersOnce()
    {
        await using var server = await RunningServer.StartAsync(TestContext.Current.CancellationToken);
        using var client = server.CreateClient();
        var (name, versionIds) = await Experiments.CreatePromptWithChallengersAsync(client);
        var service = server.Services.GetRequiredService<ExperimentService>();
        for (var i = 0; i < 300; i++)
            await service.CreateAsync(new CreateExperimentRequest($"e{i}", name,
                [new("control", versionIds[0], 50), new("casual", versionIds[1], 25), new("structured", versionIds[2], 25)]), "test",
                TestContext.Current.CancellationToken);
        var (prompts, counter) = CountingProxy<IPromptStore>.Wrap(server.Services.GetRequiredService<IPromptStore>());
        var counted = new ExperimentService(prompts, server.Services.GetRequiredService<IExperimentStore>(),
            server.Services.GetRequiredService<IMetricStore>(), server.Services.GetRequiredService<PromptRegistry>(),
            server.Services.GetRequiredService<RegistryCache>(), server.Services.GetRequiredService<RegistryChangeFeed>(), TimeProvider.System,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<ExperimentService>.Instance);

        var list = await counted.ListAsync(null, new PageRequest(PageRequest.MaxLimit), TestContext.Current.CancellationToken);

        Assert.Equal(300, list.Experiments.Count);
        Assert.All(list.Experiments, e => Assert.Equal(["1.0.0", "1.0.1", "1.0.2"], e.Variants.Select(v => v.Version)));
        Assert.True(counter.Total == 1, $"prompt store calls: {string.Join(", ", counter.Calls)}");
    }
}
