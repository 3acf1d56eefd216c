using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace PromptVault.Storage.Testing;

/// <summary>
/// The one way tests wait for something to happen: every test project uses it (<c>using static</c>), none sleeps a fixed time.
/// </summary>
public static class Waiting
{
    /// <summary>
    /// The limit only ends a wait for what never happens, so it is generous: a wait returns as soon as its condition holds,
    /// and CI runs seven test assemblies at once on 2 cores. A test that claims a bound (served within a second) asserts it
    /// itself.
    /// </summary>
    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Calls <paramref name="read"/> until <paramref name="done"/> holds and returns that value; past the limit, fails naming
    /// what was awaited and the last value read.
    /// </summary>
    public static Task<T> Eventually<T>(Func<Task<T>> read, Func<T, bool> done, TimeSpan? limit = null,
        [CallerArgumentExpression(nameof(read))] string reading = "", [CallerArgumentExpression(nameof(done))] string awaited = "") =>
        Until(read, done, limit, $"{awaited} on what {reading} reads");

    /// <summary>Waits until <paramref name="condition"/> holds; past the limit, fails naming it.</summary>
    public static Task Eventually(Func<Task<bool>> condition, TimeSpan? limit = null,
        [CallerArgumentExpression(nameof(condition))] string awaited = "") =>
        Until(condition, holds => holds, limit, awaited);

    /// <summary>Waits until <paramref name="condition"/> holds; past the limit, fails naming it.</summary>
    public static Task Eventually(Func<bool> condition, TimeSpan? limit = null,
        [CallerArgumentExpression(nameof(condition))] string awaited = "") =>
        Until(() => Task.FromResult(condition()), holds => holds, limit, awaited);

    /// <summary>Awaits <paramref name="task"/>; past the limit, fails naming it.</summary>
    public static async Task<T> Eventually<T>(Task<T> task, TimeSpan? limit = null, [CallerArgumentExpression(nameof(task))] string awaited = "")
    {
        try
        {
            return await task.WaitAsync(limit ?? Limit, TestContext.Current.CancellationToken);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"Waited {limit ?? Limit} for {awaited}.");
            throw;
        }
    }

    private static async Task<T> Until<T>(Func<Task<T>> read, Func<T, bool> done, TimeSpan? limit, string awaited)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            var value = await read();
            if (done(value)) return value;
            if (waited.Elapsed >= (limit ?? Limit))
                Assert.Fail($"Waited {waited.Elapsed} for {awaited}; the last value read was {Describe(value)}.");
            await Task.Delay(5, TestContext.Current.CancellationToken); // the poll's own interval
        }
    }

    private static string Describe<T>(T value) => value switch
    {
        null => "null",
        System.Collections.IEnumerable items and not string => $"[{string.Join(", ", items.Cast<object?>())}]",
        _ => value.ToString() ?? "",
    };
}
