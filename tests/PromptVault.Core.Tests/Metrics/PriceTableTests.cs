using PromptVault.Core.Metrics;

namespace PromptVault.Core.Tests.Metrics;

public sealed class PriceTableTests
{
    [Fact]
    public void CostOf_Gpt4o_InputAndOutputPricedPerMillion()
    {
        var prices = PriceTable.Default;

        var cost = prices.CostOf("gpt-4o", 1_000, 500);

        // 1,000 × $2.50/M + 500 × $10/M = $0.0025 + $0.005
        Assert.Equal(0.0075, cost!.Value, 12);
    }

    [Fact]
    public void CostOf_ModelNameInOtherCase_Found()
    {
        var prices = PriceTable.Default;

        var cost = prices.CostOf("GPT-4o-Mini", 2_000_000, 1_000_000);

        // 2M × $0.15/M + 1M × $0.60/M
        Assert.Equal(0.90, cost!.Value, 12);
    }

    [Fact]
    public void CostOf_OnlyOutputTokens_InputCostsNothing()
    {
        var prices = PriceTable.Default;

        var cost = prices.CostOf("claude-sonnet-4-5", null, 10_000);

        // 10,000 × $15/M
        Assert.Equal(0.15, cost!.Value, 12);
    }

    [Theory]
    [InlineData("no-such-model", 100L, 100L)]
    [InlineData(null, 100L, 100L)]
    [InlineData("gpt-4o", null, null)]
    public void CostOf_UnknownModelOrNoTokens_Null(string? model, long? input, long? output)
    {
        var prices = PriceTable.Default;

        var cost = prices.CostOf(model, input, output);

        Assert.Null(cost);
    }

    [Fact]
    public void With_ConfiguredPrices_ReplaceAndAddToDefaults()
    {
        var configured = new Dictionary<string, ModelPrice> { ["GPT-4O"] = new(5, 20), ["in-house-7b"] = new(0.02, 0.02) };

        var prices = PriceTable.Default.With(configured);

        Assert.Equal(new ModelPrice(5, 20), prices.Find("gpt-4o"));
        Assert.Equal(new ModelPrice(0.02, 0.02), prices.Find("in-house-7b"));
        Assert.Equal(new ModelPrice(0.15, 0.60), prices.Find("gpt-4o-mini"));
        Assert.Equal(PriceTable.Default.Prices.Count + 1, prices.Prices.Count);
    }

    [Fact]
    public void Constructor_SameModelTwiceInOtherCase_Refused()
    {
        var prices = new[] { KeyValuePair.Create("my-model", new ModelPrice(1, 2)), KeyValuePair.Create("MY-MODEL", new ModelPrice(1, 2)) };

        var error = Assert.Throws<ArgumentException>(() => new PriceTable(prices));

        Assert.Contains("'MY-MODEL' is priced twice", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-1, 2)]
    [InlineData(1, double.NaN)]
    [InlineData(double.PositiveInfinity, 2)]
    public void Constructor_BadPrice_RefusedNamingModel(double input, double output)
    {
        var prices = new Dictionary<string, ModelPrice> { ["my-model"] = new(input, output) };

        var error = Assert.Throws<ArgumentException>(() => new PriceTable(prices));

        Assert.Contains("'my-model'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_BlankModelName_Refused()
    {
        var prices = new Dictionary<string, ModelPrice> { [" "] = new(1, 2) };

        Assert.Throws<ArgumentException>(() => new PriceTable(prices));
    }
}
