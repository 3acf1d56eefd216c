using System.Text.Json.Serialization;

namespace PromptVault.Core.Prompts;

/// <summary>
/// One message of a chat prompt (SPEC §7): in a version, <paramref name="Content"/> is a template (or, for a
/// <see cref="MessageRole.Placeholder"/>, the name of an <c>array</c> variable); in a render, the rendered text.
/// </summary>
public sealed record PromptMessage([property: JsonRequired] MessageRole Role, string Content);
