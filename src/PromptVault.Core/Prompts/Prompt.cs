namespace PromptVault.Core.Prompts;

/// <summary>A named prompt; its text lives in its versions.</summary>
public sealed record Prompt(
    string Id,
    string Name,
    string Description,
    PromptType Type,
    IReadOnlyList<string> Tags,
    string? Category,
    DateTimeOffset CreatedAt,
    string CreatedBy,
    DateTimeOffset UpdatedAt,
    string UpdatedBy)
{
    /// <summary>Only versions someone other than their author approved may be promoted (SPEC §7).</summary>
    public bool RequireApproval { get; init; }

    /// <summary>Only versions whose latest evaluation passed may be promoted (SPEC §10).</summary>
    public bool RequireTests { get; init; }
}
