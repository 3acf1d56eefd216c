using System.Collections.Concurrent;
using System.Reflection;

namespace PromptVault.Server.Tests;

/// <summary>Wraps a real store and counts the calls made to it, to prove how many reads a use case needs.</summary>
public class CountingProxy<T> : DispatchProxy where T : class
{
    private T? _inner;

    public ConcurrentDictionary<string, int> Calls { get; } = new();

    public int Total => Calls.Values.Sum();

    public static (T Store, CountingProxy<T> Counter) Wrap(T inner)
    {
        var proxy = Create<T, CountingProxy<T>>();
        var counter = (CountingProxy<T>)(object)proxy;
        counter._inner = inner;
        return (proxy, counter);
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        Calls.AddOrUpdate(targetMethod!.Name, 1, (_, n) => n + 1);
        return targetMethod.Invoke(_inner, args);
    }
}
