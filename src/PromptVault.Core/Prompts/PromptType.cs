using System.Text.Json.Serialization;

namespace PromptVault.Core.Prompts;

/// <summary>What role a prompt's text plays. Serialized in kebab case (<c>few-shot</c>).</summary>
public enum PromptType
{
    [JsonStringEnumMemberName("system")] System,
    [JsonStringEnumMemberName("user")] User,
    [JsonStringEnumMemberName("assistant")] Assistant,
    [JsonStringEnumMemberName("few-shot")] FewShot,
    [JsonStringEnumMemberName("template")] Template,
}
