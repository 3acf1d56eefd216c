using System.Collections.Frozen;

namespace PromptVault.Core.Metrics;

/// <summary>What a model charges, in currency units (USD in the default table) per million tokens.</summary>
public sealed record ModelPrice(double InputPerMillion, double OutputPerMillion)
{
    private const double TokensPerUnit = 1_000_000;

    /// <summary>What <paramref name="inputTokens"/> and <paramref name="outputTokens"/> cost at this price (a missing count costs nothing).</summary>
    public double CostOf(long? inputTokens, long? outputTokens) =>
        ((inputTokens ?? 0) * InputPerMillion + (outputTokens ?? 0) * OutputPerMillion) / TokensPerUnit;
}

/// <summary>
/// Model name (any case) → price per million input and output tokens: the cost of an event that carries tokens but no
/// cost. The server starts from <see cref="Default"/> and adds or replaces prices from its configuration with <see cref="With"/>.
/// Immutable and thread-safe.
/// </summary>
public sealed class PriceTable
{
    private readonly FrozenDictionary<string, ModelPrice> _prices;

    /// <exception cref="ArgumentException">A model name is blank or priced twice, or a price is negative or not finite.</exception>
    public PriceTable(IEnumerable<KeyValuePair<string, ModelPrice>> prices)
    {
        ArgumentNullException.ThrowIfNull(prices);
        var table = new Dictionary<string, ModelPrice>(StringComparer.OrdinalIgnoreCase);
        foreach (var (model, price) in prices)
        {
            Check(model, price, nameof(prices));
            if (!table.TryAdd(model, price))
                throw new ArgumentException($"model '{model}' is priced twice (model names ignore case).", nameof(prices));
        }
        _prices = table.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>
    /// List prices in USD of a few common models (standard tier, text, as published in 2025). Prices change and other
    /// currencies exist: configure your own with <see cref="With"/>.
    /// </summary>
    public static PriceTable Default { get; } = new(new Dictionary<string, ModelPrice>
    {
        ["gpt-5"] = new(1.25, 10),
        ["gpt-5-mini"] = new(0.25, 2),
        ["gpt-5-nano"] = new(0.05, 0.40),
        ["gpt-4.1"] = new(2, 8),
        ["gpt-4.1-mini"] = new(0.40, 1.60),
        ["gpt-4.1-nano"] = new(0.10, 0.40),
        ["gpt-4o"] = new(2.50, 10),
        ["gpt-4o-mini"] = new(0.15, 0.60),
        ["o3"] = new(2, 8),
        ["o4-mini"] = new(1.10, 4.40),
        ["claude-opus-4-1"] = new(15, 75),
        ["claude-sonnet-4-5"] = new(3, 15),
        ["claude-haiku-4-5"] = new(1, 5),
        ["gemini-2.5-pro"] = new(1.25, 10),
        ["gemini-2.5-flash"] = new(0.30, 2.50),
        ["gemini-2.5-flash-lite"] = new(0.10, 0.40),
    });

    /// <summary>Every model and its price.</summary>
    public IReadOnlyDictionary<string, ModelPrice> Prices => _prices;

    /// <summary>This table with <paramref name="prices"/> added, replacing the price of a model already in it.</summary>
    /// <exception cref="ArgumentException">As for the constructor.</exception>
    public PriceTable With(IEnumerable<KeyValuePair<string, ModelPrice>> prices)
    {
        ArgumentNullException.ThrowIfNull(prices);
        var added = new PriceTable(prices);
        return new PriceTable(_prices.Where(p => !added._prices.ContainsKey(p.Key)).Concat(added._prices));
    }

    /// <summary>The price of <paramref name="model"/>, ignoring case; null when it is not in the table.</summary>
    public ModelPrice? Find(string? model) => model is not null && _prices.TryGetValue(model, out var price) ? price : null;

    /// <summary>
    /// What <paramref name="inputTokens"/> and <paramref name="outputTokens"/> cost on <paramref name="model"/> (a missing count
    /// costs nothing); null when the model has no price or neither count is known.
    /// </summary>
    public double? CostOf(string? model, long? inputTokens, long? outputTokens)
    {
        if (Find(model) is not { } price || (inputTokens is null && outputTokens is null))
            return null;
        return price.CostOf(inputTokens, outputTokens);
    }

    private static void Check(string model, ModelPrice? price, string paramName)
    {
        if (string.IsNullOrWhiteSpace(model))
            throw new ArgumentException("a priced model needs a name.", paramName);
        if (price is null || !IsPrice(price.InputPerMillion) || !IsPrice(price.OutputPerMillion))
            throw new ArgumentException(FormattableString.Invariant(
                $"the prices of model '{model}' must be finite numbers ≥ 0 per million tokens, got input {price?.InputPerMillion} and output {price?.OutputPerMillion}."),
                paramName);
    }

    private static bool IsPrice(double value) => double.IsFinite(value) && value >= 0;
}
