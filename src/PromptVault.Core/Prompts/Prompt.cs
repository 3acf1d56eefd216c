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
    string UpdatedBy);
