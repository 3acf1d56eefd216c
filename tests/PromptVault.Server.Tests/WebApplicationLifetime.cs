using Microsoft.AspNetCore.Builder;

namespace PromptVault.Server.Tests;

/// <summary>
/// Starting and stopping the tests' in-process web apps so that one that fails to start is not left listening (public: the SDK
/// tests start theirs through it too).
/// </summary>
public static class WebApplicationLifetime
{
    /// <summary>Starts <paramref name="app"/>; if it does not start, stops and disposes it before rethrowing.</summary>
    public static Task StartOrDisposeAsync(this WebApplication app, CancellationToken cancellationToken) =>
        app.StartOrDisposeAsync(() => Task.FromResult(true), cancellationToken);

    /// <summary>
    /// Runs <paramref name="beforeStart"/> (migrations, the first admin key), then starts <paramref name="app"/>, and returns what
    /// <paramref name="beforeStart"/> gave; if either throws, stops and disposes the app before rethrowing.
    /// </summary>
    public static async Task<T> StartOrDisposeAsync<T>(this WebApplication app, Func<Task<T>> beforeStart, CancellationToken cancellationToken)
    {
        try
        {
            var result = await beforeStart();
            await app.StartAsync(cancellationToken);
            return result;
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
