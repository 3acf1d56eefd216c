using PromptVault.Core.Prompts;

namespace PromptVault.Core.Tests.Prompts;

public sealed class VersionLifecycleTests
{
    [Theory]
    [InlineData(VersionStatus.Draft, VersionStatus.Review)]
    [InlineData(VersionStatus.Draft, VersionStatus.Archived)]
    [InlineData(VersionStatus.Review, VersionStatus.Approved)]
    [InlineData(VersionStatus.Review, VersionStatus.Draft)]
    [InlineData(VersionStatus.Review, VersionStatus.Archived)]
    [InlineData(VersionStatus.Approved, VersionStatus.Review)]
    [InlineData(VersionStatus.Approved, VersionStatus.Archived)]
    [InlineData(VersionStatus.Deprecated, VersionStatus.Archived)]
    public void CanMove_DocumentedMove_IsAllowed(VersionStatus from, VersionStatus to)
    {
        var allowed = VersionLifecycle.CanMove(from, to);

        Assert.True(allowed);
    }

    [Theory]
    [InlineData(VersionStatus.Draft, VersionStatus.Production)]
    [InlineData(VersionStatus.Review, VersionStatus.Production)]
    [InlineData(VersionStatus.Approved, VersionStatus.Production)]
    [InlineData(VersionStatus.Deprecated, VersionStatus.Production)]
    [InlineData(VersionStatus.Draft, VersionStatus.Approved)]
    [InlineData(VersionStatus.Draft, VersionStatus.Deprecated)]
    [InlineData(VersionStatus.Production, VersionStatus.Deprecated)]
    [InlineData(VersionStatus.Production, VersionStatus.Archived)]
    [InlineData(VersionStatus.Deprecated, VersionStatus.Draft)]
    public void CanMove_UndocumentedMove_IsRefused(VersionStatus from, VersionStatus to)
    {
        var allowed = VersionLifecycle.CanMove(from, to);

        Assert.False(allowed);
    }

    [Fact]
    public void CanMove_FromArchived_NothingIsAllowed()
    {
        var targets = Enum.GetValues<VersionStatus>();

        var allowed = targets.Where(to => VersionLifecycle.CanMove(VersionStatus.Archived, to));

        Assert.Empty(allowed);
        Assert.Empty(VersionLifecycle.AllowedMoves(VersionStatus.Archived));
    }

    [Fact]
    public void CanMove_ToProduction_IsNeverAManualMove()
    {
        var sources = Enum.GetValues<VersionStatus>();

        var allowed = sources.Where(from => VersionLifecycle.CanMove(from, VersionStatus.Production));

        Assert.Empty(allowed);
    }

    [Fact]
    public void AllowedMoves_EveryStatus_AgreesWithCanMove()
    {
        var statuses = Enum.GetValues<VersionStatus>();

        var pairs = statuses.SelectMany(from => statuses.Select(to => (from, to)));

        Assert.All(pairs, p => Assert.Equal(VersionLifecycle.CanMove(p.from, p.to), VersionLifecycle.AllowedMoves(p.from).Contains(p.to)));
    }

    [Theory]
    [InlineData(VersionStatus.Draft, true)]
    [InlineData(VersionStatus.Review, true)]
    [InlineData(VersionStatus.Approved, true)]
    [InlineData(VersionStatus.Production, true)]
    [InlineData(VersionStatus.Deprecated, true)]
    [InlineData(VersionStatus.Archived, false)]
    public void CanPromote_OnlyArchived_IsRefused(VersionStatus status, bool expected)
    {
        var canPromote = VersionLifecycle.CanPromote(status);

        Assert.Equal(expected, canPromote);
    }
}
