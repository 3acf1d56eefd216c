using System.ComponentModel.DataAnnotations;
using System.Text.Json;

namespace PromptVault.Core.Prompts;

/// <summary>Model settings stored with a version.</summary>
public sealed record PromptMetadata
{
    public string? Model { get; init; }
    [Range(MetadataRules.MinTemperature, MetadataRules.MaxTemperature)] public double? Temperature { get; init; }
    [Range(MetadataRules.MinMaxTokens, int.MaxValue)] public int? MaxTokens { get; init; }
    [Range(MetadataRules.MinTopP, MetadataRules.MaxTopP)] public double? TopP { get; init; }
    [Range(MetadataRules.MinPenalty, MetadataRules.MaxPenalty)] public double? FrequencyPenalty { get; init; }
    [Range(MetadataRules.MinPenalty, MetadataRules.MaxPenalty)] public double? PresencePenalty { get; init; }
    public IReadOnlyList<string>? Tags { get; init; }
    public string? Category { get; init; }

    /// <summary>The functions the model may call (SPEC §7); null when the version offers none.</summary>
    public IReadOnlyList<ToolDefinition>? Tools { get; init; }

    /// <summary>The JSON schema the model's answer must follow (structured output); null for free text.</summary>
    public JsonElement? ResponseFormat { get; init; }

    /// <summary>Metadata with nothing set.</summary>
    public static PromptMetadata Empty { get; } = new();
}
