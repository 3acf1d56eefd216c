using System.Text.Json;
using PromptVault.Core.Contracts;
using PromptVault.Core.Prompts;
using PromptVault.Core.Templates;

namespace PromptVault.Core.Tests.Contracts;

/// <summary>The render route writes its answer with <see cref="PromptVaultJson.RenderResponse"/>, every other route with the API's options and <see cref="PromptVaultJson.AnswerEncoder"/>.</summary>
public sealed class RenderResponseJsonTests
{
    public static TheoryData<string> Responses() => new(nameof(Text), nameof(Chat), nameof(Bare));

    private static readonly RenderResponse Text = new(
        "Hello \"Ana\"\n<b>&</b> \u00e9\u2028 \ud83d\ude00", "support/agent", "1.2.3", "v-1", "x-1", "b-2",
        new PromptMetadata
        {
            Model = "gpt-4o-mini", Temperature = 0.3, MaxTokens = 500, TopP = 1e-7, FrequencyPenalty = -0.5, PresencePenalty = 2,
            Tags = ["a", "b"], Category = "support",
            Tools = [new ToolDefinition("lookup", "Finds an order", JsonDocument.Parse("""{"type":"object","properties":{"id":{"type":"string"}}}""").RootElement)],
            ResponseFormat = JsonDocument.Parse("""{"type":"json_schema","strict":true,"n":[1,2.5,null]}""").RootElement,
        })
    {
        References = [new ReferencedVersion("guard", "1.0.0", "v-9")],
    };

    private static readonly RenderResponse Chat = new(null, "chat", "2.0.0", "v-2", null, null, new PromptMetadata())
    {
        Messages = [new PromptMessage(MessageRole.System, "Be brief."), new PromptMessage(MessageRole.User, "Hi"), new PromptMessage(MessageRole.Assistant, "Hello")],
    };

    private static readonly RenderResponse Bare = new("", "p", "0.0.1", "v-3", null, null, new PromptMetadata { Tools = [new ToolDefinition("t", null, null)] });

    [Theory]
    [MemberData(nameof(Responses))]
    public void RenderResponse_WrittenLikeTheApiOptionsWriteIt(string name)
    {
        var response = name switch { nameof(Text) => Text, nameof(Chat) => Chat, _ => Bare };

        var fast = JsonSerializer.Serialize(response, PromptVaultJson.RenderResponse);

        Assert.Equal(JsonSerializer.Serialize(response, new JsonSerializerOptions(PromptVaultJson.Options) { Encoder = PromptVaultJson.AnswerEncoder }), fast);
    }

    [Fact]
    public void RenderResponse_HasTheGeneratedFastPath()
    {
        Assert.NotNull(PromptVaultJson.RenderResponse.SerializeHandler);
    }
}
