using System.Collections;
using System.Numerics;

namespace PromptVault.Core.Storage;

/// <summary>Which slice of a list to read: at most <paramref name="Limit"/> items after the first <paramref name="Offset"/>.</summary>
public sealed record PageRequest(int Limit, int Offset = 0)
{
    /// <summary>The page size of a list route when the request names none.</summary>
    public const int DefaultLimit = 100;

    public const int MaxLimit = 1_000;

    /// <summary>Everything: for internal reads that need the whole list.</summary>
    public static PageRequest All { get; } = new(int.MaxValue);

    /// <summary>Only the first item: for internal reads of the newest.</summary>
    public static PageRequest First { get; } = new(1);

    /// <summary>The page a list route was asked for (<c>?limit=&amp;offset=</c>).</summary>
    /// <exception cref="InvalidInputException">A value is out of range; the message names <c>limit</c> or <c>offset</c>.</exception>
    public static PageRequest From(int? limit, int? offset)
    {
        if ((OutOfRange("limit", limit) ?? OutOfRange("offset", offset)) is { } outOfRange) throw outOfRange;
        return new PageRequest(limit ?? DefaultLimit, offset ?? 0);
    }

    /// <summary>
    /// The error of a <c>limit</c> or <c>offset</c> out of its range, null for one in range (or another parameter). Also for
    /// a value the query binding cannot read as an int (99999999999), so it gets the same error as any other.
    /// </summary>
    public static InvalidInputException? OutOfRange(string parameter, BigInteger? value) => (parameter, value) switch
    {
        ("limit", { } limit) when limit < 1 || limit > MaxLimit =>
            new("invalid_limit", $"limit must be between 1 and {MaxLimit}; it is {limit}.", "limit"),
        ("offset", { } offset) when offset < 0 || offset > int.MaxValue =>
            new("invalid_offset", $"offset must be between 0 and {int.MaxValue}; it is {offset}.", "offset"),
        _ => null,
    };
}

/// <summary>One page of a list, with how many items the whole list has.</summary>
public sealed class Page<T>(IReadOnlyList<T> items, int total) : IReadOnlyList<T>
{
    public int Total { get; } = total;

    public T this[int index] => items[index];

    public int Count => items.Count;

    public IEnumerator<T> GetEnumerator() => items.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
