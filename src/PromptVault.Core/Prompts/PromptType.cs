using System.Text.Json.Serialization;

namespace PromptVault.Core.Prompts;

/// <summary>What role a prompt's text plays. Wire names are the <c>[JsonStringEnumMemberName]</c>s (<c>few-shot</c>).</summary>
public enum PromptType
{
    [JsonStringEnumMemberName("system")] System,
    [JsonStringEnumMemberName("user")] User,
    [JsonStringEnumMemberName("assistant")] Assistant,
    [JsonStringEnumMemberName("few-shot")] FewShot,
    [JsonStringEnumMemberName("template")] Template,

    /// <summary>A list of messages instead of one text (SPEC §7): versions hold <c>messages</c>, renders return them.</summary>
    [JsonStringEnumMemberName("chat")] Chat,
}
