namespace PromptVault.Core.Prompts;

/// <summary>Model settings stored with a version.</summary>
public sealed record PromptMetadata
{
    public string? Model { get; init; }
    public double? Temperature { get; init; }
    public int? MaxTokens { get; init; }
    public double? TopP { get; init; }
    public double? FrequencyPenalty { get; init; }
    public double? PresencePenalty { get; init; }
    public IReadOnlyList<string>? Tags { get; init; }
    public string? Category { get; init; }

    /// <summary>Metadata with nothing set.</summary>
    public static PromptMetadata Empty { get; } = new();
}
