using System.Diagnostics;

namespace PromptVault.Client.Tests;

internal static class Eventually
{
    /// <summary>Polls <paramref name="condition"/> every 10 ms until it holds or <paramref name="limit"/> passes; returns how long it took, or null.</summary>
    public static async Task<TimeSpan?> WithinAsync(TimeSpan limit, Func<Task<bool>> condition, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed <= limit)
        {
            if (await condition()) return clock.Elapsed;
            await Task.Delay(10, cancellationToken);
        }
        return null;
    }
}
