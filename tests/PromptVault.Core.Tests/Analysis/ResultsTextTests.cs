using PromptVault.Core.Analysis;

namespace PromptVault.Core.Tests.Analysis;

public sealed class ResultsTextTests
{
    /// <summary>The dashboard's metrics wrote a cost with no unit ("cost 0.003704"); a cost reads in dollars, as the CLI writes it.</summary>
    [Theory]
    [InlineData(0.003704, "$0.003704")]
    [InlineData(0.00000049, "$0")]
    [InlineData(0.0, "$0")]
    [InlineData(12.3456, "$12.35")]
    [InlineData(1234.5, "$1,234.50")]
    [InlineData(null, ResultsText.Missing)]
    public void Cost_ReadsInDollars_SixDecimalsBelowADollar_CentsFromOne(double? cost, string expected) =>
        Assert.Equal(expected, ResultsText.Cost(cost));

    /// <summary>
    /// A chance to beat control of 0.999992 (59.16% against 75.43% conversion over 311 and 289 units, the statistics walk)
    /// read "100%" in the CLI's results; a share reads exactly 0% or 100% only when it is.
    /// </summary>
    [Theory]
    [InlineData(0.999992, ">99.99%")]
    [InlineData(0.99995, ">99.99%")]
    [InlineData(0.99994, "99.99%")]
    [InlineData(1.0, "100%")]
    [InlineData(0.00004, "<0.01%")]
    [InlineData(0.00005, "0.01%")]
    [InlineData(0.0, "0%")]
    [InlineData(0.95, "95%")]
    [InlineData(null, ResultsText.Missing)]
    public void Percent_NeverRoundsToZeroOrAHundredWhenItIsNot(double? value, string expected) =>
        Assert.Equal(expected, ResultsText.Percent(value));

    /// <summary>An experiment a winner completed before its planned size never said why it stopped early; now it says the sequential test allows it.</summary>
    [Fact]
    public void Ended_DecidedBeforeThePlannedSize_SaysTheSequentialTestAllowsStoppingEarly()
    {
        Assert.Equal("It ended with 1,200 units per variant (the smallest variant counts), before the 5,000 planned to detect the minimum detectable effect with the planned power: "
            + "the sequential test allows stopping as soon as the evidence is strong enough, without raising the chance of a false winner.", ResultsText.Ended(1200, 5000, decided: true));
        Assert.Equal("It ended with 1,200 units per variant (the smallest variant counts); detecting the minimum detectable effect with the planned power needed 5,000.",
            ResultsText.Ended(1200, 5000, decided: false));
        Assert.Equal("It ended with 1,200 units per variant (the smallest variant counts).", ResultsText.Ended(1200, null, decided: true));
    }
}
