using PromptVault.Core.Prompts;
using PromptVault.Core.Versioning;
using static PromptVault.Core.Tests.Support.Values;

namespace PromptVault.Core.Tests.Versioning;

public sealed class ContractChangeTests
{
    private static readonly VariableDefinition Name = new("name", Required: true);
    private static readonly VariableDefinition Tone = new("tone");

    [Fact]
    public void Between_RequiredWithoutDefaultAdded_IsMajor()
    {
        VariableDefinition[] next = [Name, Tone, new("order_id", Required: true)];

        var change = ContractChange.Between([Name, Tone], next);

        Assert.Equal(VersionBump.Major, change.RequiredBump);
        Assert.Contains(change.Reasons, r => r.Contains("'order_id'", StringComparison.Ordinal));
    }

    [Fact]
    public void Between_VariableRemoved_IsMajor()
    {
        VariableDefinition[] next = [Name];

        var change = ContractChange.Between([Name, Tone], next);

        Assert.Equal(VersionBump.Major, change.RequiredBump);
        Assert.Contains(change.Reasons, r => r.Contains("'tone' was removed", StringComparison.Ordinal));
    }

    [Fact]
    public void Between_TypeChanged_IsMajor()
    {
        VariableDefinition[] next = [Name, Tone with { Type = VariableType.Number }];

        var change = ContractChange.Between([Name, Tone], next);

        Assert.Equal(VersionBump.Major, change.RequiredBump);
        Assert.Contains(change.Reasons, r => r.Contains("from string to number", StringComparison.Ordinal));
    }

    [Fact]
    public void Between_OptionalBecameRequiredWithoutDefault_IsMajor()
    {
        VariableDefinition[] next = [Name, Tone with { Required = true }];

        var change = ContractChange.Between([Name, Tone], next);

        Assert.Equal(VersionBump.Major, change.RequiredBump);
        Assert.Contains(change.Reasons, r => r.Contains("'tone' became required", StringComparison.Ordinal));
    }

    [Fact]
    public void Between_DefaultRemovedFromRequired_IsMajor()
    {
        var withDefault = new VariableDefinition("tone", Required: true, DefaultValue: Json("\"warm\""));

        var change = ContractChange.Between([withDefault], [withDefault with { DefaultValue = null }]);

        Assert.Equal(VersionBump.Major, change.RequiredBump);
    }

    [Fact]
    public void Between_OptionalAdded_IsMinor()
    {
        VariableDefinition[] next = [Name, Tone, new("signature")];

        var change = ContractChange.Between([Name, Tone], next);

        Assert.Equal(VersionBump.Minor, change.RequiredBump);
        Assert.Contains(change.Reasons, r => r.Contains("'signature'", StringComparison.Ordinal));
    }

    [Fact]
    public void Between_RequiredWithDefaultAdded_IsMinor()
    {
        VariableDefinition[] next = [Name, Tone, new("language", Required: true, DefaultValue: Json("\"en\""))];

        var change = ContractChange.Between([Name, Tone], next);

        Assert.Equal(VersionBump.Minor, change.RequiredBump);
    }

    [Fact]
    public void Between_RequiredBecameOptional_IsPatch()
    {
        VariableDefinition[] next = [Name with { Required = false }, Tone];

        var change = ContractChange.Between([Name, Tone], next);

        Assert.Equal(VersionBump.Patch, change.RequiredBump);
    }

    [Fact]
    public void Between_OnlyDescriptionsChanged_IsPatchWithoutReasons()
    {
        VariableDefinition[] next = [Name with { Description = "who we greet" }, Tone with { Description = "how we sound" }];

        var change = ContractChange.Between([Name, Tone], next);

        Assert.Equal(VersionBump.Patch, change.RequiredBump);
        Assert.Empty(change.Reasons);
    }

    [Fact]
    public void Between_SameVariablesInAnotherOrder_IsPatch()
    {
        VariableDefinition[] next = [Tone, Name];

        var change = ContractChange.Between([Name, Tone], next);

        Assert.Equal(VersionBump.Patch, change.RequiredBump);
    }

    [Fact]
    public void Between_NewValidationPattern_IsMajor()
    {
        VariableDefinition[] next = [Name with { Validation = "^[A-Z]" }, Tone];

        var change = ContractChange.Between([Name, Tone], next);

        Assert.Equal(VersionBump.Major, change.RequiredBump);
    }

    [Fact]
    public void Between_MajorAndMinorChanges_IsMajorWithMajorReasons()
    {
        VariableDefinition[] next = [Name, new("signature")];

        var change = ContractChange.Between([Name, Tone], next);

        Assert.Equal(VersionBump.Major, change.RequiredBump);
        Assert.All(change.Reasons, r => Assert.DoesNotContain("'signature'", r, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(VersionBump.Patch, null, VersionBump.Patch)]
    [InlineData(VersionBump.Patch, VersionBump.Minor, VersionBump.Minor)]
    [InlineData(VersionBump.Patch, VersionBump.Major, VersionBump.Major)]
    [InlineData(VersionBump.Minor, VersionBump.Major, VersionBump.Major)]
    [InlineData(VersionBump.Major, VersionBump.Major, VersionBump.Major)]
    [InlineData(VersionBump.Minor, null, VersionBump.Minor)]
    public void Resolve_RequestedAtLeastRequired_ReturnsLarger(VersionBump required, VersionBump? requested, VersionBump expected)
    {
        var change = new ContractChange(required, []);

        var bump = change.Resolve(requested);

        Assert.Equal(expected, bump);
    }

    [Fact]
    public void Resolve_RequestedSmallerThanRequired_RefusedNamingReasons()
    {
        var change = ContractChange.Between([Name, Tone], [Name]);

        var error = Assert.Throws<InvalidInputException>(() => change.Resolve(VersionBump.Minor));

        Assert.Equal("bump_too_small", error.Code);
        Assert.Equal("bump", error.Field);
        Assert.Contains("'minor'", error.Message, StringComparison.Ordinal);
        Assert.Contains("'major'", error.Message, StringComparison.Ordinal);
        Assert.Contains("variable 'tone' was removed", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_PatchRequestedForMinorChange_Refused()
    {
        var change = ContractChange.Between([Name], [Name, Tone]);

        var error = Assert.Throws<InvalidInputException>(() => change.Resolve(VersionBump.Patch));

        Assert.Equal("bump_too_small", error.Code);
        Assert.Contains("'tone'", error.Message, StringComparison.Ordinal);
    }
}
