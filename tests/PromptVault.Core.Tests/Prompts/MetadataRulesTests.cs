using PromptVault.Core.Prompts;

namespace PromptVault.Core.Tests.Prompts;

public sealed class MetadataRulesTests
{
    [Fact]
    public void Validate_Empty_Accepted()
    {
        var metadata = PromptMetadata.Empty;

        var error = Record.Exception(() => MetadataRules.Validate(metadata));

        Assert.Null(error);
    }

    [Fact]
    public void Validate_BoundaryValues_Accepted()
    {
        var low = new PromptMetadata { Temperature = 0, TopP = 0, FrequencyPenalty = -2, PresencePenalty = -2, MaxTokens = 1 };
        var high = new PromptMetadata { Temperature = 2, TopP = 1, FrequencyPenalty = 2, PresencePenalty = 2, MaxTokens = int.MaxValue };

        var errors = new[] { low, high }.Select(m => Record.Exception(() => MetadataRules.Validate(m)));

        Assert.All(errors, Assert.Null);
    }

    private static PromptMetadata With(string field, double value) => field switch
    {
        "temperature" => new PromptMetadata { Temperature = value },
        "topP" => new PromptMetadata { TopP = value },
        "frequencyPenalty" => new PromptMetadata { FrequencyPenalty = value },
        "presencePenalty" => new PromptMetadata { PresencePenalty = value },
        "maxTokens" => new PromptMetadata { MaxTokens = (int)value },
        _ => throw new ArgumentOutOfRangeException(nameof(field)),
    };

    [Theory]
    [InlineData("temperature", -0.01)]
    [InlineData("temperature", 2.01)]
    [InlineData("temperature", double.NaN)]
    [InlineData("temperature", double.PositiveInfinity)]
    [InlineData("topP", -0.1)]
    [InlineData("topP", 1.1)]
    [InlineData("frequencyPenalty", -2.5)]
    [InlineData("frequencyPenalty", 2.5)]
    [InlineData("presencePenalty", -2.5)]
    [InlineData("presencePenalty", 2.5)]
    [InlineData("maxTokens", 0)]
    [InlineData("maxTokens", -5)]
    public void Validate_OutOfRange_RefusedNamingField(string field, double value)
    {
        var metadata = With(field, value);

        var error = Assert.Throws<InvalidInputException>(() => MetadataRules.Validate(metadata));

        Assert.Equal("out_of_range", error.Code);
        Assert.Equal($"metadata.{field}", error.Field);
        Assert.Contains($"metadata.{field}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_ModelNameTooLong_Refused()
    {
        var metadata = new PromptMetadata { Model = new string('m', PromptRules.MaxNameLength + 1) };

        var error = Assert.Throws<InvalidInputException>(() => MetadataRules.Validate(metadata));

        Assert.Equal("metadata.model", error.Field);
    }

    [Fact]
    public void Validate_BlankTag_RefusedNamingIndex()
    {
        var metadata = new PromptMetadata { Tags = ["support", ""] };

        var error = Assert.Throws<InvalidInputException>(() => MetadataRules.Validate(metadata));

        Assert.Equal("metadata.tags[1]", error.Field);
    }
}
