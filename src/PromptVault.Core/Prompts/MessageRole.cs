using System.Text.Json.Serialization;

namespace PromptVault.Core.Prompts;

/// <summary>The role of a chat prompt's message (SPEC §7). Wire names are the <c>[JsonStringEnumMemberName]</c>s.</summary>
public enum MessageRole
{
    [JsonStringEnumMemberName("system")] System,
    [JsonStringEnumMemberName("user")] User,
    [JsonStringEnumMemberName("assistant")] Assistant,

    /// <summary>Not a message: its <see cref="PromptMessage.Content"/> names an <c>array</c> variable whose <c>{ role, content }</c>
    /// items are spliced in at render.</summary>
    [JsonStringEnumMemberName("placeholder")] Placeholder,
}
