using PromptVault.Core.Audit;
using PromptVault.Core.Auth;
using PromptVault.Core.Prompts;
using PromptVault.Core.Versioning;
using static PromptVault.Storage.Sqlite.SqliteValues;

namespace PromptVault.Storage.Sqlite;

// Dapper fills these from columns aliased to the property names; each converts itself to the domain type.

internal sealed class PromptRow
{
    public const string Columns = """
        p.id AS Id, p.name AS Name, p.description AS Description, p.type AS Type, p.tags AS Tags, p.category AS Category,
        p.created_at AS CreatedAt, p.created_by AS CreatedBy, p.updated_at AS UpdatedAt, p.updated_by AS UpdatedBy
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

    public Prompt ToPrompt() => new(Id, Name, Description, ToEnum<PromptType>(Type), FromJson<List<string>>(Tags), Category,
        ToTime(CreatedAt), CreatedBy, ToTime(UpdatedAt), UpdatedBy);
}

internal sealed class VersionRow
{
    public const string Columns = """
        v.id AS Id, v.prompt_id AS PromptId, v.sequence AS Sequence, v.major AS Major, v.minor AS Minor, v.patch AS Patch,
        v.content AS Content, v.variables AS Variables, v.metadata AS Metadata, v.change_description AS ChangeDescription,
        v.created_by AS CreatedBy, v.created_at AS CreatedAt, v.status AS Status
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

    public PromptVersion ToVersion() => new(Id, PromptId, Sequence, new SemanticVersion(Major, Minor, Patch), Content,
        FromJson<List<VariableDefinition>>(Variables), FromJson<PromptMetadata>(Metadata), ChangeDescription, CreatedBy,
        ToTime(CreatedAt), ToEnum<VersionStatus>(Status));
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
