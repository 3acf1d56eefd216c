using System.Text.Json.Serialization;

namespace PromptVault.Core.Versioning;

/// <summary>How much a new version raises the number. Ordered: a larger value is a larger bump.</summary>
public enum VersionBump
{
    [JsonStringEnumMemberName("patch")] Patch,
    [JsonStringEnumMemberName("minor")] Minor,
    [JsonStringEnumMemberName("major")] Major,
}
