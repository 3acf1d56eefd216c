namespace PromptVault.Core.Prompts;

/// <summary>The ranges model settings may take (those the common providers accept).</summary>
public static class MetadataRules
{
    public static void Validate(PromptMetadata metadata)
    {
        PromptRules.ValidateLength(metadata.Model, PromptRules.MaxNameLength, "metadata.model");
        InRange(metadata.Temperature, 0, 2, "metadata.temperature");
        InRange(metadata.TopP, 0, 1, "metadata.topP");
        InRange(metadata.FrequencyPenalty, -2, 2, "metadata.frequencyPenalty");
        InRange(metadata.PresencePenalty, -2, 2, "metadata.presencePenalty");
        if (metadata.MaxTokens is <= 0)
            throw new InvalidInputException("out_of_range", $"metadata.maxTokens must be a positive whole number, not {metadata.MaxTokens}.", "metadata.maxTokens");
        PromptRules.ValidateTags(metadata.Tags, "metadata.tags");
        PromptRules.ValidateLength(metadata.Category, PromptRules.MaxTagLength, "metadata.category");
    }

    private static void InRange(double? value, double min, double max, string field)
    {
        if (value is { } v && (!double.IsFinite(v) || v < min || v > max))
            throw new InvalidInputException("out_of_range", $"{field} must be between {min} and {max}, not {v}.", field);
    }
}
