using System.Buffers;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using PromptVault.Core.Contracts;
using PromptVault.Core.Prompts;
using PromptVault.Core.Templates;

namespace PromptVault.Core.Tests.Contracts;

/// <summary>The render route writes its answer with <see cref="PromptVaultJson.WriteRenderResponse"/>, every other route with the API's options and <see cref="PromptVaultJson.AnswerEncoder"/>.</summary>
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

        var fast = Written(response);

        Assert.Equal(JsonSerializer.Serialize(response, new JsonSerializerOptions(PromptVaultJson.Options) { Encoder = PromptVaultJson.AnswerEncoder }), fast);
    }

    /// <summary>
    /// System.Text.Json takes the generated fast path only when the options allow it (no converters, no encoder of their own:
    /// stop 40 set one and the fast path went off unnoticed), which it says in an internal flag; read by reflection, so that a
    /// framework without the flag fails here rather than passing vacuously.
    /// </summary>
    [Fact]
    public void RenderResponse_TakesTheGeneratedFastPath()
    {
        Written(Text);
        var flag = typeof(JsonTypeInfo).GetProperty("CanUseSerializeHandler", BindingFlags.Instance | BindingFlags.NonPublic);

        Assert.NotNull(flag);
        Assert.True((bool)flag.GetValue(PromptVaultJson.RenderResponseFastPath)!);
    }

    private static string Written(RenderResponse response)
    {
        var buffer = new ArrayBufferWriter<byte>();
        PromptVaultJson.WriteRenderResponse(buffer, response);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
