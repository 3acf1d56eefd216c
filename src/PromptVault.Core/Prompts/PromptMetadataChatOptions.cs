using Microsoft.Extensions.AI;

namespace PromptVault.Core.Prompts;

/// <summary>A version's model settings as Microsoft.Extensions.AI options: the one mapping the SDK and the server's model calls share.</summary>
public static class PromptMetadataChatOptions
{
    /// <summary>A new <see cref="ChatOptions"/> per call (callers may change it) carrying <paramref name="metadata"/>'s model settings.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="metadata"/> is null.</exception>
    public static ChatOptions ToChatOptions(this PromptMetadata metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        return new ChatOptions
        {
            ModelId = metadata.Model,
            Temperature = (float?)metadata.Temperature,
            MaxOutputTokens = metadata.MaxTokens,
            TopP = (float?)metadata.TopP,
            FrequencyPenalty = (float?)metadata.FrequencyPenalty,
            PresencePenalty = (float?)metadata.PresencePenalty,
        };
    }
}
