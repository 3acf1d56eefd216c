using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace PromptVault.Client.DependencyInjection;

/// <summary>
/// Loads the first snapshot when the host starts (so a server that is down with no fallback file fails the start with a clear
/// error, and a key whose role may not record while recording is on), then keeps it fresh from the stream and the interval; at shutdown, sends the events still queued.
/// </summary>
internal sealed class PromptVaultRefresher(PromptVaultSdk sdk, IOptions<PromptVaultOptions> options) : BackgroundService
{
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await sdk.Snapshots.EnsureLoadedAsync(cancellationToken).ConfigureAwait(false);
        // Started from the fallback file, the server is down: nothing to ask it, and its refusals are logged once it is back.
        if (sdk.Snapshots.ServerReachable) await sdk.Events.EnsureKeyMayRecordAsync(cancellationToken).ConfigureAwait(false);
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
