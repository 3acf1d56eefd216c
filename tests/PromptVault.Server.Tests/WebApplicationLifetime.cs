using Microsoft.AspNetCore.Builder;

namespace PromptVault.Server.Tests;

/// <summary>Starting and stopping the test's in-process web apps so that one that fails to start is not left listening.</summary>
internal static class WebApplicationLifetime
{
    /// <summary>Starts <paramref name="app"/>; if it does not start, stops and disposes it before rethrowing.</summary>
    public static async Task StartOrDisposeAsync(this WebApplication app, CancellationToken cancellationToken)
    {
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch
        {
            await app.StopAndDisposeAsync();
            throw;
        }
    }

    public static async Task StopAndDisposeAsync(this WebApplication app)
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
