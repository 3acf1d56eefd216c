using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using PromptVault.Core.Auth;
using PromptVault.Core.Prompts;
using PromptVault.Core.Versioning;

namespace PromptVault.Core.Contracts;

// Request bodies of the HTTP API (SPEC §5). Fields are nullable so that a missing one is refused with a message naming it.

/// <summary>A new prompt with its first version (change description <c>Initial version</c>). A <c>chat</c> prompt carries
/// <c>messages</c> instead of <c>content</c>.</summary>
public sealed record CreatePromptRequest(
    string? Name,
    string? Description = null,
    PromptType? Type = null,
    string? Content = null,
    IReadOnlyList<VariableDefinition>? Variables = null,
    PromptMetadata? Metadata = null,
    IReadOnlyList<string>? Tags = null,
    string? Category = null,
    IReadOnlyList<PromptMessage>? Messages = null,
    bool? RequireApproval = null,
    bool? RequireTests = null,
    IReadOnlyList<Evaluations.TestCase>? Tests = null);

/// <summary>A prompt's own fields (<c>PATCH /api/prompts/{name}</c>); omitted ones stay as they are. The two gates need an admin key.</summary>
public sealed record UpdatePromptRequest(
    string? Description = null,
    IReadOnlyList<string>? Tags = null,
    string? Category = null,
    bool? RequireApproval = null,
    bool? RequireTests = null);

/// <summary>A new version. Omitted <c>variables</c>, <c>metadata</c> or <c>tests</c> are carried over from the latest version. A version of
/// a <c>chat</c> prompt carries <c>messages</c> instead of <c>content</c>.</summary>
public sealed record CreateVersionRequest(
    string? Content,
    IReadOnlyList<VariableDefinition>? Variables = null,
    PromptMetadata? Metadata = null,
    string? ChangeDescription = null,
    VersionBump? Bump = null,
    IReadOnlyList<PromptMessage>? Messages = null,
    IReadOnlyList<Evaluations.TestCase>? Tests = null);

public sealed record ChangeStatusRequest(VersionStatus? Status);

/// <summary>Moves a label to a version (<c>1.0.2</c> or a version id).</summary>
public sealed record MoveLabelRequest(string? Version);

public sealed record RollbackRequest(string? Version, string? Reason = null);

/// <summary>Resolve and render: the version under <c>label</c> (default production), or the exact <c>version</c>; not both
/// (<see cref="Prompts.Serving.ByExperimentValidated"/>).</summary>
public sealed record RenderRequest(
    IReadOnlyDictionary<string, JsonElement>? Variables = null,
    string? UnitId = null,
    string? Label = null,
    string? Version = null);

public sealed record CreateApiKeyRequest(string? Name, ApiKeyRole? Role);

/// <summary>One metric event as sent (SPEC §4); <see cref="Metrics.MetricEventRules"/> checks it and makes it a <see cref="Metrics.MetricEvent"/>.</summary>
/// <param name="Timestamp">When the call happened; the time of receipt when absent.</param>
/// <param name="Cost">What the call cost; when absent it is computed from the tokens and the version's model (<see cref="Metrics.PriceTable"/>).</param>
/// <param name="Metadata">Any JSON object of the caller's.</param>
public sealed record MetricEventRequest(
    string? Id = null,
    string? VersionId = null,
    string? ExperimentId = null,
    string? VariantId = null,
    string? UnitId = null,
    DateTimeOffset? Timestamp = null,
    [property: Range(0, Metrics.MetricEventRules.MaxLatencyMs)] double? LatencyMs = null,
    [property: Range(0, Metrics.MetricEventRules.MaxTokens)] long? InputTokens = null,
    [property: Range(0, Metrics.MetricEventRules.MaxTokens)] long? OutputTokens = null,
    [property: Range(0, Metrics.MetricEventRules.MaxCost)] double? Cost = null,
    [property: Range(0, Metrics.MetricEventRules.MaxScore)] double? QualityScore = null,
    [property: Range(0, Metrics.MetricEventRules.MaxScore)] double? UserFeedback = null,
    bool? Converted = null,
    string? Error = null,
    JsonElement? Metadata = null);

/// <summary>Several metric events, stored all or nothing.</summary>
public sealed record MetricBatchRequest(IReadOnlyList<MetricEventRequest>? Events);
