using PromptVault.Core.Templates;

namespace PromptVault.Core.Webhooks;

/// <summary>A labelled version: prompt <paramref name="Prompt"/>'s label <paramref name="Label"/> serves a version that includes <paramref name="References"/>.</summary>
public sealed record LabelledIncludes(string Prompt, string Label, IReadOnlyList<PromptReference> References);

/// <summary>
/// Which prompts serve something different when a label moves: those whose labelled versions include the moved label, and
/// those that include them in turn through one of their labels (a render follows the same chain).
/// </summary>
public static class IncludeDependents
{
    /// <summary>The includers of <paramref name="prompt"/>'s <paramref name="label"/>, directly or through others, each once, nearest first.</summary>
    /// <param name="labelled">Every labelled version that includes something (others cannot be includers).</param>
    public static IReadOnlyList<string> Of(string prompt, string label, IReadOnlyList<LabelledIncludes> labelled)
    {
        ArgumentNullException.ThrowIfNull(labelled);
        // A pinned reference ({{> name@1.2.0}}) never follows a move, so only label references carry it on.
        var changed = new HashSet<(string Prompt, string Label)> { (prompt, label) };
        var includers = new List<string>();
        var pending = new Queue<(string Prompt, string Label)>(changed);
        while (pending.TryDequeue(out var moved))
        {
            foreach (var version in labelled)
            {
                if (!version.References.Any(r => r.Name == moved.Prompt && r.Label == moved.Label) || !changed.Add((version.Prompt, version.Label)))
                    continue;
                pending.Enqueue((version.Prompt, version.Label));
                if (version.Prompt != prompt && !includers.Contains(version.Prompt, StringComparer.Ordinal))
                    includers.Add(version.Prompt);
            }
        }
        return includers;
    }
}
