namespace PromptVault.Core.Prompts;

/// <summary>What role a prompt's text plays. Serialized in kebab case (<c>few-shot</c>).</summary>
public enum PromptType
{
    System,
    User,
    Assistant,
    FewShot,
    Template,
}
