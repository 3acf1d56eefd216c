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

/// <summary>The order of roles, in words.</summary>
public static class ApiKeyRoles
{
    /// <summary>The roles that may do what <paramref name="needed"/> may, as a refusal names them ("writer or admin").</summary>
    public static string AtLeast(ApiKeyRole needed) =>
        string.Join(" or ", Enum.GetValues<ApiKeyRole>().Where(role => role >= needed).Select(Names.Of));
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

/// <summary>The rules for a key's name, which the audit log records as the actor of what the key does.</summary>
public static class ApiKeyNames
{
    /// <summary>The actor of changes the system makes by itself (auto-completion, guardrails).</summary>
    public const string SystemActor = "promptvault";

    /// <summary>The actor recorded when a request carries no key name.</summary>
    public const string AnonymousActor = "anonymous";

    /// <summary>The names PromptVault itself writes as the actor of audit entries; a key named so would be indistinguishable.</summary>
    public static bool IsReserved(string name)
    {
        var trimmed = name.Trim();
        return trimmed.Equals(SystemActor, StringComparison.OrdinalIgnoreCase)
            || trimmed.StartsWith(SystemActor + " ", StringComparison.OrdinalIgnoreCase)
            || trimmed.Equals(AnonymousActor, StringComparison.OrdinalIgnoreCase);
    }

    public static void Validate([System.Diagnostics.CodeAnalysis.NotNull] string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
            throw new InvalidInputException("missing_name", "name is required: who or what will use the key.", "name");
        Prompts.PromptRules.ValidateLength(name, Prompts.PromptRules.MaxNameLength, "name");
        Prompts.PromptRules.ValidateDisplayName(name, "name");
        if (IsReserved(name))
            throw new InvalidInputException("reserved_name",
                $"name '{name.Trim()}' is reserved for PromptVault's own changes in the audit log; choose another name.", "name");
    }
}
