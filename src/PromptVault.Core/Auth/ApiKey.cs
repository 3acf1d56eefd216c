using System.Text.Json.Serialization;

namespace PromptVault.Core.Auth;

/// <summary>What a key may do; each role includes the ones before it.</summary>
public enum ApiKeyRole
{
    /// <summary>Read prompts, versions, the audit log; render.</summary>
    [JsonStringEnumMemberName("reader")] Reader,
    /// <summary>Also create prompts and versions, change non-production statuses, send metrics.</summary>
    [JsonStringEnumMemberName("writer")] Writer,
    /// <summary>Also promote, move labels, roll back, run experiments, manage keys.</summary>
    [JsonStringEnumMemberName("admin")] Admin,
}

/// <summary>A stored API key. The secret itself is never stored, only its hash.</summary>
/// <param name="Prefix">The first characters of the key, to recognise it in a list.</param>
public sealed record ApiKey(
    string Id,
    string Name,
    ApiKeyRole Role,
    string Prefix,
    DateTimeOffset CreatedAt,
    string CreatedBy,
    DateTimeOffset? RevokedAt);
