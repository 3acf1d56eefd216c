namespace PromptVault.Core.Prompts;

/// <summary>The lifecycle of a version; allowed moves are in <see cref="VersionLifecycle"/>.</summary>
public enum VersionStatus
{
    Draft,
    Review,
    Approved,
    Production,
    Deprecated,
    Archived,
}
