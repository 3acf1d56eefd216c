using PromptVault.Server.Dashboard.Shared;

namespace PromptVault.Dashboard.Tests;

/// <summary>The rows a "Show more" table reads for its page's <c>?shown=</c>.</summary>
public sealed class ShowMoreTests
{
    /// <summary>
    /// <c>?shown=</c> had no upper bound: <c>/audit?shown=100000000</c> (or the versions and experiments pages) read and rendered
    /// everything at once. It is now clamped to <see cref="ShowMore.Max"/>, and a missing or small value is still the first step.
    /// </summary>
    [Theory]
    [InlineData("100000000", 100, ShowMore.Max)]
    [InlineData("2147483647", 1_000, ShowMore.Max)]
    [InlineData("99999999999", 1_000, ShowMore.Max)]
    [InlineData("10001", 100, ShowMore.Max)]
    [InlineData("300", 100, 300)]
    [InlineData(null, 100, 100)]
    [InlineData("-5", 100, 100)]
    [InlineData(null, 1_000, 1_000)]
    public void Count_ClampsShownBetweenTheStepAndMax(string? shown, int step, int expected) =>
        Assert.Equal(expected, ShowMore.Count(shown, step));

    /// <summary><c>?shown=</c> that is not a whole number (a hand-edited or truncated address) is the first step, as a missing one.</summary>
    [Theory]
    [InlineData("abc")]
    [InlineData("1e9")]
    [InlineData("")]
    [InlineData("12.5")]
    public void Count_NotAWholeNumber_IsTheFirstStep(string shown) => Assert.Equal(100, ShowMore.Count(shown, 100));
}
