using PromptVault.Core.Versioning;

namespace PromptVault.Core.Prompts;

/// <summary>A version's approval: by a key other than its author's (compared by key name, which is what versions and the audit record).</summary>
public sealed record Approval(string By, DateTimeOffset At);

/// <summary>
/// An immutable version of a prompt. Only <see cref="Status"/> changes after it is written.
/// </summary>
/// <param name="Sequence">1 for the first version, then consecutive: the store's guard against two writers taking one number.</param>
public sealed record PromptVersion(
    string Id,
    string PromptId,
    int Sequence,
    SemanticVersion Version,
    string Content,
    IReadOnlyList<VariableDefinition> Variables,
    PromptMetadata Metadata,
    string ChangeDescription,
    string CreatedBy,
    DateTimeOffset CreatedAt,
    VersionStatus Status)
{
    /// <summary>A chat prompt's messages (SPEC §7), whose templates stand in for <see cref="Content"/> (then empty); null for a text prompt.</summary>
    public IReadOnlyList<PromptMessage>? Messages { get; init; }

    /// <summary>
    /// The variables the version declared itself, before those of the prompts it includes joined <see cref="Variables"/> (SPEC §7):
    /// what a new version that sends no variables inherits, so a variable an included prompt has since dropped is not carried on as
    /// if declared. Null for a version saved before this was kept, or imported from a document without it: see <see cref="Declared"/>.
    /// </summary>
    public IReadOnlyList<VariableDefinition>? DeclaredVariables { get; init; }

    /// <summary>The variables the version declared; a version that did not record them (<see cref="DeclaredVariables"/> null) is read as
    /// having declared its whole contract, so nothing its author may have declared is lost (what was joined stays until a version sends
    /// its variables).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public IReadOnlyList<VariableDefinition> Declared => DeclaredVariables ?? Variables;

    /// <summary>What the version says: content or messages, variables and metadata.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public VersionBody Body => new(Content, Variables, Metadata, Messages);

    /// <summary>Who approved it and when, kept when it moves on (production, deprecated, archived); null when it was never approved
    /// or went back to review or draft.</summary>
    public Approval? Approval { get; init; }
}
