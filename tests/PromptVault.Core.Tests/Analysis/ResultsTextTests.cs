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
}
