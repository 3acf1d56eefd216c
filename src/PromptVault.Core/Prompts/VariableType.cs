using System.Text.Json.Serialization;

namespace PromptVault.Core.Prompts;

/// <summary>The JSON type a variable's value must have.</summary>
public enum VariableType
{
    [JsonStringEnumMemberName("string")] String,
    [JsonStringEnumMemberName("number")] Number,
    [JsonStringEnumMemberName("boolean")] Boolean,
    [JsonStringEnumMemberName("array")] Array,
    [JsonStringEnumMemberName("object")] Object,
}
