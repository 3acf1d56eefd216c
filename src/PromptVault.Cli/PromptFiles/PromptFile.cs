using PromptVault.Core.Evaluations;
using PromptVault.Core.Prompts;

namespace PromptVault.Cli.PromptFiles;

/// <summary>
/// A prompt file: Markdown with YAML front matter (<c>name</c>, <c>type</c>, <c>description</c>, <c>tags</c>, <c>category</c>,
/// <c>variables</c>, <c>metadata</c>, and the version's test cases under <c>tests</c>) between two <c>---</c> lines; the body after it is the template.
/// </summary>
/// <param name="Tests">Null when the file has no <c>tests</c> block (a new version then carries the latest one's forward).</param>
/// <param name="Type">Null when the file does not say (the server then uses <c>template</c> for a new prompt).</param>
internal sealed record PromptFile(
    string Name,
    PromptType? Type,
    string? Description,
    IReadOnlyList<string>? Tags,
    string? Category,
    IReadOnlyList<VariableDefinition> Variables,
    PromptMetadata Metadata,
    string Content,
    IReadOnlyList<TestCase>? Tests = null)
{
    /// <summary>The front matter keys, in the order <c>pull</c> writes them.</summary>
    public static readonly string[] Keys = ["name", "type", "description", "tags", "category", "variables", "metadata", "tests"];

    public static readonly string[] VariableKeys = ["name", "type", "description", "required", "defaultValue", "validation"];

    public static readonly string[] MetadataKeys = ["model", "temperature", "maxTokens", "topP", "frequencyPenalty", "presencePenalty", "tags", "category"];
}

/// <summary>A prompt file that cannot be read; the message names the file and the problem.</summary>
internal sealed class PromptFileException(string message) : Exception(message);
