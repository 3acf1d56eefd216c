using System.Collections;
using System.Globalization;
using System.Numerics;
using PromptVault.Core.Prompts;

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
    public static InvalidInputException? OutOfRange(string parameter, BigInteger? value) =>
        value is { } number && Range(parameter) is { } range && (number < range.Min || number > range.Max)
            ? new($"invalid_{parameter}", $"{parameter} must be between {range.Min} and {range.Max}; it is {number}.", parameter)
            : null;

    /// <summary>
    /// The error of a <c>limit</c> or <c>offset</c> given as <paramref name="text"/> that could not be read as one (<c>abc</c>,
    /// <c>1.5</c>, 99999999999): out of range when it is a whole number, else not a whole number, with the range either way and not an
    /// int's. The one wording of the query (<c>?limit=abc</c>) and of the MCP tools' arguments. Null for another parameter.
    /// </summary>
    public static InvalidInputException? Unreadable(string parameter, string text) =>
        Range(parameter) is not { } range ? null
        : BigInteger.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var whole) && OutOfRange(parameter, whole) is { } outOfRange ? outOfRange
        : new("invalid_parameter", $"{PromptRules.Shorten(text)} is not a whole number: {parameter} must be between {range.Min} and {range.Max}, written in digits (100, not 1e2 or 100.0).", parameter);

    /// <summary>The range of a paging parameter (<c>limit</c>, <c>offset</c>), null for another: the one rule of the REST query and the MCP tools' schemas.</summary>
    public static (int Min, int Max)? Range(string parameter) => parameter switch
    {
        "limit" => (1, MaxLimit),
        "offset" => (0, int.MaxValue),
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
