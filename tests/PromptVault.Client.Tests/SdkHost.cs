using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace PromptVault.Client.Tests;

/// <summary>An application host with the SDK registered by <c>AddPromptVault</c>, as an application would have it.</summary>
public sealed class SdkHost : IAsyncDisposable
{
    private readonly IHost _host;

    private SdkHost(IHost host) => _host = host;

    public IServiceProvider Services => _host.Services;

    public IPromptVault Vault => _host.Services.GetRequiredService<IPromptVault>();

    internal PromptVaultSdk Sdk => _host.Services.GetRequiredService<PromptVaultSdk>();

    /// <summary>Builds and starts the host; start fails as the application's would (options, first snapshot).</summary>
    public static async Task<SdkHost> StartAsync(Uri serverUrl, string? apiKey, Action<PromptVaultOptions>? configure = null,
        Action<IServiceCollection>? services = null, CancellationToken cancellationToken = default)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddPromptVault(o =>
        {
            o.ServerUrl = serverUrl;
            o.ApiKey = apiKey;
            configure?.Invoke(o);
        });
        services?.Invoke(builder.Services);
        var host = builder.Build();
        try
        {
            await host.StartAsync(cancellationToken);
        }
        catch
        {
            host.Dispose();
            throw;
        }
        return new SdkHost(host);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        if (_host is IAsyncDisposable disposable) await disposable.DisposeAsync();
        else _host.Dispose();
    }
}
