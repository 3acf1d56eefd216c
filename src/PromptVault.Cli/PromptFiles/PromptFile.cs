using PromptVault.Core.Evaluations;
using PromptVault.Core.Prompts;

namespace PromptVault.Cli.PromptFiles;

/// <summary>
/// A prompt file: Markdown with YAML front matter (<c>name</c>, <c>type</c>, <c>description</c>, <c>tags</c>, <c>category</c>,
/// the gates <c>requireApproval</c> and <c>requireTests</c>, <c>variables</c>, <c>metadata</c>, and the version's test cases under <c>tests</c>) between two <c>---</c> lines; the body after it is the template, or for a <c>chat</c>
/// prompt its messages in <see cref="ChatMarkdown"/>'s form (docs/prompt-files.md).
/// </summary>
/// <param name="Content">The template; empty for a chat prompt.</param>
/// <param name="Messages">A chat prompt's messages; null for any other.</param>
/// <param name="Tests">Null when the file has no <c>tests</c> block (a new version then carries the latest one's forward).</param>
/// <param name="Type">Null when the file does not say (the server then uses <c>template</c> for a new prompt).</param>
/// <param name="RequireApproval">The prompt's approval gate (SPEC §7); null when the file does not say.</param>
/// <param name="RequireTests">The prompt's tests gate (SPEC §10); null when the file does not say.</param>
internal sealed record PromptFile(
    string Name,
    PromptType? Type,
    string? Description,
    IReadOnlyList<string>? Tags,
    string? Category,
    IReadOnlyList<VariableDefinition> Variables,
    PromptMetadata Metadata,
    string Content,
    IReadOnlyList<PromptMessage>? Messages = null,
    IReadOnlyList<TestCase>? Tests = null,
    bool? RequireApproval = null,
    bool? RequireTests = null)
{
    /// <summary>Why the server would refuse the file's template as a new version, naming the file's line; null when it would not.</summary>
    public PromptFileProblem? TemplateProblem { get; init; }

    /// <summary>What the file says a version is.</summary>
    public VersionBody Body => new(Content, Variables, Metadata, Messages);

    /// <summary>The front matter keys, in the order <c>pull</c> writes them.</summary>
    public static readonly string[] Keys = ["name", "type", "description", "tags", "category", "requireApproval", "requireTests", "variables", "metadata", "tests"];

    public static readonly string[] VariableKeys = ["name", "type", "description", "required", "defaultValue", "validation"];

    public static readonly string[] MetadataKeys =
        ["model", "temperature", "maxTokens", "topP", "frequencyPenalty", "presencePenalty", "tags", "category", "tools", "responseFormat"];

    public static readonly string[] ToolKeys = ["name", "description", "parameters"];

    public static readonly string[] TestKeys = ["name", "variables", "unitId", "expect"];

    public static readonly string[] CheckKeys = ["type", "value", "target", "rubric", "passingScore"];
}

/// <summary>A prompt file that cannot be read; the message names the file and the problem.</summary>
/// <param name="code">The server's code for the same problem (a name it would refuse is <c>invalid_name</c>), or <c>cli_error</c>.</param>
internal sealed class PromptFileException(string message, string code = CliContext.CliErrorCode) : CliException(ExitCodes.Refused, message, code);

/// <summary>A refusal of a prompt file: the server's <paramref name="Code"/> for the same problem, and a message naming the file and the place.</summary>
internal sealed record PromptFileProblem(string Code, string Message);
