using System.Text.Json;

namespace PromptVault.Core.Prompts;

/// <summary>A function the model may call (SPEC §7), stored with a version's metadata.</summary>
/// <param name="Name">The function's name, unique within the version: 1–64 characters of <c>a-z A-Z 0-9 _ -</c>.</param>
/// <param name="Description">What the function does, for the model.</param>
/// <param name="Parameters">The function's arguments as a JSON schema of <c>"type": "object"</c>.</param>
public sealed record ToolDefinition(string Name, string? Description, JsonElement? Parameters);
