namespace PromptVault.Core.Prompts;

/// <summary>
/// The approval gate (SPEC §7, docs/lifecycle.md#approvals): a version is approved by a key other than its author's, and a
/// prompt with <see cref="Prompt.RequireApproval"/> promotes only approved versions. Keys are compared by name, which is
/// what versions and the audit log record: two keys with one name are one person there, so they cannot approve each other.
/// </summary>
public static class ApprovalRules
{
    /// <exception cref="ForbiddenException"><paramref name="actor"/> wrote the version (<c>self_approval</c>).</exception>
    public static void EnsureCanApprove(PromptVersion version, string actor)
    {
        ArgumentNullException.ThrowIfNull(version);
        if (string.Equals(version.CreatedBy, actor, StringComparison.Ordinal))
            throw new ForbiddenException("self_approval",
                $"version {version.Version} was written by '{actor}', who cannot approve it: a key with another name must approve it.");
    }

    /// <summary>
    /// The statuses a version of <paramref name="status"/> that the gate refuses moves to, in order, to be approved: a draft
    /// goes to review first, and so does a version approved before approvals were recorded; null when it can no longer be.
    /// </summary>
    public static IReadOnlyList<VersionStatus>? StepsToApproval(VersionStatus status) => status switch
    {
        VersionStatus.Draft or VersionStatus.Approved => [VersionStatus.Review, VersionStatus.Approved],
        VersionStatus.Review => [VersionStatus.Approved],
        _ => null,
    };

    /// <summary>Why <paramref name="version"/> may not become production under the prompt's gate; null when it may.</summary>
    public static ConflictException? PromotionRefused(Prompt prompt, PromptVersion version)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentNullException.ThrowIfNull(version);
        if (!prompt.RequireApproval || version.Approval is not null)
            return null;
        var approve = $"(POST /api/prompts/{prompt.Name}/versions/{version.Version}/status {{\"status\":\"approved\"}}) by a key other than its author's, then promote it";
        var next = StepsToApproval(version.Status) switch
        {
            null => "it can no longer be approved: roll back to an approved version, or create a new version and have it approved",
            [VersionStatus.Approved] => $"approve it {approve}",
            _ when version.Status == VersionStatus.Approved => $"move it back to review and approve it again {approve}",
            _ => $"move it to review, then approve it {approve}",
        };
        return new ConflictException("approval_required",
            $"prompt '{prompt.Name}' requires approval: version {version.Version} is {Names.Of(version.Status)} and not approved; {next}.", "version");
    }
}
