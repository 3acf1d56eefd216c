using System.Text.Json.Serialization;
using PromptVault.Core.Audit;
using PromptVault.Core.Auth;
using PromptVault.Core.Metrics;
using PromptVault.Core.Prompts;
using PromptVault.Core.Templates;

namespace PromptVault.Core.Contracts;

// Response bodies of the HTTP API (SPEC §5), shared by the server and the SDK so the JSON names live in one place.

/// <param name="ApprovedBy">The key (by name) that approved it; null when it was never approved or went back to review.</param>
public sealed record VersionResponse(
    string Id,
    string PromptName,
    string Version,
    string Content,
    IReadOnlyList<VariableDefinition> Variables,
    PromptMetadata Metadata,
    string ChangeDescription,
    string CreatedBy,
    DateTimeOffset CreatedAt,
    VersionStatus Status,
    IReadOnlyList<string> Labels,
    string? ApprovedBy = null,
    DateTimeOffset? ApprovedAt = null)
{
    /// <summary>A chat prompt's messages (then <see cref="Content"/> is empty); absent for a text prompt.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<PromptMessage>? Messages { get; init; }

    /// <summary>The variables the version declared itself (<see cref="PromptVersion.Declared"/>), without those its includes joined
    /// (<see cref="Variables"/> is the whole contract): what the dashboard's editor starts from and <c>promptvault pull</c> writes. Null
    /// in a response from a server that did not send it.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<VariableDefinition>? DeclaredVariables { get; init; }

    /// <summary>The variables the version declared; all of <see cref="Variables"/> when the response does not say (as <see cref="PromptVersion.Declared"/>).</summary>
    [JsonIgnore]
    public IReadOnlyList<VariableDefinition> Declared => DeclaredVariables ?? Variables;

    /// <summary>What the version says, for "is this the same?" (<see cref="VersionBody.SameAs(VersionBody)"/>).</summary>
    [JsonIgnore]
    public VersionBody Body => new(Content, Variables, Metadata, Messages);
}

/// <param name="Labels">Each label and the version number it points at.</param>
/// <param name="RequireApproval">Only approved versions may be promoted.</param>
/// <param name="RequireTests">Only versions whose latest evaluation passed may be promoted.</param>
public sealed record PromptResponse(
    string Id,
    string Name,
    string Description,
    PromptType Type,
    IReadOnlyList<string> Tags,
    string? Category,
    DateTimeOffset CreatedAt,
    string CreatedBy,
    DateTimeOffset UpdatedAt,
    string UpdatedBy,
    IReadOnlyDictionary<string, string> Labels,
    VersionResponse LatestVersion,
    bool RequireApproval = false,
    bool RequireTests = false);

/// <param name="Total">How many prompts match, on every page.</param>
/// <param name="Next">The URL of the next page; null on the last.</param>
public sealed record PromptListResponse(IReadOnlyList<PromptResponse> Prompts, int Total, string? Next = null);

/// <param name="Total">How many versions the prompt has.</param>
/// <param name="Next">The URL of the next page; null on the last.</param>
public sealed record VersionListResponse(string PromptName, IReadOnlyList<VersionResponse> Versions, int Total, string? Next = null);

/// <param name="Content">The rendered text; absent for a chat prompt, whose render carries <see cref="Messages"/> instead.</param>
public sealed record RenderResponse(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Content,
    string PromptName,
    string Version,
    string VersionId,
    string? ExperimentId,
    string? VariantId,
    PromptMetadata Metadata)
{
    /// <summary>The versions the render included (<c>{{&gt; name}}</c>, directly and through them), each once; empty when none.</summary>
    public IReadOnlyList<ReferencedVersion> References { get; init; } = [];

    /// <summary>A chat prompt's rendered messages, placeholders spliced in (SPEC §7); absent for a text prompt.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<PromptMessage>? Messages { get; init; }
}

/// <param name="Added">Lines only in version b.</param>
/// <param name="Removed">Lines only in version a.</param>
public sealed record ContentDiff(IReadOnlyList<string> Added, IReadOnlyList<string> Removed);

public sealed record VariableChange(string Name, VariableDefinition A, VariableDefinition B);

public sealed record VariablesDiff(IReadOnlyList<string> Added, IReadOnlyList<string> Removed, IReadOnlyList<VariableChange> Changed);

/// <summary>A metadata field's value in version a and in version b (as JSON text).</summary>
public sealed record FieldChange(string? A, string? B);

/// <summary>A metric in version a and b and b − a; null where no metrics were recorded.</summary>
public sealed record MetricDiff(double? A, double? B, double? Diff);

public sealed record ComparisonResponse(
    string PromptName,
    string A,
    string B,
    string UnifiedDiff,
    ContentDiff ContentDiff,
    VariablesDiff VariablesDiff,
    IReadOnlyDictionary<string, FieldChange> MetadataDiff,
    IReadOnlyDictionary<string, MetricDiff> MetricsDiff)
{
    /// <summary>For a chat prompt, which messages were added, removed and changed (then <see cref="UnifiedDiff"/> and
    /// <see cref="ContentDiff"/> are over the messages' text form, docs/prompt-files.md); absent for a text prompt.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public MessagesDiff? MessagesDiff { get; init; }
}

/// <summary>A chat prompt's messages compared: unchanged messages are matched first (longest common subsequence), and
/// between them the unmatched ones are paired in order as changed, the rest added or removed.</summary>
public sealed record MessagesDiff(IReadOnlyList<MessageEntry> Added, IReadOnlyList<MessageEntry> Removed, IReadOnlyList<MessageChange> Changed);

/// <param name="Index">The message's position in version b (added) or in version a (removed).</param>
public sealed record MessageEntry(int Index, MessageRole Role, string Content);

/// <summary>A message changed in role or content.</summary>
/// <param name="A">Its position in version a.</param>
/// <param name="B">Its position in version b.</param>
/// <param name="UnifiedDiff">A unified line diff of its content (empty when only the role changed).</param>
public sealed record MessageChange(int A, int B, MessageRole RoleA, MessageRole RoleB, string UnifiedDiff);

/// <param name="Total">How many entries match, on every page.</param>
/// <param name="Next">The URL of the next page; null on the last.</param>
public sealed record AuditListResponse(IReadOnlyList<AuditEntry> Entries, int Total, string? Next = null);

/// <summary>A new key; <c>Key</c> is shown this once and never again.</summary>
public sealed record CreatedApiKeyResponse(string Id, string Name, ApiKeyRole Role, string Key, string Prefix, DateTimeOffset CreatedAt);

/// <param name="Total">How many keys there are, revoked ones included.</param>
/// <param name="Next">The URL of the next page; null on the last.</param>
public sealed record ApiKeyListResponse(IReadOnlyList<ApiKey> Keys, int Total, string? Next = null);

/// <summary>The answer to <c>POST /api/metrics</c>.</summary>
/// <param name="Accepted">Events in the request; all of them passed validation (a refused request stores nothing).</param>
/// <param name="Stored">Events newly stored and counted.</param>
/// <param name="Duplicates">Ids of events acknowledged but not counted again: stored before, or repeated within the batch.</param>
public sealed record MetricRecordResponse(int Accepted, int Stored, IReadOnlyList<string> Duplicates);

/// <summary>A version's metrics over a period (<c>GET /api/prompts/{name}/versions/{version}/metrics</c>, docs/metrics.md).</summary>
/// <param name="From">The start of the first hour the summary covers; null for <see cref="MetricPeriod.All"/>.</param>
/// <param name="To">The time of the request.</param>
/// <param name="Series">One entry per hour, oldest first, hours without events included: the period's hours, or the last
/// week's for <see cref="MetricPeriod.All"/>.</param>
public sealed record VersionMetricsResponse(
    string PromptName,
    string Version,
    string VersionId,
    MetricPeriod Period,
    DateTimeOffset? From,
    DateTimeOffset To,
    MetricsSummary Summary,
    IReadOnlyList<HourlyMetrics> Series);

/// <param name="HourStart">The start of the hour (UTC).</param>
public sealed record HourlyMetrics(DateTimeOffset HourStart, MetricsSummary Summary);

/// <summary>The figures of a set of metric events. A rate or mean is null when no event carries its field, never NaN.</summary>
/// <param name="ErrorRate"><paramref name="Errors"/> over <paramref name="Count"/>.</param>
/// <param name="ConversionTrials">Events that carry <c>converted</c>.</param>
/// <param name="ConversionRate"><paramref name="Conversions"/> over <paramref name="ConversionTrials"/>.</param>
public sealed record MetricsSummary(
    long Count,
    long Errors,
    double? ErrorRate,
    long Conversions,
    long ConversionTrials,
    double? ConversionRate,
    LatencySummary LatencyMs,
    AmountSummary InputTokens,
    AmountSummary OutputTokens,
    AmountSummary Cost,
    ScoreSummary QualityScore,
    ScoreSummary UserFeedback);

/// <param name="N">Events that carry a latency.</param>
/// <param name="P50">Percentiles within 1% (<see cref="LatencyHistogram"/>).</param>
public sealed record LatencySummary(long N, double? Mean, double? P50, double? P95, double? P99);

/// <summary>Tokens or cost: something that adds up.</summary>
/// <param name="N">Events that carry the field.</param>
public sealed record AmountSummary(long N, double? Mean, double? Total);

/// <summary>A quality score or user feedback: only the mean is meaningful.</summary>
/// <param name="N">Events that carry the field.</param>
public sealed record ScoreSummary(long N, double? Mean);
