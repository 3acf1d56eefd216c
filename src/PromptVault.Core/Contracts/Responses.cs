using PromptVault.Core.Audit;
using PromptVault.Core.Auth;
using PromptVault.Core.Prompts;

namespace PromptVault.Core.Contracts;

// Response bodies of the HTTP API (SPEC §5), shared by the server and the SDK so the JSON names live in one place.

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
    IReadOnlyList<string> Labels);

/// <param name="Labels">Each label and the version number it points at.</param>
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
    VersionResponse LatestVersion);

public sealed record PromptListResponse(IReadOnlyList<PromptResponse> Prompts);

public sealed record VersionListResponse(string PromptName, IReadOnlyList<VersionResponse> Versions);

public sealed record RenderResponse(
    string Content,
    string PromptName,
    string Version,
    string VersionId,
    string? ExperimentId,
    string? VariantId,
    PromptMetadata Metadata);

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
    IReadOnlyDictionary<string, MetricDiff> MetricsDiff);

public sealed record AuditListResponse(IReadOnlyList<AuditEntry> Entries);

/// <summary>A new key; <c>Key</c> is shown this once and never again.</summary>
public sealed record CreatedApiKeyResponse(string Id, string Name, ApiKeyRole Role, string Key, string Prefix, DateTimeOffset CreatedAt);

public sealed record ApiKeyListResponse(IReadOnlyList<ApiKey> Keys);
