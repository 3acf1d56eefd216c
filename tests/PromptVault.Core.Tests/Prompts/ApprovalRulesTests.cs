using PromptVault.Core.Prompts;
using PromptVault.Core.Storage;
using PromptVault.Core.Versioning;

namespace PromptVault.Core.Tests.Prompts;

public sealed class ApprovalRulesTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 1, 9, 0, 0, TimeSpan.Zero);
    private static readonly Prompt Gated = new("p1", "support", "", PromptType.System, [], null, At, "alice", At, "alice") { RequireApproval = true };

    private static PromptVersion Version(VersionStatus status, Approval? approval = null) =>
        new("v1", "p1", 1, new SemanticVersion(1, 0, 2), "Hi", [], PromptMetadata.Empty, "Initial version", "alice", At, status) { Approval = approval };

    [Fact]
    public void EnsureCanApprove_Author_ThrowsSelfApproval_OtherKeyPasses()
    {
        var error = Assert.Throws<ForbiddenException>(() => ApprovalRules.EnsureCanApprove(Version(VersionStatus.Review), "alice"));

        Assert.Equal("self_approval", error.Code);
        Assert.Contains("1.0.2", error.Message);
        ApprovalRules.EnsureCanApprove(Version(VersionStatus.Review), "bob");
    }

    [Theory]
    [InlineData(VersionStatus.Draft, "move it to review")]
    [InlineData(VersionStatus.Review, "approve it (POST")]
    [InlineData(VersionStatus.Deprecated, "roll back to an approved version")]
    public void PromotionRefused_GatedAndUnapproved_NamesVersionStatusAndNextStep(VersionStatus status, string next)
    {
        var refused = ApprovalRules.PromotionRefused(Gated, Version(status));

        Assert.NotNull(refused);
        Assert.Equal("approval_required", refused.Code);
        Assert.Contains($"version 1.0.2 is {Names.Of(status)}", refused.Message);
        Assert.Contains(next, refused.Message);
    }

    [Fact]
    public void PromotionRefused_ApprovedOrUngated_Null()
    {
        Assert.Null(ApprovalRules.PromotionRefused(Gated, Version(VersionStatus.Deprecated, new Approval("bob", At))));
        Assert.Null(ApprovalRules.PromotionRefused(Gated with { RequireApproval = false }, Version(VersionStatus.Draft)));
    }

    [Fact]
    public void StatusChangeOf_SetsApprovalOnApprove_KeepsItOnPromote_DropsItBackInReview()
    {
        var approval = new Approval("bob", At);
        var approved = Version(VersionStatus.Approved, approval);

        Assert.Equal(approval, StatusChange.Of(Version(VersionStatus.Review), VersionStatus.Approved, approval).Approval);
        Assert.Equal(approval, StatusChange.Of(approved, VersionStatus.Production).Approval);
        Assert.Null(StatusChange.Of(approved, VersionStatus.Review).Approval);
    }
}
