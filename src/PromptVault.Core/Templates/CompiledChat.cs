using System.Collections;
using System.Text.Json;
using PromptVault.Core.Prompts;

namespace PromptVault.Core.Templates;

/// <summary>
/// A chat prompt's messages compiled once (SPEC §7): each message's template, and each placeholder's <c>array</c> variable
/// whose <c>{ role, content }</c> items are spliced in at render. Safe to use from many threads.
/// </summary>
public sealed class CompiledChat
{
    /// <summary>The most messages one chat version may hold (error <c>too_many</c>).</summary>
    public const int MaxMessages = 100;

    private readonly Part[] _parts;
    private readonly TimeProvider _time;

    // Each message's render checks the inputs against the contract; with no template message, this empty one does.
    private readonly CompiledPrompt? _contractOnly;

    internal CompiledChat(IReadOnlyList<PromptMessage> messages, IReadOnlyList<VariableDefinition> variables, TimeProvider time, Func<string, CompiledPrompt> compile)
    {
        _time = time;
        var byName = variables.ToDictionary(v => v.Name, StringComparer.Ordinal);
        _parts = messages.Select(m => m.Role == MessageRole.Placeholder
            ? new Part(m.Role, null, byName[m.Content])
            : new Part(m.Role, compile(m.Content), null)).ToArray();
        _contractOnly = _parts.Any(p => p.Template is not null) ? null : compile("");
        References = _parts.Where(p => p.Template is not null).SelectMany(p => p.Template!.References).Distinct().ToList();
    }

    private CompiledChat(Part[] parts, CompiledPrompt? contractOnly, IReadOnlyList<PromptReference> references, TimeProvider time)
    {
        _parts = parts;
        _contractOnly = contractOnly;
        References = references;
        _time = time;
    }

    /// <summary>The same messages with <paramref name="contract"/>, which starts with their variables in their order and may add or
    /// amend others (as <see cref="CompiledPrompt.WithContract"/>): each template's steps are kept, a placeholder reads its variable from it.</summary>
    /// <exception cref="ArgumentException">The contract does not start with the messages' variables.</exception>
    public CompiledChat WithContract(IReadOnlyList<VariableDefinition> contract)
    {
        ArgumentNullException.ThrowIfNull(contract);
        var byName = contract.ToDictionary(v => v.Name, StringComparer.Ordinal);
        var parts = _parts.Select(p => p.Template is { } template
            ? p with { Template = template.WithContract(contract) }
            : p with { Placeholder = byName[p.Placeholder!.Name] }).ToArray();
        return new CompiledChat(parts, _contractOnly?.WithContract(contract), References, _time);
    }

    /// <summary>The prompts the messages include (<c>{{&gt; name}}</c>), each once, in order of first use; resolve them with
    /// <see cref="PromptIncludes.ResolveAsync"/> and pass the result to a render.</summary>
    public IReadOnlyList<PromptReference> References { get; }

    /// <summary>How many messages (templates and placeholders) the chat has.</summary>
    internal int MessageCount => _parts.Length;

    /// <summary>The prompts message <paramref name="index"/> includes (none for a placeholder), to resolve them alone and name the message in a refusal.</summary>
    internal IReadOnlyList<PromptReference> ReferencesOf(int index) => _parts[index].Template?.References ?? [];

    /// <summary>Checks a chat version's messages before it is saved: each template as <see cref="TemplateEngine.Validate"/> checks
    /// content, each placeholder naming a declared <c>array</c> variable. Errors name the message's index and field.</summary>
    /// <exception cref="InvalidInputException">A message breaks a rule; the field is <c>messages[i].role</c> or <c>messages[i].content</c>.</exception>
    internal static void Validate(TemplateEngine engine, IReadOnlyList<PromptMessage>? messages, IReadOnlyList<VariableDefinition> variables)
    {
        if (messages is null || messages.Count == 0)
            throw new InvalidInputException("missing_messages", "messages is required for a chat prompt: a list of { role, content } with at least one message.", "messages");
        if (messages.Count > MaxMessages)
            throw new InvalidInputException("too_many", $"messages has {messages.Count} entries; the limit is {MaxMessages}.", "messages");
        VariableContract.ValidateDefinitions(variables);
        var declared = variables.ToDictionary(v => v.Name, StringComparer.Ordinal);
        for (var i = 0; i < messages.Count; i++)
        {
            var field = $"messages[{i}]";
            var message = messages[i] ?? throw new InvalidInputException("invalid_message", $"{field} is null: send {{ role, content }}.", field);
            if (!Enum.IsDefined(message.Role))
                throw new InvalidInputException("invalid_message", $"{field}.role must be one of {Names.AllOf<MessageRole>()}.", $"{field}.role");
            if (message.Content is null)
                throw new InvalidInputException("invalid_message", $"{field}.content is required.", $"{field}.content");
            if (message.Role == MessageRole.Placeholder)
            {
                if (!declared.TryGetValue(message.Content, out var variable) || variable.Type != VariableType.Array)
                    throw new InvalidInputException("invalid_placeholder",
                        $"{field} is a placeholder, so its content must name a declared array variable; '{PromptRules.Shorten(message.Content)}' is " +
                        (variable is null ? "not declared." : $"declared as a {Names.Of(variable.Type)}."), $"{field}.content");
                continue;
            }
            try
            {
                engine.Validate(message.Content, variables);
            }
            catch (InvalidInputException e)
            {
                var text = e.Message.StartsWith("content ", StringComparison.Ordinal) ? $"{field}.{e.Message}" : $"{field}.content: {e.Message}";
                throw new InvalidInputException(e.Code, text, $"{field}.content");
            }
        }
    }

    /// <summary>Validates JSON <paramref name="inputs"/> (the HTTP path) and renders each message, placeholders spliced in.</summary>
    /// <param name="inputs">The variables' values.</param>
    /// <param name="includes">The versions the messages' <see cref="References"/> resolved to; none by default.</param>
    /// <exception cref="InvalidInputException">As <see cref="CompiledPrompt.Render(IReadOnlyDictionary{string, JsonElement}, PromptIncludes)"/>, or a
    /// placeholder's value holds an item that is not <c>{ role, content }</c> (the error names the variable and item).</exception>
    public IReadOnlyList<PromptMessage> Render(IReadOnlyDictionary<string, JsonElement>? inputs, PromptIncludes? includes = null)
    {
        _contractOnly?.Render(inputs);
        // One output for every message: the render's limits on output size and time apply to the messages together.
        using var output = new RenderOutput(_time);
        var messages = new List<PromptMessage>(_parts.Length);
        foreach (var part in _parts)
        {
            if (part.Template is not null)
                messages.Add(new PromptMessage(part.Role, part.Template.Render(inputs, includes, output)));
            else if (inputs is not null && inputs.TryGetValue(part.Placeholder!.Name, out var value) && value.ValueKind == JsonValueKind.Array)
                Splice(part.Placeholder, value.EnumerateArray().Select(item => (object?)item), messages);
            else if (part.Placeholder!.HasDefault)
                Splice(part.Placeholder, part.Placeholder.DefaultValue!.Value.EnumerateArray().Select(item => (object?)item), messages);
        }
        return messages;
    }

    /// <summary>
    /// Validates in-process .NET <paramref name="values"/> as <see cref="CompiledPrompt.RenderValues(IReadOnlyDictionary{string, object}, PromptIncludes)"/> does and renders each
    /// message. A placeholder's items are <see cref="PromptMessage"/>s, dictionaries with <c>role</c> and <c>content</c>, or
    /// JSON objects.
    /// </summary>
    /// <param name="values">The variables' values.</param>
    /// <param name="includes">The versions the messages' <see cref="References"/> resolved to; none by default.</param>
    /// <exception cref="InvalidInputException">As <see cref="Render(IReadOnlyDictionary{string, JsonElement}, PromptIncludes)"/>.</exception>
    public IReadOnlyList<PromptMessage> RenderValues(IReadOnlyDictionary<string, object?>? values, PromptIncludes? includes = null)
    {
        _contractOnly?.RenderValues(values);
        using var output = new RenderOutput(_time);
        var messages = new List<PromptMessage>(_parts.Length);
        foreach (var part in _parts)
        {
            if (part.Template is not null)
                messages.Add(new PromptMessage(part.Role, part.Template.RenderValues(values, includes, output)));
            else if (values is not null && values.TryGetValue(part.Placeholder!.Name, out var value) && value is IEnumerable items and not string)
                Splice(part.Placeholder, items.Cast<object?>(), messages);
            else if (part.Placeholder!.HasDefault)
                Splice(part.Placeholder, part.Placeholder.DefaultValue!.Value.EnumerateArray().Select(item => (object?)item), messages);
        }
        return messages;
    }

    private static void Splice(VariableDefinition placeholder, IEnumerable<object?> items, List<PromptMessage> messages)
    {
        var index = 0;
        foreach (var item in items)
        {
            messages.Add(ItemMessage(item) ?? throw new InvalidInputException("invalid_variable",
                $"variable '{placeholder.Name}' item {index} must be a message {{ role, content }} with role system, user or assistant and content a string.",
                $"variables.{placeholder.Name}[{index}]"));
            index++;
        }
    }

    private static PromptMessage? ItemMessage(object? item)
    {
        var (role, content) = item switch
        {
            PromptMessage message => (Names.Of(message.Role), message.Content),
            JsonElement { ValueKind: JsonValueKind.Object } json => (Text(json, "role"), Text(json, "content")),
            IReadOnlyDictionary<string, object?> map => (map.GetValueOrDefault("role") as string, map.GetValueOrDefault("content") as string),
            IDictionary<string, object?> map => (map.TryGetValue("role", out var r) ? r as string : null, map.TryGetValue("content", out var c) ? c as string : null),
            _ => (null, null),
        };
        return content is not null && Names.TryParse<MessageRole>(role ?? "", out var parsed) && parsed != MessageRole.Placeholder
            ? new PromptMessage(parsed, content)
            : null;
    }

    private static string? Text(JsonElement json, string name) =>
        json.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private sealed record Part(MessageRole Role, CompiledPrompt? Template, VariableDefinition? Placeholder);
}
