using System.Text.Json;
using System.Text.Json.Serialization;
using PromptVault.Core.Prompts;

namespace PromptVault.Core.Contracts;

/// <summary>
/// <c>POST /api/playground</c> (SPEC §10): render several versions of <c>prompt</c> with the same <c>variables</c> and, when a
/// model is configured, call it with each, side by side.
/// </summary>
/// <param name="Versions">The saved versions to run, in the order answered: each an exact version or a label.</param>
/// <param name="Model">A model configured under <c>PromptVault:Models:{name}</c>; absent: the one named <c>default</c>, else the first.</param>
/// <param name="Drafts">Unsaved edits to run after the versions: checked as a new version would be, stored nowhere.</param>
public sealed record PlaygroundRequest(
    string? Prompt = null,
    IReadOnlyList<PlaygroundVersion>? Versions = null,
    IReadOnlyDictionary<string, JsonElement>? Variables = null,
    string? Model = null,
    IReadOnlyList<PlaygroundDraft>? Drafts = null);

/// <summary>One version to run: <c>version</c> (<c>1.0.2</c>, an id or <c>latest</c>) or else <c>label</c>, as in a render; one of them is required.</summary>
public sealed record PlaygroundVersion(string? Version = null, string? Label = null);

/// <summary>
/// An unsaved version: <c>content</c> (or <c>messages</c> for a chat prompt), with <c>variables</c> and <c>metadata</c> as in a new
/// version's body; those left out are the ones of <c>version</c>, the saved version it edits (default the latest).
/// </summary>
public sealed record PlaygroundDraft(
    string? Content = null,
    IReadOnlyList<PromptMessage>? Messages = null,
    IReadOnlyList<VariableDefinition>? Variables = null,
    PromptMetadata? Metadata = null,
    string? Version = null);

/// <param name="Model">The configured model that answered; null when none is configured (renders only).</param>
public sealed record PlaygroundResponse(string Prompt, string? Model, IReadOnlyList<PlaygroundResult> Results);

/// <summary>One version's render and, with a model, its answer.</summary>
/// <param name="Version">The saved version, or for a draft the version it edits.</param>
/// <param name="VersionId">The saved version's id; null for a draft.</param>
/// <param name="Draft">True for an unsaved draft; absent for a saved version.</param>
/// <param name="Error">Why the model gave this run no answer (<c>model 'default' (gpt-4o) failed: …</c>) while another run's answered; absent otherwise.</param>
/// <param name="Render">The rendered prompt sent to the model.</param>
/// <param name="ModelId">The model id asked for: the version's <c>metadata.model</c>, else the configured model's default.</param>
/// <param name="Cost">From the server's price table (<c>PromptVault:Prices</c>); null when the model has no price.</param>
public sealed record PlaygroundResult(
    string Version,
    string? VersionId,
    string Render,
    PromptMetadata Metadata,
    string? Output = null,
    string? ModelId = null,
    double? LatencyMs = null,
    long? InputTokens = null,
    long? OutputTokens = null,
    double? Cost = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] bool? Draft = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Error = null);
