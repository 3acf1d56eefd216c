using Microsoft.Extensions.Options;

namespace PromptVault.Client.Tests;

public sealed class OptionsTests
{
    [Fact]
    public async Task StartAsync_BadOptions_FailsListingEveryProblem()
    {
        var ct = TestContext.Current.CancellationToken;

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => SdkHost.StartAsync(null!, null, o =>
        {
            o.EventBatchSize = 5_000;
            o.RequestTimeout = TimeSpan.Zero;
        }, cancellationToken: ct));

        Assert.Contains(error.Failures, f => f.Contains(nameof(PromptVaultOptions.ServerUrl), StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains(nameof(PromptVaultOptions.EventBatchSize), StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains(nameof(PromptVaultOptions.RequestTimeout), StringComparison.Ordinal));
    }

    [Fact]
    public void ResolutionId_RoundTrips_AndRefusesForeignText()
    {
        var resolution = new Resolution("support/reply", "0197a1c2e4f07a3b8c9d0e1f2a3b4c5d", "0197a1d0e4f07a3b8c9d0e1f2a3b4c5d", "0197a1d3e4f07a3b8c9d0e1f2a3b4c5d", "user-42 ✓");

        var id = ResolutionIds.Encode(resolution);

        Assert.Equal(resolution, ResolutionIds.Decode(id));
        Assert.True(id.Length < 120, $"{id.Length} characters");
        Assert.Throws<ArgumentException>(() => ResolutionIds.Decode("pv1.not-base64!"));
        Assert.Throws<ArgumentException>(() => ResolutionIds.Decode(id[..^4]));
    }
}
