using System.Text.Json;
using Microsoft.Extensions.AI;
using PromptVault.Core.Prompts;

namespace PromptVault.Client.Snapshots;

/// <summary>A version's <c>tools</c> and <c>responseFormat</c> (SPEC §7) as Microsoft.Extensions.AI options.</summary>
internal static class ToolOptions
{
    /// <summary>
    /// Each tool as an <see cref="AIFunctionDeclaration"/> (a name, description and schema the model may call, which the
    /// application invokes itself), and the response format as a JSON-schema format named by its <c>title</c>, if any.
    /// </summary>
    public static (AITool[]? Tools, ChatResponseFormat? ResponseFormat) From(PromptMetadata metadata)
    {
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

    /// <summary>
    /// The caller's tools, then the version's declarations the caller does not supply by name: a caller's own
    /// <see cref="AIFunction"/> of the same name is the one a function-invoking client can run.
    /// </summary>
    public static IList<AITool>? Merge(IList<AITool>? callers, IList<AITool>? versions)
    {
        if (versions is not { Count: > 0 }) return callers;
        if (callers is not { Count: > 0 }) return versions;
        var supplied = callers.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        return [.. callers, .. versions.Where(t => !supplied.Contains(t.Name))];
    }
}
