using PromptVault.Core.Prompts;

namespace PromptVault.Core.Tests.Prompts;

public sealed class PromptMetadataChatOptionsTests
{
    [Fact]
    public void ToChatOptions_EverySetting_MapsToItsChatOption()
    {
        var metadata = new PromptMetadata { Model = "gpt-4o", Temperature = 0.7, MaxTokens = 256, TopP = 0.9, FrequencyPenalty = -0.5, PresencePenalty = 1.5 };

        var options = metadata.ToChatOptions();

        Assert.Equal("gpt-4o", options.ModelId);
        Assert.Equal(0.7f, options.Temperature);
        Assert.Equal(256, options.MaxOutputTokens);
        Assert.Equal(0.9f, options.TopP);
        Assert.Equal(-0.5f, options.FrequencyPenalty);
        Assert.Equal(1.5f, options.PresencePenalty);
    }

    [Fact]
    public void ToChatOptions_NothingSet_LeavesTheProviderDefaultsAndGivesANewInstanceEachCall()
    {
        var first = PromptMetadata.Empty.ToChatOptions();
        var second = PromptMetadata.Empty.ToChatOptions();

        Assert.NotSame(first, second);
        Assert.Null(first.ModelId);
        Assert.Null(first.Temperature);
        Assert.Null(first.MaxOutputTokens);
        Assert.Null(first.TopP);
    }
}
