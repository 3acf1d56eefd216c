namespace PromptVault.Core.Prompts;

/// <summary>
/// The allowed status moves (documented in docs/lifecycle.md). <c>production</c> is entered only by a promote (moving the
/// production label) and left only when another version is promoted, so exactly the labelled version is in production.
/// </summary>
public static class VersionLifecycle
{
    private static readonly Dictionary<VersionStatus, VersionStatus[]> ManualMoves = new()
    {
        [VersionStatus.Draft] = [VersionStatus.Review, VersionStatus.Archived],
        [VersionStatus.Review] = [VersionStatus.Draft, VersionStatus.Approved, VersionStatus.Archived],
        [VersionStatus.Approved] = [VersionStatus.Review, VersionStatus.Archived],
        [VersionStatus.Production] = [],
        [VersionStatus.Deprecated] = [VersionStatus.Archived],
        [VersionStatus.Archived] = [],
    };

    /// <summary>Whether a status request may move a version from <paramref name="from"/> to <paramref name="to"/>.</summary>
    public static bool CanMove(VersionStatus from, VersionStatus to) => ManualMoves[from].Contains(to);

    /// <summary>Whether a version in this status may be promoted to production.</summary>
    public static bool CanPromote(VersionStatus status) => status is not VersionStatus.Archived;

    /// <summary>The statuses a version can be moved to by a status request.</summary>
    public static IReadOnlyList<VersionStatus> AllowedMoves(VersionStatus from) => ManualMoves[from];
}
