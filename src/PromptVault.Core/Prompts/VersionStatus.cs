using System.Text.Json.Serialization;

namespace PromptVault.Core.Prompts;

/// <summary>The lifecycle of a version; allowed moves are in <see cref="VersionLifecycle"/>.</summary>
public enum VersionStatus
{
    [JsonStringEnumMemberName("draft")] Draft,
    [JsonStringEnumMemberName("review")] Review,
    [JsonStringEnumMemberName("approved")] Approved,
    [JsonStringEnumMemberName("production")] Production,
    [JsonStringEnumMemberName("deprecated")] Deprecated,
    [JsonStringEnumMemberName("archived")] Archived,
}
