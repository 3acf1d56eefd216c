using System.Collections.Concurrent;
using System.Reflection;

namespace PromptVault.Server.Tests;

/// <summary>
/// Wraps a real store and counts the calls made to it, to prove how many reads a use case needs; it can also hold the answers
/// of the calls a test picks until the test lets them go (<see cref="Hold"/>), to make a read finish after a later one.
/// </summary>
public class CountingProxy<T> : DispatchProxy where T : class
{
    private static readonly MethodInfo HoldAnswerMethod = typeof(CountingProxy<T>).GetMethod(nameof(HoldAnswerAsync), BindingFlags.NonPublic | BindingFlags.Static)!;

    private T? _inner;
    private volatile HeldCalls? _held;

    public ConcurrentDictionary<string, int> Calls { get; } = new();

    public int Total => Calls.Values.Sum();

    public static (T Store, CountingProxy<T> Counter) Wrap(T inner)
    {
        var proxy = Create<T, CountingProxy<T>>();
        var counter = (CountingProxy<T>)(object)proxy;
        counter._inner = inner;
        return (proxy, counter);
    }

    /// <summary>From now on, the answers of the calls to <paramref name="method"/> (one returning a <see cref="Task{TResult}"/>) whose
    /// arguments <paramref name="picks"/> wait for <see cref="HeldCalls.Release"/>; the call itself is made at once, and once released
    /// its later calls pass straight through.</summary>
    public HeldCalls Hold(string method, Func<object?[], bool> picks) => _held = new HeldCalls(method, picks);

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        Calls.AddOrUpdate(targetMethod!.Name, 1, (_, n) => n + 1);
        var answer = targetMethod.Invoke(_inner, args);
        return _held is { } held && held.Picks(targetMethod.Name, args ?? [])
            ? HoldAnswerMethod.MakeGenericMethod(targetMethod.ReturnType.GetGenericArguments()[0]).Invoke(null, [answer, held])
            : answer;
    }

    private static async Task<TAnswer> HoldAnswerAsync<TAnswer>(Task<TAnswer> answer, HeldCalls held)
    {
        held.Arrived.TrySetResult();
        await held.Released;
        return await answer;
    }

    public sealed class HeldCalls(string method, Func<object?[], bool> picks)
    {
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Completes when the first picked call is held.</summary>
        public TaskCompletionSource Arrived { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        internal Task Released => _released.Task;

        internal bool Picks(string called, object?[] args) => called == method && picks(args);

        public void Release() => _released.TrySetResult();
    }
}
