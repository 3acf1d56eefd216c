using Microsoft.Extensions.AI;

namespace PromptVault.Client;

/// <summary>A prompt resolved and rendered by <see cref="IPromptVault.GetPromptAsync"/>: what to send, and what was served.</summary>
/// <remarks>Immutable, except <see cref="Options"/>, which is a new instance for each resolution and the caller's to change.</remarks>
public sealed class ResolvedPrompt
{
    /// <summary>Creates a resolution; the SDK makes them, tests of code that takes an <see cref="IPromptVault"/> may too.</summary>
    public ResolvedPrompt(string promptName, string content, ChatRole role, string version, string versionId, string? experimentId, string? variantId,
        string? unitId, ChatOptions options, string resolutionId)
    {
        ArgumentException.ThrowIfNullOrEmpty(promptName);
        ArgumentNullException.ThrowIfNull(content);
        ArgumentException.ThrowIfNullOrEmpty(versionId);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(resolutionId);
        PromptName = promptName;
        Content = content;
        Messages = [new ChatMessage(role, content)];
        Version = version;
        VersionId = versionId;
        ExperimentId = experimentId;
        VariantId = variantId;
        UnitId = unitId;
        Options = options;
        ResolutionId = resolutionId;
    }

    /// <summary>The prompt's name.</summary>
    public string PromptName { get; }

    /// <summary>The rendered text.</summary>
    public string Content { get; }

    /// <summary>
    /// The rendered text as one chat message: an <c>assistant</c> prompt as an assistant message, a <c>user</c> prompt as a
    /// user message, any other (<c>system</c>, <c>template</c>, <c>few-shot</c>) as the system message.
    /// </summary>
    public IReadOnlyList<ChatMessage> Messages { get; }

    /// <summary>The version number served, e.g. <c>1.2.0</c>.</summary>
    public string Version { get; }

    /// <summary>The id of the version served; metric events name it.</summary>
    public string VersionId { get; }

    /// <summary>The running experiment that chose the version, if one did.</summary>
    public string? ExperimentId { get; }

    /// <summary>The experiment's variant the unit was assigned, if an experiment chose the version.</summary>
    public string? VariantId { get; }

    /// <summary>The unit (user, session) the prompt was resolved for, if one was given.</summary>
    public string? UnitId { get; }

    /// <summary>The version's model settings (model, temperature, max tokens, top-p, penalties); unset where the version sets none.</summary>
    public ChatOptions Options { get; }

    /// <summary>
    /// A compact string carrying the prompt, version, experiment, variant and unit, for
    /// <see cref="IPromptVault.RecordFeedbackAsync"/>: keep it with the answer and attach later feedback to this call, from any process.
    /// </summary>
    public string ResolutionId { get; }
}
