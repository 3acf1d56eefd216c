using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Http.Resilience;
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

        // Each named as the user sets it, not by the .NET type ("The field EventBatchSize of type …", "DataAnnotation validation failed").
        Assert.Equal(
            ["PromptVault:EventBatchSize must be between 1 and 1000; it is 5000.",
                "PromptVault:RequestTimeout must be between 00:00:00.01 and 00:10:00; it is 00:00:00.", "PromptVault:ServerUrl is required."],
            error.Failures.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void AddPromptVault_BindsTheConfigurationSection_AndBoundsTheNamedClientsResilienceHandlerByTheRequestTimeout()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["PromptVault:ServerUrl"] = "http://127.0.0.1:5999/",
            ["PromptVault:ApiKey"] = "pv_configured",
            ["PromptVault:RequestTimeout"] = "00:00:03",
            ["PromptVault:EventBatchSize"] = "250",
            ["PromptVault:UseStream"] = "false",
        });
        builder.Services.AddPromptVault(o => o.EventBatchSize = 200); // code runs after the configuration

        using var host = builder.Build();
        var options = host.Services.GetRequiredService<IOptions<PromptVaultOptions>>().Value;
        var resilience = host.Services.GetRequiredService<IOptionsMonitor<HttpStandardResilienceOptions>>().Get("PromptVault-standard");

        Assert.Equal((new Uri("http://127.0.0.1:5999/"), "pv_configured", TimeSpan.FromSeconds(3), 200, false),
            (options.ServerUrl, options.ApiKey, options.RequestTimeout, options.EventBatchSize, options.UseStream));
        Assert.Equal(TimeSpan.FromSeconds(3), resilience.TotalRequestTimeout.Timeout);
        Assert.Equal(TimeSpan.FromSeconds(1.5), resilience.AttemptTimeout.Timeout);
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
