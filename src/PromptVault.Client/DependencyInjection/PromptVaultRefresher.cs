using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace PromptVault.Client.DependencyInjection;

/// <summary>
/// Loads the first snapshot when the host starts (so a server that is down with no fallback file fails the start with a clear
/// error), then keeps it fresh from the stream and the interval; at shutdown, sends the events still queued.
/// </summary>
internal sealed class PromptVaultRefresher(PromptVaultSdk sdk, IOptions<PromptVaultOptions> options) : BackgroundService
{
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await sdk.Snapshots.EnsureLoadedAsync(cancellationToken).ConfigureAwait(false);
        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => options.Value.UseStream
        ? Task.WhenAll(sdk.Snapshots.RunRefreshLoopAsync(stoppingToken), sdk.Snapshots.RunStreamLoopAsync(stoppingToken))
        : sdk.Snapshots.RunRefreshLoopAsync(stoppingToken);

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        await sdk.Events.StopAsync(options.Value.RequestTimeout).ConfigureAwait(false);
    }
}
