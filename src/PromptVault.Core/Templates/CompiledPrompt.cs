using System.Text.Json;
using System.Text.RegularExpressions;
using PromptVault.Core.Prompts;

namespace PromptVault.Core.Templates;

/// <summary>A version's template compiled once, with its variables' patterns compiled once; safe to use from many threads.</summary>
public sealed class CompiledPrompt
{
    private readonly RenderStep[] _steps;
    private readonly int _frames;
    private readonly Slot[] _variables;
    private readonly string[] _names;
    private readonly TimeProvider _time;

    internal CompiledPrompt(ParsedTemplate template, IReadOnlyList<VariableDefinition> variables, TimeProvider time)
        : this(TemplateCompiler.Compile(template, variables.Select(v => v.Name).ToArray()), template.Frames, variables, time, template.Includes)
    {
    }

    private CompiledPrompt(RenderStep[] steps, int frames, IReadOnlyList<VariableDefinition> variables, TimeProvider time, IReadOnlyList<PromptReference> references)
    {
        _names = variables.Select(v => v.Name).ToArray();
        _steps = steps;
        _frames = frames;
        _time = time;
        _variables = variables.Select(Slot.For).ToArray();
        Variables = variables;
        References = references;
    }

    /// <summary>The same template with <paramref name="contract"/>, which starts with its variables in their order and may add
    /// others (<see cref="PromptIncludes.MergeContract(IReadOnlyList{VariableDefinition})"/>): the steps address variables by
    /// position, so they are kept, not compiled again.</summary>
    /// <exception cref="ArgumentException">The contract does not start with the template's variables.</exception>
    public CompiledPrompt WithContract(IReadOnlyList<VariableDefinition> contract)
    {
        ArgumentNullException.ThrowIfNull(contract);
        if (ReferenceEquals(contract, Variables)) return this;
        if (contract.Count < _names.Length || _names.Where((name, i) => contract[i].Name != name).Any())
            throw new ArgumentException("The contract must start with the template's variables, in their order.", nameof(contract));
        return new CompiledPrompt(_steps, _frames, contract, _time, References);
    }

    /// <summary>The variables the template was compiled with: its contract.</summary>
    public IReadOnlyList<VariableDefinition> Variables { get; }

    /// <summary>The prompts the template includes (<c>{{&gt; name}}</c>), each once, in order of first use; resolve them with
    /// <see cref="PromptIncludes.ResolveAsync"/> and pass the result to a render.</summary>
    public IReadOnlyList<PromptReference> References { get; }

    /// <summary>
    /// Validates JSON <paramref name="inputs"/> (the HTTP path) against the contract and renders the template with them. Each
    /// included prompt renders with the same inputs, checked against its own contract.
    /// </summary>
    /// <param name="inputs">The variables' values.</param>
    /// <param name="includes">The versions the template's <see cref="References"/> resolved to; none by default.</param>
    /// <exception cref="InvalidInputException">
    /// A required variable is missing, a value has the wrong type or fails its pattern, or the render passes a
    /// <see cref="TemplateLimits">limit</see> on output size or time.
    /// </exception>
    public string Render(IReadOnlyDictionary<string, JsonElement>? inputs, PromptIncludes? includes = null) =>
        Render(inputs, includes, output: null);

    /// <summary>The same, written after what <paramref name="output"/> holds (a chat's messages share one output, and so its limits); a new output when null.</summary>
    internal string Render(IReadOnlyDictionary<string, JsonElement>? inputs, PromptIncludes? includes, RenderOutput? output) =>
        Render(inputs, includes, static (slot, value) =>
        {
            // The kind read once: each JsonElement.ValueKind looks the value up in its document again.
            var kind = value.ValueKind;
            if (kind is JsonValueKind.Null or JsonValueKind.Undefined) return TemplateValue.Undefined;
            VariableContract.CheckValue(slot.Variable, value, kind, slot.Field, slot.Pattern);
            return TemplateValue.Of(value, kind);
        }, output);

    /// <summary>
    /// Validates in-process .NET <paramref name="values"/> against the contract and renders the template with them, as
    /// <see cref="Render(IReadOnlyDictionary{string, JsonElement}, PromptIncludes)"/> does with the JSON they would serialize to. A string
    /// is a <see cref="string"/>; a number any CLR numeric type; a boolean a <see cref="bool"/>; an object an
    /// <see cref="IReadOnlyDictionary{TKey, TValue}"/>, <see cref="IDictionary{TKey, TValue}"/> (string keys) or
    /// <see cref="System.Collections.IDictionary"/>; an array any other <see cref="System.Collections.IEnumerable"/>.
    /// Values reach the template as they are; a null value counts as absent.
    /// </summary>
    /// <exception cref="InvalidInputException">
    /// A required variable is missing, a value has the wrong type or fails its pattern, or the render passes a
    /// <see cref="TemplateLimits">limit</see> on output size or time.
    /// </exception>
    /// <param name="values">The variables' values.</param>
    /// <param name="includes">The versions the template's <see cref="References"/> resolved to; none by default.</param>
    public string RenderValues(IReadOnlyDictionary<string, object?>? values, PromptIncludes? includes = null) =>
        RenderValues(values, includes, output: null);

    /// <summary>The same, written after what <paramref name="output"/> holds; a new output when null.</summary>
    internal string RenderValues(IReadOnlyDictionary<string, object?>? values, PromptIncludes? includes, RenderOutput? output) =>
        Render(values, includes, static (slot, value) =>
        {
            if (value is null) return TemplateValue.Undefined;
            VariableContract.CheckValue(slot.Variable, value, slot.Field, slot.Pattern);
            return TemplateValue.Of(value);
        }, output);

    /// <summary>
    /// Checks each variable's value (or its absence) against the contract and renders the template with them into
    /// <paramref name="shared"/> after what it holds, or into an output of its own; returns what this render wrote, trimmed.
    /// <paramref name="check"/> checks a given value and reads it, or reads null as <see cref="TemplateValue.Undefined"/> (absent).
    /// </summary>
    private string Render<T>(IReadOnlyDictionary<string, T>? inputs, PromptIncludes? includes, Func<Slot, T, TemplateValue> check, RenderOutput? shared)
    {
        var root = Root(inputs, check);
        using var own = shared is null ? new RenderOutput(_time) : null;
        var output = shared ?? own!;
        var start = output.Length;
        var context = References.Count == 0 ? null : IncludeContextFor(inputs, includes, check);
        RenderState.Render(_steps, new RenderState(root, _frames, output) { Includes = context, Scope = context is null ? null : new IncludeScope(this, null) });
        return output.ToTrimmedString(start);
    }

    // Apart from Render<T>, so a render without includes allocates no closure.
    private static IncludeContext IncludeContextFor<T>(IReadOnlyDictionary<string, T>? inputs, PromptIncludes? includes, Func<Slot, T, TemplateValue> check) =>
        new(includes ?? PromptIncludes.None, (included, including) => included.Root(inputs, check, including));

    /// <summary>Renders this template where an including template's <c>{{&gt; …}}</c> stands, trimmed as its own render would be.</summary>
    internal void RenderIncluded(RenderState including)
    {
        if (including.Depth >= TemplateLimits.MaxIncludeDepth)
            throw new InvalidInputException("template_too_deep",
                $"the includes are more than {TemplateLimits.MaxIncludeDepth} deep; the include depth limit is {TemplateLimits.MaxIncludeDepth}.", "content");
        var output = including.Output;
        // A step like a loop's item: an included prompt may write nothing, and a fan-out of includes must still meet the time limit.
        output.Step();
        var start = output.Length;
        var includes = including.Includes!;
        var scope = including.Scope!;
        RenderState.Render(_steps, new RenderState(includes.RootFor(this, scope), _frames, output)
        {
            Includes = includes,
            Scope = References.Count == 0 ? null : new IncludeScope(this, scope),
            Depth = including.Depth + 1,
        });
        output.TrimFrom(start);
    }

    /// <summary>
    /// The variables' values, each checked against this contract: the caller's; else, in an included template, the default of the
    /// outermost including template that declares one (<paramref name="including"/>); else this template's own default.
    /// </summary>
    private RootValues Root<T>(IReadOnlyDictionary<string, T>? inputs, Func<Slot, T, TemplateValue> check, IncludeScope? including = null)
    {
        var root = new RootValues(_names);
        for (var i = 0; i < _variables.Length; i++)
        {
            var slot = _variables[i];
            var value = inputs is not null && inputs.TryGetValue(slot.Variable.Name, out var given) ? check(slot, given) : TemplateValue.Undefined;
            root[i] = !value.IsUndefined ? value : including?.OutermostDefault(slot.Variable.Name) is { } inherited ? slot.Inherit(inherited) : slot.Absent();
        }
        return root;
    }

    /// <summary>This template's declaration of <paramref name="name"/> when it has a default; null otherwise.</summary>
    private VariableDefinition? DefaultOf(string name)
    {
        var slot = Array.IndexOf(_names, name);
        return slot >= 0 && _variables[slot].Variable.HasDefault ? _variables[slot].Variable : null;
    }

    /// <summary>The templates an included template renders inside, innermost first: whose defaults its absent variables take.</summary>
    internal sealed class IncludeScope(CompiledPrompt prompt, IncludeScope? including)
    {
        private readonly CompiledPrompt _prompt = prompt;
        private readonly IncludeScope? _including = including;

        /// <summary>The default for <paramref name="name"/> of the outermost template that declares one, as a Handlebars partial
        /// sees what its context resolved; null when none does.</summary>
        public VariableDefinition? OutermostDefault(string name)
        {
            VariableDefinition? found = null;
            for (var scope = this; scope is not null; scope = scope._including)
                found = scope._prompt.DefaultOf(name) ?? found;
            return found;
        }
    }

    /// <summary>A variable with what rendering needs of it prepared once: its error field, its pattern, its default as the template sees it.</summary>
    private sealed record Slot(VariableDefinition Variable, string Field, Regex? Pattern, TemplateValue Default)
    {
        public static Slot For(VariableDefinition variable)
        {
            return new Slot(
                variable,
                $"variables.{variable.Name}",
                VariableContract.PatternOf(variable),
                variable.HasDefault ? TemplateValue.Of(variable.DefaultValue!.Value) : TemplateValue.Undefined);
        }

        /// <summary>The variable was not given, and an including template's declaration has a default: checked against this one.</summary>
        public TemplateValue Inherit(VariableDefinition including)
        {
            var value = including.DefaultValue!.Value;
            var kind = value.ValueKind;
            VariableContract.CheckValue(Variable, value, kind, Field, Pattern, CheckedValue.IncludersDefault);
            return TemplateValue.Of(value, kind);
        }

        /// <summary>The variable was not given (or given null): use its default, refuse it if required, else leave it out.</summary>
        public TemplateValue Absent() =>
            Variable.HasDefault || !Variable.Required
                ? Default
                : throw new InvalidInputException("missing_variable", $"variable '{Variable.Name}' is required.", Field);
    }
}
