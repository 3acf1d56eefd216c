using Microsoft.Extensions.AI;
using PromptVault.Client.Snapshots;
using PromptVault.Core.Templates;

namespace PromptVault.Client;

/// <summary>A prompt resolved and rendered by <see cref="IPromptVault.GetPromptAsync"/>: what to send, and what was served.</summary>
/// <remarks>
/// Immutable, except <see cref="Options"/>, which is a new instance for each resolution and the caller's to change. Not
/// thread-safe for its first read of <see cref="Options"/>, <see cref="Messages"/> and <see cref="ResolutionId"/>.
/// </remarks>
public sealed class ResolvedPrompt
{
    private readonly ChatRole _role;
    private readonly VersionView? _served;
    private IReadOnlyList<ChatMessage>? _messages;
    private ChatOptions? _options;
    private string? _resolutionId;

    /// <summary>Creates a resolution; the SDK makes them, tests of code that takes an <see cref="IPromptVault"/> may too.</summary>
    public ResolvedPrompt(string promptName, string content, ChatRole role, string version, string versionId, string? experimentId, string? variantId,
        string? unitId, ChatOptions options, string resolutionId)
        : this(promptName, content, role, version, versionId, experimentId, variantId, unitId, served: null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(resolutionId);
        _options = options;
        _resolutionId = resolutionId;
    }

    /// <summary>Creates the resolution of a chat prompt (SPEC §7), whose <see cref="Content"/> is empty.</summary>
    public ResolvedPrompt(string promptName, IReadOnlyList<ChatMessage> messages, string version, string versionId, string? experimentId, string? variantId,
        string? unitId, ChatOptions options, string resolutionId)
        : this(promptName, "", ChatRole.System, version, versionId, experimentId, variantId, unitId, options, resolutionId)
    {
        ArgumentNullException.ThrowIfNull(messages);
        _messages = messages;
    }

    /// <summary>The SDK's: the options, messages and id are made when first read, as most callers read only some of them.</summary>
    /// <param name="messages">A chat prompt's rendered messages; null for a text prompt, whose one message is made from the content.</param>
    internal ResolvedPrompt(string promptName, string content, ChatRole role, VersionView served, string? experimentId, string? variantId, string? unitId,
        IReadOnlyList<ChatMessage>? messages = null)
        : this(promptName, content, role, served.Version.Version, served.Version.Id, experimentId, variantId, unitId, served)
    {
        _messages = messages;
    }

    private ResolvedPrompt(string promptName, string content, ChatRole role, string version, string versionId, string? experimentId, string? variantId,
        string? unitId, VersionView? served)
    {
        ArgumentException.ThrowIfNullOrEmpty(promptName);
        ArgumentNullException.ThrowIfNull(content);
        ArgumentException.ThrowIfNullOrEmpty(versionId);
        PromptName = promptName;
        Content = content;
        _role = role;
        Version = version;
        VersionId = versionId;
        ExperimentId = experimentId;
        VariantId = variantId;
        UnitId = unitId;
        _served = served;
    }

    /// <summary>The prompt's name.</summary>
    public string PromptName { get; }

    /// <summary>The rendered text; empty for a chat prompt, whose render is <see cref="Messages"/>.</summary>
    public string Content { get; }

    /// <summary>
    /// What to send: a chat prompt's rendered messages with their roles, placeholders spliced in (SPEC §7); for a text prompt,
    /// the rendered text as one chat message: an <c>assistant</c> prompt as an assistant message, a <c>user</c> prompt as a
    /// user message, any other (<c>system</c>, <c>template</c>, <c>few-shot</c>) as the system message.
    /// </summary>
    public IReadOnlyList<ChatMessage> Messages => _messages ??= [new ChatMessage(_role, Content)];

    /// <summary>The version number served, e.g. <c>1.2.0</c>.</summary>
    public string Version { get; }

    /// <summary>The id of the version served; metric events name it.</summary>
    public string VersionId { get; }

    /// <summary>The versions the rendered text includes (<c>{{&gt; name}}</c>, directly and through them), each once; empty when none.</summary>
    public IReadOnlyList<ReferencedVersion> References { get; init; } = [];

    /// <summary>The running experiment that chose the version, if one did.</summary>
    public string? ExperimentId { get; }

    /// <summary>The experiment's variant the unit was assigned, if an experiment chose the version.</summary>
    public string? VariantId { get; }

    /// <summary>The unit (user, session) the prompt was resolved for, if one was given.</summary>
    public string? UnitId { get; }

    /// <summary>
    /// The version's model settings (model, temperature, max tokens, top-p, penalties), its tools as
    /// <see cref="AIFunctionDeclaration"/>s and its response format as a JSON-schema <see cref="ChatResponseFormat"/>;
    /// unset where the version sets none.
    /// </summary>
    public ChatOptions Options => _options ??= _served!.NewChatOptions();

    /// <summary>
    /// A compact string carrying the prompt, version, experiment, variant and unit, for
    /// <see cref="IPromptVault.RecordFeedbackAsync"/>: keep it with the answer and attach later feedback to this call, from any process.
    /// </summary>
    public string ResolutionId => _resolutionId ??= ResolutionIds.Encode(new Resolution(PromptName, VersionId, ExperimentId, VariantId, UnitId));
}
