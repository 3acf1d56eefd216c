using System.Text.Json;
using Microsoft.Extensions.AI;

namespace PromptVault.Core.Prompts;

/// <summary>A version's model settings, tools and response format as Microsoft.Extensions.AI options: the one mapping the SDK
/// and the server's model calls share.</summary>
public static class PromptMetadataChatOptions
{
    /// <summary>A new <see cref="ChatOptions"/> per call (callers may change it) carrying <paramref name="metadata"/>'s model settings,
    /// tools and response format.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="metadata"/> is null.</exception>
    public static ChatOptions ToChatOptions(this PromptMetadata metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        var (tools, responseFormat) = ToolsAndFormat(metadata);
        return metadata.ToChatOptions(tools, responseFormat);
    }

    /// <summary>As <see cref="ToChatOptions(PromptMetadata)"/> with tools and format built before (by <see cref="ToolsAndFormat"/>):
    /// they are immutable, so a caller that serves a version many times builds them once.</summary>
    public static ChatOptions ToChatOptions(this PromptMetadata metadata, IReadOnlyList<AITool>? tools, ChatResponseFormat? responseFormat)
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
            Tools = tools is null ? null : [.. tools],
            ResponseFormat = responseFormat,
        };
    }

    /// <summary>
    /// Each tool as an <see cref="AIFunctionDeclaration"/> (a name, description and schema the model may call, which the
    /// application invokes itself), and the response format as a JSON-schema format named by its <c>title</c>, if any.
    /// </summary>
    public static (AITool[]? Tools, ChatResponseFormat? ResponseFormat) ToolsAndFormat(PromptMetadata metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        var tools = metadata.Tools is { Count: > 0 } declared
            ? declared.Select(AITool (tool) => AIFunctionFactory.CreateDeclaration(tool.Name, tool.Description, Schema(tool.Parameters))).ToArray()
            : null;
        var format = metadata.ResponseFormat is { ValueKind: JsonValueKind.Object } schema
            ? ChatResponseFormat.ForJsonSchema(schema, Text(schema, "title"), Text(schema, "description"))
            : null;
        return (tools, format);
    }

    // The server refuses a tool without an object schema; a hand-made fallback file may still lack one.
    private static JsonElement Schema(JsonElement? parameters) =>
        parameters is { ValueKind: JsonValueKind.Object } schema ? schema : EmptyObjectSchema;

    private static readonly JsonElement EmptyObjectSchema = JsonDocument.Parse("""{"type":"object","properties":{}}""").RootElement;

    private static string? Text(JsonElement schema, string property) =>
        schema.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
