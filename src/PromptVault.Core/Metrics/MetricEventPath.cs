namespace PromptVault.Core.Metrics;

/// <summary>
/// Where a metric event's fields are, for its errors: in a batch (<c>events[3].latencyMs</c>) or, for an event sent alone,
/// bare (<c>latencyMs</c>). The field's name is built only for an error: a batch of 1,000 events would otherwise build a
/// prefix for each, and 13,000 field names.
/// </summary>
internal readonly struct MetricEventPath
{
    private readonly int _index;

    private MetricEventPath(int index) => _index = index;

    public static MetricEventPath Alone => new(-1);

    public static MetricEventPath InBatch(int index) => new(index);

    public string Of(string name) => _index < 0 ? name : $"events[{_index}].{name}";
}

/// <summary>What tokens cost on a version, for an event that carries tokens but no cost (<see cref="PriceTable.CostOf"/>).</summary>
public delegate double? TokenCost(string versionId, long? inputTokens, long? outputTokens);
