using PromptVault.Core.Audit;
using PromptVault.Core.Auth;
using PromptVault.Core.Experiments;
using PromptVault.Core.Metrics;
using PromptVault.Core.Prompts;
using PromptVault.Core.Storage;
using PromptVault.Core.Versioning;
using static PromptVault.Storage.StoredValues;

namespace PromptVault.Storage;

// Dapper fills these from columns aliased to the property names; each converts itself to the domain type.
// Read by the SQLite and the PostgreSQL store: their columns hold the same values (StoredValues).

internal sealed class PromptRow
{
    public const string Columns = """
        p.id AS Id, p.name AS Name, p.description AS Description, p.type AS Type, p.tags AS Tags, p.category AS Category,
        p.created_at AS CreatedAt, p.created_by AS CreatedBy, p.updated_at AS UpdatedAt, p.updated_by AS UpdatedBy,
        p.require_approval AS RequireApproval, p.require_tests AS RequireTests
        """;

    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
    public string Description { get; set; } = "";
    public string Type { get; set; } = "";
    public string Tags { get; set; } = "[]";
    public string? Category { get; set; }
    public string CreatedAt { get; set; } = "";
    public string CreatedBy { get; set; } = "";
    public string UpdatedAt { get; set; } = "";
    public string UpdatedBy { get; set; } = "";
    public bool RequireApproval { get; set; }
    public bool RequireTests { get; set; }

    public Prompt ToPrompt() => new(Id, Name, Description, ToEnum<PromptType>(Type), FromJson<List<string>>(Tags), Category,
        ToTime(CreatedAt), CreatedBy, ToTime(UpdatedAt), UpdatedBy) { RequireApproval = RequireApproval, RequireTests = RequireTests };
}

internal sealed class VersionRow
{
    public const string Columns = """
        v.id AS Id, v.prompt_id AS PromptId, v.sequence AS Sequence, v.major AS Major, v.minor AS Minor, v.patch AS Patch,
        v.content AS Content, v.variables AS Variables, v.metadata AS Metadata, v.change_description AS ChangeDescription,
        v.created_by AS CreatedBy, v.created_at AS CreatedAt, v.status AS Status, v.messages AS Messages, v.approved_by AS ApprovedBy, v.approved_at AS ApprovedAt,
        v.declared_variables AS DeclaredVariables
        """;

    public string Id { get; set; } = "";
    public string PromptId { get; set; } = "";
    public int Sequence { get; set; }
    public int Major { get; set; }
    public int Minor { get; set; }
    public int Patch { get; set; }
    public string Content { get; set; } = "";
    public string Variables { get; set; } = "[]";
    public string Metadata { get; set; } = "{}";
    public string ChangeDescription { get; set; } = "";
    public string CreatedBy { get; set; } = "";
    public string CreatedAt { get; set; } = "";
    public string Status { get; set; } = "";
    public string? Messages { get; set; }
    public string? ApprovedBy { get; set; }
    public string? ApprovedAt { get; set; }
    public string? DeclaredVariables { get; set; }

    public PromptVersion ToVersion() => new(Id, PromptId, Sequence, new SemanticVersion(Major, Minor, Patch), Content,
        FromJson<List<VariableDefinition>>(Variables), FromJson<PromptMetadata>(Metadata), ChangeDescription, CreatedBy,
        ToTime(CreatedAt), ToEnum<VersionStatus>(Status))
    {
        Messages = Messages is null ? null : FromJson<List<PromptMessage>>(Messages),
        Approval = ApprovedBy is null ? null : new Approval(ApprovedBy, ToTime(ApprovedAt!)),
        DeclaredVariables = DeclaredVariables is null ? null : FromJson<List<VariableDefinition>>(DeclaredVariables),
    };
}

internal sealed class LabelRow
{
    public const string Columns = """
        l.prompt_id AS PromptId, l.name AS Name, l.version_id AS VersionId, v.major AS Major, v.minor AS Minor, v.patch AS Patch,
        l.updated_at AS UpdatedAt, l.updated_by AS UpdatedBy
        """;

    public string PromptId { get; set; } = "";
    public string Name { get; set; } = "";
    public string VersionId { get; set; } = "";
    public int Major { get; set; }
    public int Minor { get; set; }
    public int Patch { get; set; }
    public string UpdatedAt { get; set; } = "";
    public string UpdatedBy { get; set; } = "";

    public Label ToLabel() => new(PromptId, Name, VersionId, new SemanticVersion(Major, Minor, Patch), ToTime(UpdatedAt), UpdatedBy);
}

internal sealed class AuditRow
{
    public const string Columns = """
        id AS Id, timestamp AS Timestamp, actor AS Actor, action AS Action, prompt_name AS PromptName, subject AS Subject,
        before_json AS Before, after_json AS After
        """;

    public long Id { get; set; }
    public string Timestamp { get; set; } = "";
    public string Actor { get; set; } = "";
    public string Action { get; set; } = "";
    public string? PromptName { get; set; }
    public string? Subject { get; set; }
    public string? Before { get; set; }
    public string? After { get; set; }

    public AuditEntry ToEntry() => new(Id, ToTime(Timestamp), Actor, Action, PromptName, Subject, State(Before), State(After));

    private static Dictionary<string, string?>? State(string? json) => json is null ? null : FromJson<Dictionary<string, string?>>(json);
}

internal sealed class ApiKeyRow
{
    public const string Columns = """
        id AS Id, name AS Name, role AS Role, prefix AS Prefix, created_at AS CreatedAt, created_by AS CreatedBy, revoked_at AS RevokedAt
        """;

    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
    public string Role { get; set; } = "";
    public string Prefix { get; set; } = "";
    public string CreatedAt { get; set; } = "";
    public string CreatedBy { get; set; } = "";
    public string? RevokedAt { get; set; }

    public ApiKey ToKey() => new(Id, Name, ToEnum<ApiKeyRole>(Role), Prefix, ToTime(CreatedAt), CreatedBy, ToTimeOrNull(RevokedAt));
}

internal sealed class IdempotencyRow
{
    public const string Columns = """
        owner AS Owner, key AS Key, request_hash AS RequestHash, response AS Response, created_at AS CreatedAt, expires_at AS ExpiresAt
        """;

    public string Owner { get; set; } = "";
    public string Key { get; set; } = "";
    public string RequestHash { get; set; } = "";
    public string Response { get; set; } = "";
    public string CreatedAt { get; set; } = "";
    public string ExpiresAt { get; set; } = "";

    public IdempotencyRecord ToRecord() => new(Owner, Key, RequestHash, Response, ToTime(CreatedAt), ToTime(ExpiresAt));
}

internal sealed class ExperimentRow
{
    public const string Columns = """
        e.id AS Id, e.prompt_id AS PromptId, p.name AS PromptName, e.name AS Name, e.description AS Description, e.variants AS Variants,
        e.target_metric AS TargetMetric, e.minimum_sample_size AS MinimumSampleSize, e.confidence_level AS ConfidenceLevel,
        e.minimum_detectable_effect AS MinimumDetectableEffect, e.power AS Power, e.guardrails AS Guardrails,
        e.promote_winner AS PromoteWinner, e.status AS Status, e.hash_seed AS HashSeed, e.winner AS Winner, e.status_reason AS StatusReason,
        e.created_at AS CreatedAt, e.created_by AS CreatedBy, e.updated_at AS UpdatedAt, e.started_at AS StartedAt, e.ended_at AS EndedAt,
        e.promotion_refused AS PromotionRefused
        """;

    /// <summary>The table the <see cref="Columns"/> come from.</summary>
    public const string From = "experiments e JOIN prompts p ON p.id = e.prompt_id";

    public string Id { get; set; } = "";
    public string PromptId { get; set; } = "";
    public string PromptName { get; set; } = "";
    public string Name { get; set; } = "";
    public string Description { get; set; } = "";
    public string Variants { get; set; } = "[]";
    public string TargetMetric { get; set; } = "";
    public int MinimumSampleSize { get; set; }
    public double ConfidenceLevel { get; set; }
    public double MinimumDetectableEffect { get; set; }
    public double Power { get; set; }
    public string Guardrails { get; set; } = "[]";
    public bool PromoteWinner { get; set; }
    public string Status { get; set; } = "";
    public long HashSeed { get; set; }
    public string? Winner { get; set; }
    public string? StatusReason { get; set; }
    public string CreatedAt { get; set; } = "";
    public string CreatedBy { get; set; } = "";
    public string UpdatedAt { get; set; } = "";
    public string? StartedAt { get; set; }
    public string? EndedAt { get; set; }
    public string? PromotionRefused { get; set; }

    /// <summary>The column values of <paramref name="e"/>, named as in the statements' parameters.</summary>
    public static object Parameters(Experiment e) => new
    {
        e.Id, e.PromptId, e.Name, e.Description, Variants = ToJson(e.Variants.ToList()), TargetMetric = ToName(e.TargetMetric),
        e.MinimumSampleSize, e.ConfidenceLevel, e.MinimumDetectableEffect, e.Power, Guardrails = ToJson(e.Guardrails.ToList()),
        e.PromoteWinner, Status = ToName(e.Status), HashSeed = unchecked((long)e.HashSeed), e.Winner, e.StatusReason,
        CreatedAt = ToText(e.CreatedAt), e.CreatedBy, UpdatedAt = ToText(e.UpdatedAt), StartedAt = ToText(e.StartedAt), EndedAt = ToText(e.EndedAt),
        e.PromotionRefused,
    };

    public Experiment ToExperiment() => new(Id, PromptId, PromptName, Name, Description, FromJson<List<Variant>>(Variants),
        ToEnum<MetricName>(TargetMetric), MinimumSampleSize, ConfidenceLevel, MinimumDetectableEffect, Power,
        FromJson<List<Guardrail>>(Guardrails), PromoteWinner, ToEnum<ExperimentStatus>(Status), unchecked((ulong)HashSeed), Winner,
        StatusReason, ToTime(CreatedAt), CreatedBy, ToTime(UpdatedAt), ToTimeOrNull(StartedAt), ToTimeOrNull(EndedAt), PromotionRefused);
}
