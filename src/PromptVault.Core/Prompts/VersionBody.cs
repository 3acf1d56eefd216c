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

    /// <summary>Whether a version of this body that declared <paramref name="declared"/> stores what <paramref name="other"/> that declared
    /// <paramref name="otherDeclared"/> does: a variable declared, or left to the include that joins it, is a change though the joined
    /// contract is the same.</summary>
    public bool SameAs(VersionBody other, IReadOnlyList<VariableDefinition> declared, IReadOnlyList<VariableDefinition> otherDeclared) =>
        SameAs(other) && Canonical.Json(declared) == Canonical.Json(otherDeclared);
}
