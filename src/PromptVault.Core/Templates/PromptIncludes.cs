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
    private readonly IReadOnlyList<PromptReference> _direct;

    private PromptIncludes(IReadOnlyList<PromptReference> direct, Dictionary<PromptReference, IncludedPrompt> byReference)
    {
        _direct = direct;
        _byReference = byReference;
        Versions = byReference.Values.Select(i => i.Version).DistinctBy(v => v.VersionId).ToList();
    }

    /// <summary>No includes: what a template without references renders with.</summary>
    public static PromptIncludes None { get; } = new([], []);

    /// <summary>The includes of templates rendered together, each resolved alone (a chat prompt's messages, so that a refusal names its
    /// message): a render of any of them, and the contract they share (<see cref="MergeContract"/>; a conflict names the included
    /// version each side came from, whichever template included it).</summary>
    public static PromptIncludes Together(IReadOnlyList<PromptIncludes> templates)
    {
        ArgumentNullException.ThrowIfNull(templates);
        if (templates.Count == 1) return templates[0];
        var byReference = new Dictionary<PromptReference, IncludedPrompt>();
        foreach (var template in templates)
            foreach (var (reference, included) in template._byReference)
                byReference.TryAdd(reference, included);
        return byReference.Count == 0 ? None : new(templates.SelectMany(t => t._direct).Distinct().ToList(), byReference);
    }

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
        return new PromptIncludes(references, walk.Found);
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
    /// The including version's contract, which must accept exactly what a render of it accepts: <paramref name="declared"/>, then
    /// each included variable it does not declare (SPEC §7: the referenced variables join the including version's contract, and
    /// so its semver bump). A render gives each template a variable's value from the caller, else from the outermost including
    /// template's default, else from its own default, and each template checks that value against its own declaration. So a
    /// variable declared on several sides keeps the including declaration, must have one type and at most one validation
    /// pattern (which it carries), and is required exactly when some template requires it and no template above it, the
    /// including one included, has a default.
    /// </summary>
    /// <exception cref="InvalidInputException">A variable has different types, or different patterns, on two sides (<c>variable_conflict</c>);
    /// a default fails the pattern it carries; or the merged contract is over a limit.</exception>
    public IReadOnlyList<VariableDefinition> MergeContract(IReadOnlyList<VariableDefinition> declared)
    {
        ArgumentNullException.ThrowIfNull(declared);
        if (_byReference.Count == 0) return declared;
        var merged = declared.ToList();
        var from = declared.ToDictionary(v => v.Name, _ => "this version", StringComparer.Ordinal);
        var patternFrom = new Dictionary<string, string>(from, StringComparer.Ordinal);
        foreach (var included in _byReference.Values.DistinctBy(i => i.Version.VersionId))
        {
            foreach (var variable in included.Template.Variables)
            {
                var source = $"the included '{included.Version.Name}' {included.Version.Version}";
                var index = merged.FindIndex(v => v.Name == variable.Name);
                if (index < 0)
                {
                    merged.Add(variable);
                    from[variable.Name] = patternFrom[variable.Name] = source;
                    continue;
                }
                var existing = merged[index];
                if (existing.Type != variable.Type)
                    throw Conflict(variable.Name, $"is {Names.Of(existing.Type)} in {from[variable.Name]} but {Names.Of(variable.Type)} in {source}; give it one type.");
                if (variable.Validation is null || variable.Validation == existing.Validation) continue;
                if (existing.Validation is not null)
                    throw Conflict(variable.Name,
                        $"must match {existing.Validation} in {patternFrom[variable.Name]} but {variable.Validation} in {source}; give it one validation pattern.");
                merged[index] = existing with { Validation = variable.Validation };
                patternFrom[variable.Name] = source;
            }
        }
        for (var i = 0; i < merged.Count; i++)
        {
            if (merged[i] is { HasDefault: false, Required: false } optional && NeedsAValue(optional.Name, _direct, []))
                merged[i] = optional with { Required = true };
        }
        VariableContract.ValidateDefinitions(merged);
        return merged;
    }

    /// <summary>
    /// Whether <paramref name="variables"/> can be what <see cref="MergeContract"/> made of <paramref name="declared"/>, whatever the
    /// includes resolved to when the version was saved (a label may hold another version since): the declared variables first, in
    /// their order, each as declared but for a pattern it left to an include, or required where it was optional without a default;
    /// then, only if the version includes something, the variables the includes joined.
    /// </summary>
    /// <returns>What is wrong, naming the variable; null when nothing is.</returns>
    public static string? JoinedContractProblem(IReadOnlyList<VariableDefinition> declared, IReadOnlyList<VariableDefinition> variables, bool includes)
    {
        ArgumentNullException.ThrowIfNull(declared);
        ArgumentNullException.ThrowIfNull(variables);
        for (var i = 0; i < declared.Count; i++)
        {
            var own = declared[i];
            if (i >= variables.Count || variables[i].Name != own.Name)
                return $"does not hold the declared variable '{own.Name}' at [{i}]: variables starts with declaredVariables, in their order";
            var joined = variables[i];
            var expected = own with
            {
                Validation = own.Validation ?? joined.Validation,
                Required = own.Required || (!own.HasDefault && joined.Required),
            };
            if (Canonical.Json(joined) != Canonical.Json(expected))
                return $"holds the declared variable '{own.Name}' as {Canonical.Json(joined)}, but it was declared {Canonical.Json(own)}: " +
                    "an include may only give it a pattern it lacks, or require it when it is optional without a default";
        }
        if (!includes && variables.Count > declared.Count)
            return $"holds '{variables[declared.Count].Name}', which the version does not declare and, including nothing, cannot be given";
        return null;
    }

    private static InvalidInputException Conflict(string variable, string detail) =>
        new("variable_conflict", $"variable '{variable}' {detail}", "variables");

    /// <summary>Whether a render through <paramref name="references"/>, with no default for <paramref name="name"/> above them, reaches a
    /// template that requires it before one that has a default for it (which its own includes then get).</summary>
    private bool NeedsAValue(string name, IReadOnlyList<PromptReference> references, Dictionary<PromptReference, bool> known)
    {
        foreach (var reference in references)
        {
            if (!known.TryGetValue(reference, out var needs))
            {
                var template = _byReference[reference].Template;
                var variable = template.Variables.FirstOrDefault(v => v.Name == name);
                needs = variable is not { HasDefault: true } && (variable is { Required: true } || NeedsAValue(name, template.References, known));
                known[reference] = needs;
            }
            if (needs) return true;
        }
        return false;
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
