using System.Collections.Concurrent;
using PromptVault.Core.Prompts;

namespace PromptVault.Core.Templates;

/// <summary>
/// Compiles templates (the Handlebars subset of SPEC §2, no HTML escaping; <see cref="TemplateParser"/>) and keeps one
/// compiled template per version.
/// Versions are immutable, so a cached template never goes stale. Thread-safe.
/// </summary>
/// <param name="timeProvider">The clock that times renders against <see cref="TemplateLimits.MaxRenderTime"/>; the system clock by default.</param>
public sealed class TemplateEngine(TimeProvider? timeProvider = null)
{
    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;
    private readonly ConcurrentDictionary<string, CompiledPrompt> _byVersionId = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, CompiledChat> _chatByVersionId = new(StringComparer.Ordinal);

    /// <summary>Checks a template and its variables before a version is saved.</summary>
    /// <exception cref="InvalidInputException">
    /// The template is over a <see cref="TemplateLimits">limit</see>, the variables are malformed, the template does not compile,
    /// or it names an undeclared variable.
    /// </exception>
    public void Validate(string content, IReadOnlyList<VariableDefinition> variables)
    {
        ArgumentNullException.ThrowIfNull(content);
        if (content.Length > TemplateLimits.MaxSize)
            throw new InvalidInputException("template_too_large",
                $"content is {content.Length:N0} characters long; the template size limit (after partials) is {TemplateLimits.MaxSize:N0} characters.", "content");
        VariableContract.ValidateDefinitions(variables);
        var parsed = TemplateParser.Parse(content);
        if (parsed.LiteralTag is { } literal)
            throw TemplateParser.Refuse(content, parsed.LiteralAt, "invalid_template",
                $"content is not a valid template: '{{{{{literal}}}}}' writes a literal, which Handlebars reads as the name of a member to write; write the text without braces, or name a variable.");
        var references = parsed.References;
        var declared = variables.ToDictionary(v => v.Name, StringComparer.Ordinal);
        var undeclared = references.Where(r => !declared.ContainsKey(r.Name)).ToList();
        if (undeclared.Count > 0)
        {
            var unknown = undeclared.Select(r => r.Name).Distinct().ToList();
            throw TemplateParser.Refuse(content, undeclared[0].At, "unknown_variable",
                $"content references {string.Join(", ", unknown.Select(n => $"'{n}'"))}, which {(unknown.Count == 1 ? "is not a declared variable" : "are not declared variables")}; declare {(unknown.Count == 1 ? "it" : "them")} in variables or fix the name.");
        }
        var scalar = references.FirstOrDefault(r => r.Iterated && declared[r.Name].Type is not (VariableType.Array or VariableType.Object));
        if (scalar is not null)
            throw new InvalidInputException("invalid_template",
                $"content iterates '{scalar.Name}' with #each, but it is declared as a {Names.Of(declared[scalar.Name].Type)}; declare it as an array or object.",
                "content");
    }

    /// <summary>Checks a template's syntax alone, before its variables and includes are known (a prompt file's reader does).</summary>
    /// <exception cref="InvalidInputException">The template breaks the grammar or a limit; its <see cref="InvalidInputException.Location"/> says where.</exception>
    public static void CheckSyntax(string content) => TemplateParser.Parse(content);

    /// <summary>Checks a draft as <see cref="Validate"/> does and compiles it without caching it (the dashboard's live preview).</summary>
    /// <exception cref="InvalidInputException">As <see cref="Validate"/>.</exception>
    public CompiledPrompt CompileDraft(string content, IReadOnlyList<VariableDefinition> variables)
    {
        Validate(content, variables);
        return Compile(content, variables);
    }

    /// <summary>The top-level variable names a template reads, in order of first use (the checks of <see cref="Validate"/> apply).</summary>
    /// <exception cref="InvalidInputException">The template breaks a rule of the grammar or a limit.</exception>
    public static IReadOnlyList<string> VariableNames(string content) =>
        TemplateParser.Parse(content).References.Select(r => r.Name).Distinct(StringComparer.Ordinal).ToList();

    /// <summary>
    /// The prompts a stored version includes, each once, in order of first use: its content's, or, for a chat version, its
    /// template messages' (a placeholder names a variable, not a template). Parsed each call, for a version read without
    /// compiling it; <see cref="ReferencesOf"/> is the same from the compiled, cached version.
    /// </summary>
    /// <exception cref="InvalidInputException">A template breaks a rule of the grammar or a limit.</exception>
    public static IReadOnlyList<PromptReference> IncludesIn(string content, IReadOnlyList<PromptMessage>? messages) => messages is null
        ? TemplateParser.Parse(content).Includes
        : messages.Where(m => m.Role != MessageRole.Placeholder).SelectMany(m => TemplateParser.Parse(m.Content).Includes).Distinct().ToList();

    /// <summary>The compiled template of a stored version (compiled on first use, then reused).</summary>
    public CompiledPrompt For(PromptVersion version) => For(version.Id, version.Content, version.Variables);

    /// <summary>The compiled template of the version <paramref name="versionId"/> whose template and variables are given (the SDK's
    /// snapshot carries versions without the rest of a <see cref="PromptVersion"/>); compiled on first use of the id, then reused.</summary>
    public CompiledPrompt For(string versionId, string content, IReadOnlyList<VariableDefinition> variables) =>
        _byVersionId.GetOrAdd(versionId, static (_, args) => args.Engine.Compile(args.Content, args.Variables), (Engine: this, Content: content, Variables: variables));

    /// <summary>Checks a chat version's messages and variables before it is saved (SPEC §7); errors name the message's index.</summary>
    /// <exception cref="InvalidInputException">There are no messages or too many, a template breaks a rule of <see cref="Validate"/>,
    /// or a placeholder does not name a declared array variable.</exception>
    public void ValidateChat(IReadOnlyList<PromptMessage>? messages, IReadOnlyList<VariableDefinition> variables) =>
        CompiledChat.Validate(this, messages, variables);

    /// <summary>Checks a chat draft as <see cref="ValidateChat"/> does and compiles it without caching it (the dashboard's live preview).</summary>
    /// <exception cref="InvalidInputException">As <see cref="ValidateChat"/>.</exception>
    public CompiledChat CompileChatDraft(IReadOnlyList<PromptMessage> messages, IReadOnlyList<VariableDefinition> variables)
    {
        ValidateChat(messages, variables);
        return CompileChat(messages, variables);
    }

    /// <summary>The compiled messages of the chat version <paramref name="versionId"/> (compiled on first use of the id, then reused).</summary>
    public CompiledChat ChatFor(string versionId, IReadOnlyList<PromptMessage> messages, IReadOnlyList<VariableDefinition> variables) =>
        _chatByVersionId.GetOrAdd(versionId, static (_, args) => args.Engine.CompileChat(args.Messages, args.Variables),
            (Engine: this, Messages: messages, Variables: variables));

    /// <summary>The prompts a stored version includes: its content's references, or a chat version's messages' (compiled once, as <see cref="For(PromptVersion)"/>).</summary>
    public IReadOnlyList<PromptReference> ReferencesOf(PromptVersion version)
    {
        ArgumentNullException.ThrowIfNull(version);
        return version.Messages is { } messages ? ChatFor(version.Id, messages, version.Variables).References : For(version).References;
    }

    /// <summary>Compiles a template without checking or caching it (a draft that <see cref="Validate"/> passed).</summary>
    internal CompiledPrompt Compile(string content, IReadOnlyList<VariableDefinition> variables) =>
        new(TemplateParser.Parse(content), variables, _time);

    /// <summary>Compiles chat messages without checking or caching them (a draft that <see cref="ValidateChat"/> passed).</summary>
    internal CompiledChat CompileChat(IReadOnlyList<PromptMessage> messages, IReadOnlyList<VariableDefinition> variables) =>
        new(messages, variables, _time, content => Compile(content, variables));
}
