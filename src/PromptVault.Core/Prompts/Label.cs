using PromptVault.Core.Versioning;

namespace PromptVault.Core.Prompts;

/// <summary>A named pointer from a prompt to one of its versions.</summary>
public sealed record Label(string PromptId, string Name, string VersionId, SemanticVersion Version, DateTimeOffset UpdatedAt, string UpdatedBy)
{
    /// <summary>The label that serves traffic; moving it is a promote.</summary>
    public const string Production = "production";
}
