using System.Text.Json;
using System.Text.Json.Serialization;

namespace PromptVault.Core.Prompts;

/// <summary>One input of a version's contract.</summary>
/// <param name="Name">The name the template uses, e.g. <c>company_name</c>.</param>
/// <param name="Type">The JSON type of its value; <c>string</c> when omitted.</param>
/// <param name="Description">What the caller should pass.</param>
/// <param name="Required">Whether a render without it (and without a default) is refused.</param>
/// <param name="DefaultValue">The value used when the caller passes none.</param>
/// <param name="Validation">A regular expression a string value must match (run without backtracking, with a time limit).</param>
public sealed record VariableDefinition(
    string Name,
    VariableType Type = VariableType.String,
    string? Description = null,
    bool Required = false,
    JsonElement? DefaultValue = null,
    string? Validation = null)
{
    /// <summary>Whether a caller may leave this variable out.</summary>
    [JsonIgnore]
    public bool IsOptional => !Required || HasDefault;

    /// <summary>Whether a non-null default is declared.</summary>
    [JsonIgnore]
    public bool HasDefault => DefaultValue is { ValueKind: not JsonValueKind.Null and not JsonValueKind.Undefined };
}
