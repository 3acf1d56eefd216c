using PromptVault.Core.Versioning;

namespace PromptVault.Core.Tests.Versioning;

public sealed class SemanticVersionTests
{
    [Theory]
    [InlineData("1.0.0", 1, 0, 0)]
    [InlineData("0.0.1", 0, 0, 1)]
    [InlineData("10.20.30", 10, 20, 30)]
    [InlineData("999999999.0.0", 999999999, 0, 0)]
    public void TryParse_WellFormed_ReturnsParts(string text, int major, int minor, int patch)
    {
        var parsed = SemanticVersion.TryParse(text, out var version);

        Assert.True(parsed);
        Assert.Equal(new SemanticVersion(major, minor, patch), version);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("1.0")]
    [InlineData("1")]
    [InlineData("1.0.0.0")]
    [InlineData("01.0.0")]
    [InlineData("1.00.0")]
    [InlineData("1.0.01")]
    [InlineData("a.b.c")]
    [InlineData("1.0.x")]
    [InlineData("v1.0.0")]
    [InlineData("-1.0.0")]
    [InlineData("+1.0.0")]
    [InlineData(" 1.0.0")]
    [InlineData("1.0.0 ")]
    [InlineData("1..0")]
    [InlineData("1.0.0-beta")]
    [InlineData("1.0.0+build")]
    [InlineData("1234567890.0.0")]
    [InlineData("١.٠.٠")]
    public void TryParse_Malformed_ReturnsFalse(string? text)
    {
        var parsed = SemanticVersion.TryParse(text, out var version);

        Assert.False(parsed);
        Assert.Equal(default, version);
    }

    [Fact]
    public void ToString_FormatsMajorMinorPatch()
    {
        var version = new SemanticVersion(2, 10, 3);

        var text = version.ToString();

        Assert.Equal("2.10.3", text);
    }

    [Theory]
    [InlineData("1.0.0")]
    [InlineData("0.12.7")]
    [InlineData("42.0.1000")]
    public void ToString_AfterTryParse_RoundTrips(string text)
    {
        SemanticVersion.TryParse(text, out var version);

        var formatted = version.ToString();

        Assert.Equal(text, formatted);
    }

    [Fact]
    public void Initial_IsOneZeroZero()
    {
        var initial = SemanticVersion.Initial;

        Assert.Equal("1.0.0", initial.ToString());
    }

    [Theory]
    [InlineData("1.0.0", "2.0.0")]
    [InlineData("1.9.9", "2.0.0")]
    [InlineData("1.2.3", "1.10.0")]
    [InlineData("1.2.3", "1.2.10")]
    [InlineData("9.9.9", "10.0.0")]
    public void CompareTo_SmallerFirst_OrdersNumerically(string smaller, string larger)
    {
        SemanticVersion.TryParse(smaller, out var a);
        SemanticVersion.TryParse(larger, out var b);

        var forward = a.CompareTo(b);
        var backward = b.CompareTo(a);

        Assert.True(forward < 0);
        Assert.True(backward > 0);
    }

    [Fact]
    public void CompareTo_Equal_ReturnsZero()
    {
        var a = new SemanticVersion(1, 2, 3);

        var comparison = a.CompareTo(new SemanticVersion(1, 2, 3));

        Assert.Equal(0, comparison);
    }

    [Fact]
    public void CompareTo_Sorting_UsesNumbersNotText()
    {
        string[] texts = ["1.10.0", "1.2.0", "10.0.0", "2.0.0", "1.2.10", "1.2.9"];
        var versions = texts.Select(t => { SemanticVersion.TryParse(t, out var v); return v; }).ToList();

        versions.Sort();

        Assert.Equal(["1.2.0", "1.2.9", "1.2.10", "1.10.0", "2.0.0", "10.0.0"], versions.Select(v => v.ToString()));
    }

    [Theory]
    [InlineData(VersionBump.Major, "2.0.0")]
    [InlineData(VersionBump.Minor, "1.3.0")]
    [InlineData(VersionBump.Patch, "1.2.4")]
    public void Bump_FromOneTwoThree_ResetsLowerParts(VersionBump bump, string expected)
    {
        var version = new SemanticVersion(1, 2, 3);

        var bumped = version.Bump(bump);

        Assert.Equal(expected, bumped.ToString());
    }

    [Fact]
    public void VersionBump_Order_MajorIsLargest()
    {
        var bumps = new[] { VersionBump.Major, VersionBump.Patch, VersionBump.Minor };

        var ordered = bumps.Order().ToArray();

        Assert.Equal([VersionBump.Patch, VersionBump.Minor, VersionBump.Major], ordered);
    }
}
