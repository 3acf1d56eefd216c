namespace PromptVault.Core.Prompts;

/// <summary>The JSON type a variable's value must have.</summary>
public enum VariableType
{
    String,
    Number,
    Boolean,
    Array,
    Object,
}
