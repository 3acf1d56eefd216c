using Microsoft.Extensions.AI;
using PromptVault.Core.Prompts;

namespace PromptVault.Client.Snapshots;

/// <summary>How a version's <c>tools</c> (SPEC §7) join the tools a caller passes to the middleware.</summary>
internal static class ToolOptions
{
    /// <summary>
    /// The caller's tools, then the version's declarations the caller does not supply by name: a caller's own
    /// <see cref="AIFunction"/> of the same name is the one a function-invoking client can run.
    /// </summary>
    public static IList<AITool>? Merge(IList<AITool>? callers, IList<AITool>? versions)
    {
        if (versions is not { Count: > 0 }) return callers;
        if (callers is not { Count: > 0 }) return versions;
        var supplied = callers.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        return [.. callers, .. versions.Where(t => !supplied.Contains(t.Name))];
    }
}
