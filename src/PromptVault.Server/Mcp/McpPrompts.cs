using System.Text.Json;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using PromptVault.Core;
using PromptVault.Core.Contracts;
using PromptVault.Core.Experiments;
using PromptVault.Core.Prompts;
using PromptVault.Core.Registry;
using PromptVault.Core.Storage;
using Prompt = ModelContextProtocol.Protocol.Prompt;
using PromptMessage = ModelContextProtocol.Protocol.PromptMessage;

namespace PromptVault.Server.Mcp;

/// <summary>
/// MCP prompts (SPEC §11): every prompt with a production version, its arguments the variables a render of that version takes now
/// (<see cref="PromptRegistry.ServingContractAsync(string, PromptVersion, CancellationToken)"/>: with those its includes require as they resolve now);
/// <c>prompts/get</c> renders the version it found through <see cref="ExperimentService.RenderFoundAsync"/>, on the REST render's path.
/// </summary>
internal static class McpPrompts
{
    public static async ValueTask<ListPromptsResult> ListAsync(RequestContext<ListPromptsRequestParams> request, CancellationToken cancellationToken)
    {
        // The list is one page and never hands out a cursor, so any cursor is one this server did not give (MCP: -32602).
        if (request.Params?.Cursor is { } cursor)
            throw new InvalidInputException("invalid_cursor", $"cursor '{cursor}' is not one this server gave: prompts/list answers every prompt in one page, so send none.", "cursor");
        var registry = request.Services!.GetRequiredService<PromptRegistry>();
        var prompts = new List<Prompt>();
        foreach (var served in await registry.ListServedPromptsAsync(cancellationToken))
        {
            var contract = await registry.ServingContractAsync(served.Prompt.Name, served.Version, cancellationToken);
            prompts.Add(new Prompt { Name = served.Prompt.Name, Description = served.Prompt.Description, Arguments = contract.Select(Argument).ToList() });
        }
        return new ListPromptsResult { Prompts = prompts };
    }

    public static async ValueTask<GetPromptResult> GetAsync(RequestContext<GetPromptRequestParams> request, CancellationToken cancellationToken)
    {
        var name = request.Params?.Name;
        if (string.IsNullOrEmpty(name))
            throw new InvalidInputException("missing_name", "name is required: the prompt to render.", "name");
        var registry = request.Services!.GetRequiredService<PromptRegistry>();
        var (prompt, production) = await FindProductionAsync(registry, name, cancellationToken);

        var variables = Typed(await registry.ServingContractAsync(prompt.Name, production, cancellationToken), request.Params!.Arguments);
        var rendered = await request.Services!.GetRequiredService<ExperimentService>()
            .RenderFoundAsync(prompt, production, new RenderRequest(variables, Label: Label.Production), cancellationToken);
        return new GetPromptResult { Description = prompt.Description, Messages = Messages(prompt.Type, rendered) };
    }

    /// <summary>
    /// completion/complete for a prompt's argument: what its production version's variable can be said to be, as text a client
    /// sends (<see cref="Suggestions"/>), those starting with the typed value (ignoring case). Other variables have none.
    /// </summary>
    /// <exception cref="InvalidInputException">The reference is not to a prompt, or the argument is not one of its variables.</exception>
    public static async ValueTask<CompleteResult> CompleteAsync(RequestContext<CompleteRequestParams> request, CancellationToken cancellationToken)
    {
        // Null params, or a null ref or argument, pass the SDK's read (which checks only that the members are there).
        if (request.Params is not { Ref: { } requested, Argument: { } argument })
            throw new InvalidInputException("missing_field", (request.Params?.Ref, request.Params?.Argument) switch
            {
                (null, null) => "'ref' and 'argument' are required.",
                (null, _) => "'ref' is required.",
                _ => "'argument' is required.",
            }, "params");
        if (requested is not PromptReference reference)
            throw new InvalidInputException("unsupported_reference", $"ref/resource '{(requested as ResourceTemplateReference)?.Uri}' cannot be completed: this server has no resource templates; "
                + "completion/complete completes a prompt's arguments (ref/prompt).", "ref");
        var registry = request.Services!.GetRequiredService<PromptRegistry>();
        var (prompt, production) = await FindProductionAsync(registry, reference.Name, cancellationToken);
        var contract = await registry.ServingContractAsync(prompt.Name, production, cancellationToken);
        var variable = contract.FirstOrDefault(v => v.Name == argument.Name)
            ?? throw new InvalidInputException("unknown_argument", $"prompt '{prompt.Name}' version {production.Version} has no argument '{argument.Name}'; "
                + (contract.Count == 0 ? "it takes none." : $"its arguments are {string.Join(", ", contract.Select(v => v.Name))}."), "argument.name");
        var typed = argument.Value ?? "";
        var values = Suggestions(variable).Where(v => v.StartsWith(typed, StringComparison.OrdinalIgnoreCase)).ToList();
        return new CompleteResult { Completion = new Completion { Values = values, Total = values.Count, HasMore = false } };
    }

    /// <summary>
    /// A variable's values worth offering: its default first, then for a boolean true and false. The text is what a client sends
    /// for the value (<see cref="Typed"/> reads it back): a string as it is, any other value as JSON.
    /// </summary>
    private static IEnumerable<string> Suggestions(VariableDefinition variable)
    {
        var suggestions = new List<string>();
        if (variable.HasDefault)
        {
            var value = variable.DefaultValue!.Value;
            suggestions.Add(variable.Type == VariableType.String && value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText());
        }
        if (variable.Type == VariableType.Boolean) suggestions.AddRange(["true", "false"]);
        return suggestions.Distinct(StringComparer.Ordinal);
    }

    /// <summary>The prompt named and its production version, from the registry's cache as a render reads them.</summary>
    /// <exception cref="NotFoundException">No such prompt, or it has no production version.</exception>
    private static async ValueTask<(PromptVault.Core.Prompts.Prompt Prompt, PromptVersion Production)> FindProductionAsync(
        PromptRegistry registry, string name, CancellationToken cancellationToken)
    {
        var (prompt, production) = await registry.FindServedAsync(name, Label.Production, cancellationToken);
        return (prompt, production ?? throw new NotFoundException("no_production_version", $"prompt '{prompt.Name}' has no production version; MCP serves production versions only."));
    }

    /// <summary>
    /// The messages of a render. A text prompt is one message; a chat prompt (SPEC §7) each of its rendered messages, in order.
    /// MCP has only the user and assistant roles, so a system prompt or message goes as the user's message.
    /// </summary>
    internal static IList<PromptMessage> Messages(PromptType type, RenderResponse rendered) =>
        rendered.Messages is { } messages
            ? messages.Select(m => Message(m.Role == MessageRole.Assistant, m.Content)).ToList()
            : [Message(type == PromptType.Assistant, rendered.Content ?? "")];

    private static PromptMessage Message(bool assistant, string text) =>
        new() { Role = assistant ? Role.Assistant : Role.User, Content = new TextContentBlock { Text = text } };

    /// <summary>MCP has no argument types: the type goes in the description, so a client can show it and send the right value.</summary>
    private static PromptArgument Argument(VariableDefinition variable) => new()
    {
        Name = variable.Name,
        Description = string.IsNullOrWhiteSpace(variable.Description)
            ? $"({Names.Of(variable.Type)})"
            : $"{variable.Description} ({Names.Of(variable.Type)})",
        Required = !variable.IsOptional,
    };

    /// <summary>
    /// MCP clients send prompt arguments as strings; a string given for a number, boolean, array or object variable is read as JSON.
    /// Text that is not JSON stays a string, and the render's own check refuses it naming the variable and its type.
    /// </summary>
    private static Dictionary<string, JsonElement> Typed(IReadOnlyList<VariableDefinition> contract, IDictionary<string, JsonElement>? arguments)
    {
        var types = contract.ToDictionary(v => v.Name, v => v.Type, StringComparer.Ordinal);
        var typed = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var (name, value) in arguments ?? new Dictionary<string, JsonElement>())
            typed[name] = value.ValueKind == JsonValueKind.String && types.TryGetValue(name, out var type) && type != VariableType.String
                ? FromText(value)
                : value;
        return typed;
    }

    private static JsonElement FromText(JsonElement text)
    {
        try
        {
            using var document = JsonDocument.Parse(text.GetString()!);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return text;
        }
    }
}
