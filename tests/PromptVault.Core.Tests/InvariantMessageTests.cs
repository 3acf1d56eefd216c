using System.Globalization;
using PromptVault.Core.Contracts;
using PromptVault.Core.Metrics;
using PromptVault.Core.Templates;

namespace PromptVault.Core.Tests;

/// <summary>
/// Refusals read the same in any host: the SDK raises them in an application whose current culture may be German or
/// French, and their numbers and times are still formatted as the server formats them.
/// </summary>
public sealed class InvariantMessageTests
{
    private static readonly DateTimeOffset Now = new(2025, 6, 1, 12, 30, 0, TimeSpan.Zero);

    /// <summary>de-DE's number formats, built from the invariant culture: the tests run with invariant globalization.</summary>
    private static CultureInfo GermanNumbers()
    {
        var culture = (CultureInfo)CultureInfo.InvariantCulture.Clone();
        culture.NumberFormat.NumberGroupSeparator = ".";
        culture.NumberFormat.NumberDecimalSeparator = ",";
        culture.NumberFormat.NegativeSign = "\u2212";
        return culture;
    }

    private static string MessageUnderGermanCulture(Action refused)
    {
        var before = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = GermanNumbers();
        try
        {
            return Assert.ThrowsAny<PromptVaultException>(refused).Message;
        }
        finally
        {
            CultureInfo.CurrentCulture = before;
        }
    }

    [Fact]
    public void TemplateTooLarge_GroupsDigitsAsTheServerDoes()
    {
        var message = MessageUnderGermanCulture(() => new TemplateEngine().Validate(new string('x', TemplateLimits.MaxSize + 1), []));

        Assert.Equal("content is 200,001 characters long; the template size limit (after partials) is 200,000 characters.", message);
    }

    [Fact]
    public void MetricAmounts_FormatDecimalsAndSignsAsTheServerDoes()
    {
        var message = MessageUnderGermanCulture(() => MetricEventRules.Validate(new MetricEventRequest(VersionId: "v1", Cost: -0.5), Now));

        Assert.Equal("cost must be a finite number ≥ 0, got -0.5.", message);
    }

    [Fact]
    public void TokensPricedAboveMaxCost_FormatTheCountsPricesAndCostAsTheServerDoes()
    {
        var price = new ModelPrice(InputPerMillion: 0.5, OutputPerMillion: 1_000.25);
        var message = MessageUnderGermanCulture(() => MetricEventRules.PricedCost(price, 2_000_000, 100_000_000, "the answer's usage priced", "Check the price."));

        // 2 × 0.5 + 100 × 1,000.25 = 100,026
        Assert.Equal("the answer's usage priced (2,000,000 input tokens at 0.5 and 100,000,000 output tokens at 1000.25 per million) "
            + "cost 100026; a cost must be at most 100,000. Check the price.", message);
    }

    [Fact]
    public void TimestampInFuture_FormatsMinutesAsTheServerDoes()
    {
        var message = MessageUnderGermanCulture(() =>
            MetricEventRules.Validate(new MetricEventRequest(VersionId: "v1", Timestamp: Now.AddMinutes(7.5)), Now));

        Assert.Contains("is 7.5 minutes ahead", message, StringComparison.Ordinal);
    }
}
