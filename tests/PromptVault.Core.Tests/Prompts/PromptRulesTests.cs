using PromptVault.Core.Prompts;

namespace PromptVault.Core.Tests.Prompts;

public sealed class PromptRulesTests
{
    [Theory]
    [InlineData("a")]
    [InlineData("customer-support")]
    [InlineData("support/reply_v2.final")]
    [InlineData("0-9_./-")]
    [InlineData("...")]
    [InlineData("a/.b/..c")]
    [InlineData("abcdefghijklmnopqrstuvwxyz0123456789")]
    public void ValidatePromptName_AllowedCharacters_Accepted(string name)
    {
        var error = Record.Exception(() => PromptRules.ValidatePromptName(name));

        Assert.Null(error);
    }

    [Fact]
    public void Shorten_AnEmojiAtTheCut_IsNotCutInHalf()
    {
        Assert.Equal(new string('x', 59) + "…", PromptRules.Shorten(new string('x', 59) + "😀 and more"));
        Assert.Equal(new string('x', 58) + "😀…", PromptRules.Shorten(new string('x', 58) + "😀 and more"));
    }

    [Fact]
    public void ValidatePromptName_HundredCharacters_Accepted()
    {
        var name = new string('a', 100);

        var error = Record.Exception(() => PromptRules.ValidatePromptName(name));

        Assert.Null(error);
    }

    [Theory]
    [InlineData("Support")]
    [InlineData("has space")]
    [InlineData("tab\there")]
    [InlineData("name\n")]
    [InlineData("\nname")]
    [InlineData("naïve")]
    [InlineData("a:b")]
    [InlineData("a@b")]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData("support/..")]
    [InlineData("./support")]
    [InlineData("a/../b")]
    public void ValidatePromptName_OtherCharacters_RefusedNamingField(string name)
    {
        var error = Assert.Throws<InvalidInputException>(() => PromptRules.ValidatePromptName(name));

        Assert.Equal("invalid_name", error.Code);
        Assert.Equal("name", error.Field);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void ValidatePromptName_Empty_Refused(string? name)
    {
        var error = Assert.Throws<InvalidInputException>(() => PromptRules.ValidatePromptName(name));

        Assert.Equal("invalid_name", error.Code);
        Assert.Contains("required", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ValidatePromptName_HundredAndOneCharacters_Refused()
    {
        var name = new string('a', 101);

        var error = Assert.Throws<InvalidInputException>(() => PromptRules.ValidatePromptName(name));

        Assert.Equal("invalid_name", error.Code);
    }

    [Fact]
    public void ValidatePromptName_CustomField_IsNamed()
    {
        var field = "prompt";

        var error = Assert.Throws<InvalidInputException>(() => PromptRules.ValidatePromptName("Bad", field));

        Assert.Equal("prompt", error.Field);
        Assert.StartsWith("prompt 'Bad'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("production")]
    [InlineData("staging")]
    [InlineData("preview")]
    [InlineData("canary-2")]
    [InlineData("0")]
    public void ValidateLabel_LowercaseDigitsAndDash_Accepted(string label)
    {
        var error = Record.Exception(() => PromptRules.ValidateLabel(label));

        Assert.Null(error);
    }

    [Fact]
    public void ValidateLabel_SixtyFourCharacters_Accepted()
    {
        var label = new string('l', 64);

        var error = Record.Exception(() => PromptRules.ValidateLabel(label));

        Assert.Null(error);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("Production")]
    [InlineData("my_label")]
    [InlineData("a.b")]
    [InlineData("a/b")]
    [InlineData("has space")]
    [InlineData("production\n")]
    [InlineData("lllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllll")]
    public void ValidateLabel_Invalid_RefusedNamingField(string? label)
    {
        var error = Assert.Throws<InvalidInputException>(() => PromptRules.ValidateLabel(label));

        Assert.Equal("invalid_label", error.Code);
        Assert.Equal("label", error.Field);
    }

    [Theory]
    [InlineData("name", true)]
    [InlineData("_private", true)]
    [InlineData("Customer_Name2", true)]
    [InlineData("2name", false)]
    [InlineData("kebab-case", false)]
    [InlineData("name\n", false)]
    public void IsValidVariableName_Identifier_MatchesRule(string name, bool expected)
    {
        var valid = PromptRules.IsValidVariableName(name);

        Assert.Equal(expected, valid);
    }

    [Fact]
    public void ValidateLength_OverLimit_RefusedNamingFieldAndLimit()
    {
        var value = new string('x', 11);

        var error = Assert.Throws<InvalidInputException>(() => PromptRules.ValidateLength(value, 10, "description"));

        Assert.Equal("too_long", error.Code);
        Assert.Equal("description", error.Field);
        Assert.Contains("10", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("0123456789")]
    public void ValidateLength_AtOrUnderLimit_Accepted(string? value)
    {
        var error = Record.Exception(() => PromptRules.ValidateLength(value, 10, "description"));

        Assert.Null(error);
    }

    [Fact]
    public void ValidateTags_BlankTag_RefusedNamingIndex()
    {
        string[] tags = ["ok", " "];

        var error = Assert.Throws<InvalidInputException>(() => PromptRules.ValidateTags(tags, "tags"));

        Assert.Equal("invalid_tag", error.Code);
        Assert.Equal("tags[1]", error.Field);
    }

    [Fact]
    public void ValidateTags_TooMany_Refused()
    {
        var tags = Enumerable.Range(0, PromptRules.MaxTags + 1).Select(i => $"t{i}").ToArray();

        var error = Assert.Throws<InvalidInputException>(() => PromptRules.ValidateTags(tags, "tags"));

        Assert.Equal("too_many", error.Code);
    }
}
