namespace PromptVault.Core.Prompts;

/// <summary>
/// What a version says: content (or a chat prompt's messages), variables and metadata. Two versions with equal bodies are the same version
/// (SPEC §1: such a new version is refused), whoever decides it, server or client.
/// </summary>
public sealed record VersionBody(string Content, IReadOnlyList<VariableDefinition> Variables, PromptMetadata Metadata,
    IReadOnlyList<PromptMessage>? Messages = null)
{
    /// <summary>Whether the two bodies are equal, compared in their JSON form.</summary>
    public bool SameAs(VersionBody other) => Canonical.Json(this) == Canonical.Json(other);
}
