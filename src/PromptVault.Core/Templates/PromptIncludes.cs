using PromptVault.Core.Prompts;

namespace PromptVault.Core.Templates;

/// <summary>The version a <see cref="PromptReference"/> resolved to, compiled.</summary>
/// <param name="Version">Which version it is.</param>
/// <param name="Template">Its compiled template, with its contract.</param>
public sealed record IncludedPrompt(ReferencedVersion Version, CompiledPrompt Template);

/// <summary>
/// The prompts one template includes, directly and through them (SPEC §7), each reference resolved once: what a save checks
/// and a render renders with. Built by <see cref="ResolveAsync"/>, which refuses missing references, cycles and chains deeper
/// than <see cref="TemplateLimits.MaxIncludeDepth"/>. Immutable; thread-safe.
/// </summary>
/// <remarks>
/// A cycle is any path of includes that comes back to a prompt already on it, whatever the versions: labels move, so a
/// chain that ends at another version today may end at the including one tomorrow.
/// </remarks>
public sealed class PromptIncludes
{
    private readonly Dictionary<PromptReference, IncludedPrompt> _byReference;

    private PromptIncludes(Dictionary<PromptReference, IncludedPrompt> byReference)
    {
        _byReference = byReference;
        Versions = byReference.Values.Select(i => i.Version).DistinctBy(v => v.VersionId).ToList();
    }

    /// <summary>No includes: what a template without references renders with.</summary>
    public static PromptIncludes None { get; } = new([]);

    /// <summary>The versions included, directly and through others, each once, in the order they were first reached.</summary>
    public IReadOnlyList<ReferencedVersion> Versions { get; }

    /// <summary>Finds the version each of <paramref name="references"/> names, and theirs in turn.</summary>
    /// <param name="includer">The name of the prompt whose template (or chat messages) makes the references: no include chain may come back to it.</param>
    /// <param name="references">The references of the including template, or of a chat prompt's messages together.</param>
    /// <param name="find">Finds the version a reference names now; null when there is none.</param>
    /// <param name="cancellationToken">Cancels the lookups.</param>
    /// <exception cref="InvalidInputException">A reference names no version (<c>reference_not_found</c>), or the chain is too deep (<c>template_too_deep</c>).</exception>
    /// <exception cref="ConflictException">The includes form a cycle (<c>reference_cycle</c>).</exception>
    public static async ValueTask<PromptIncludes> ResolveAsync(string includer, IReadOnlyList<PromptReference> references,
        Func<PromptReference, CancellationToken, ValueTask<IncludedPrompt?>> find, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(includer);
        ArgumentNullException.ThrowIfNull(references);
        ArgumentNullException.ThrowIfNull(find);
        if (references.Count == 0) return None;
        var walk = new Walk(includer, find, cancellationToken);
        foreach (var reference in references)
            await walk.VisitAsync(reference);
        return new PromptIncludes(walk.Found);
    }

    /// <summary>The same with a lookup that answers at once (an in-memory snapshot).</summary>
    /// <inheritdoc cref="ResolveAsync" path="/exception"/>
    public static PromptIncludes Resolve(string includer, IReadOnlyList<PromptReference> references, Func<PromptReference, IncludedPrompt?> find)
    {
        ArgumentNullException.ThrowIfNull(find);
        // Every lookup completes synchronously, so the walk does too; GetResult rethrows its exception as it was thrown.
        var walk = ResolveAsync(includer, references, (reference, _) => ValueTask.FromResult(find(reference)));
        return walk.IsCompletedSuccessfully ? walk.Result : walk.AsTask().GetAwaiter().GetResult();
    }

    /// <summary>
    /// The including version's contract: <paramref name="declared"/>, then each included variable it does not declare (SPEC §7:
    /// the referenced variables join the including version's contract, and so its semver bump). A variable declared on both
    /// sides keeps the including declaration, and must have the same type.
    /// </summary>
    /// <exception cref="InvalidInputException">A variable has different types on two sides (<c>variable_conflict</c>), or the merged contract is over a limit.</exception>
    public IReadOnlyList<VariableDefinition> MergeContract(IReadOnlyList<VariableDefinition> declared)
    {
        ArgumentNullException.ThrowIfNull(declared);
        if (_byReference.Count == 0) return declared;
        var merged = declared.ToList();
        var from = declared.ToDictionary(v => v.Name, _ => "this version", StringComparer.Ordinal);
        foreach (var included in _byReference.Values.DistinctBy(i => i.Version.VersionId))
        {
            foreach (var variable in included.Template.Variables)
            {
                var source = $"'{included.Version.Name}' {included.Version.Version}";
                var existing = merged.FirstOrDefault(v => v.Name == variable.Name);
                if (existing is null)
                {
                    merged.Add(variable);
                    from[variable.Name] = source;
                }
                else if (existing.Type != variable.Type)
                {
                    throw new InvalidInputException("variable_conflict",
                        $"variable '{variable.Name}' is {Names.Of(existing.Type)} in {from[variable.Name]} but {Names.Of(variable.Type)} in the included {source}; give it one type.",
                        "variables");
                }
            }
        }
        VariableContract.ValidateDefinitions(merged);
        return merged;
    }

    /// <summary>The refusal of includes that come back to a prompt (<c>reference_cycle</c>), naming the chain <c>a → b → a</c>.</summary>
    public static ConflictException Cycle(IEnumerable<string> chain) =>
        new("reference_cycle",
            $"the includes form a cycle: {string.Join(" → ", chain)}; a prompt may not include itself, directly or through others (whatever the versions).",
            "content");

    /// <summary>The version <paramref name="reference"/> resolved to.</summary>
    internal IncludedPrompt Find(PromptReference reference) =>
        _byReference.GetValueOrDefault(reference) ?? throw NotFound([], reference);

    private static InvalidInputException NotFound(List<string> path, PromptReference reference) =>
        new("reference_not_found",
            $"{(path.Count == 0 ? "the template" : $"'{path[^1]}'")} includes {reference}, which names no version: no prompt '{reference.Name}' has " +
            (reference.Version is { } version ? $"a version {version}." : $"a version labelled '{reference.Label}'."),
            "content");

    /// <summary>A depth-first walk over the references. The prompt names on the current path find cycles; each reference is looked up
    /// once, and the names it reaches are kept, so a reference met again is checked against the new path without a second walk.</summary>
    private sealed class Walk(string includer, Func<PromptReference, CancellationToken, ValueTask<IncludedPrompt?>> find, CancellationToken cancellationToken)
    {
        private readonly List<string> _path = [includer];
        private readonly Dictionary<PromptReference, HashSet<string>> _reaches = [];

        public Dictionary<PromptReference, IncludedPrompt> Found { get; } = [];

        public async ValueTask<HashSet<string>> VisitAsync(PromptReference reference)
        {
            if (_path.Contains(reference.Name, StringComparer.Ordinal))
                throw Cycle(reference.Name, [reference.Name]);
            if (_reaches.TryGetValue(reference, out var reached))
            {
                var back = _path.FirstOrDefault(reached.Contains);
                if (back is not null) throw Cycle(back, [reference.Name, "…", back]);
                return reached;
            }
            if (_path.Count > TemplateLimits.MaxIncludeDepth)
                throw new InvalidInputException("template_too_deep",
                    $"content includes prompts more than {TemplateLimits.MaxIncludeDepth} deep ({string.Join(" → ", _path)} → {reference.Name}); the include depth limit is {TemplateLimits.MaxIncludeDepth}.",
                    "content");

            var included = await find(reference, cancellationToken) ?? throw NotFound(_path, reference);
            Found[reference] = included;
            _path.Add(reference.Name);
            var names = new HashSet<string>(StringComparer.Ordinal) { reference.Name };
            foreach (var inner in included.Template.References)
                names.UnionWith(await VisitAsync(inner));
            _path.RemoveAt(_path.Count - 1);
            _reaches[reference] = names;
            return names;
        }

        private ConflictException Cycle(string back, List<string> tail) => PromptIncludes.Cycle(_path.Skip(_path.IndexOf(back)).Concat(tail));
    }
}
