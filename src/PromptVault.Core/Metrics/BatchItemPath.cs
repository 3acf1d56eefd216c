namespace PromptVault.Core.Metrics;

/// <summary>
/// Where an item's fields are, for its errors: in a batch (<c>events[3].latencyMs</c>, <c>exposures[0].unitId</c>) or,
/// for an item sent alone, bare (<c>latencyMs</c>). A field's name is built only for an error: a batch of 1,000 events
/// would otherwise build a prefix for each, and 13,000 field names.
/// </summary>
internal readonly struct BatchItemPath
{
    private readonly string? _list;
    private readonly int _index;

    private BatchItemPath(string? list, int index)
    {
        _list = list;
        _index = index;
    }

    public static BatchItemPath Alone => default;

    /// <param name="list">The batch's member that holds the items: <c>events</c>, <c>exposures</c>.</param>
    public static BatchItemPath InBatch(string list, int index) => new(list, index);

    /// <summary>The item itself: <c>events[3]</c>.</summary>
    public string Item => $"{_list}[{_index}]";

    public string Of(string name) => _list is null ? name : $"{_list}[{_index}].{name}";
}
