using PromptVault.Core.Prompts;

namespace PromptVault.Core.Versioning;

/// <summary>
/// The smallest bump a new variable contract needs relative to the latest one, and why (SPEC §1): major when inputs that
/// rendered the latest version may no longer render, minor when an optional variable is added, patch otherwise.
/// </summary>
public sealed record ContractChange(VersionBump RequiredBump, IReadOnlyList<string> Reasons)
{
    public static ContractChange Between(IReadOnlyList<VariableDefinition> latest, IReadOnlyList<VariableDefinition> next)
    {
        var before = latest.ToDictionary(v => v.Name);
        var after = next.ToDictionary(v => v.Name);
        var major = new List<string>();
        var minor = new List<string>();

        foreach (var old in latest.Where(v => !after.ContainsKey(v.Name)))
            major.Add($"variable '{old.Name}' was removed");

        foreach (var added in next.Where(v => !before.ContainsKey(v.Name)))
        {
            if (added.IsOptional) minor.Add($"optional variable '{added.Name}' was added");
            else major.Add($"required variable '{added.Name}' without a default was added");
        }

        foreach (var now in next.Where(v => before.ContainsKey(v.Name)))
        {
            var was = before[now.Name];
            if (was.Type != now.Type)
                major.Add($"variable '{now.Name}' changed type from {Names.Of(was.Type)} to {Names.Of(now.Type)}");
            if (was.IsOptional && !now.IsOptional)
                major.Add($"variable '{now.Name}' became required without a default");
            if (now.Validation is not null && now.Validation != was.Validation)
                major.Add($"variable '{now.Name}' has a new validation pattern that may refuse values accepted before");
        }

        return major.Count > 0 ? new(VersionBump.Major, major)
            : minor.Count > 0 ? new(VersionBump.Minor, minor)
            : new(VersionBump.Patch, []);
    }

    /// <summary>The bump to apply: the required one, or the caller's when it is larger; a smaller request is refused.</summary>
    public VersionBump Resolve(VersionBump? requested)
    {
        if (requested is null) return RequiredBump;
        if (requested < RequiredBump)
            throw new InvalidInputException("bump_too_small",
                $"bump '{Names.Of(requested.Value)}' is smaller than the required '{Names.Of(RequiredBump)}': {string.Join("; ", Reasons)}.",
                "bump");
        return requested.Value;
    }
}
