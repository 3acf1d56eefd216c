using System.Collections.Frozen;
using System.ComponentModel;
using System.Reflection;
using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Authorization;
using ModelContextProtocol.Server;
using PromptVault.Core;
using PromptVault.Core.Analysis;
using PromptVault.Core.Contracts;
using PromptVault.Core.Experiments;
using PromptVault.Core.Prompts;
using PromptVault.Core.Registry;
using PromptVault.Core.Storage;
using PromptVault.Core.Versioning;
using PromptVault.Server.Api;
using PromptVault.Server.Auth;

namespace PromptVault.Server.Mcp;

/// <summary>The MCP tools of SPEC §11. Each is one call to the service its REST route calls, and answers the same JSON.</summary>
[McpServerToolType]
internal sealed class McpTools(PromptRegistry registry, ExperimentService experiments)
{
    /// <summary>
    /// What is wrong with a tool's arguments that the SDK could not bind: its exception carries System.Text.Json's message,
    /// which names .NET types and not the argument. Said as the REST API says it, and with the value sent: <c>'bump' must be one of patch, minor, major, a string spelled exactly so, not "huge".</c>
    /// </summary>
    /// A required argument that is missing is named too (<c>'name' is required.</c>): the SDK's own message for it is an
    /// ArgumentException's, <c>The arguments dictionary is missing a value ... (Parameter 'arguments')</c>.
    /// <returns>Null when no argument is missing or fails to read as its parameter.</returns>
    internal static string? DescribeBindingError(string? tool, IDictionary<string, JsonElement>? arguments)
    {
        foreach (var parameter in ArgumentsOf(tool))
        {
            var name = parameter.Name!;
            if (arguments?.TryGetValue(name, out var value) != true)
            {
                if (!parameter.HasDefaultValue) return $"'{name}' is required.";
                continue;
            }
            try
            {
                value.Deserialize(parameter.ParameterType, PromptVaultJson.Requests);
            }
            catch (JsonException e)
            {
                if (PageRequest.Unreadable(name, value.GetRawText()) is { } paging) return paging.Message;
                var path = ProblemExceptionHandler.JsonField(e);
                var field = path is null ? name : path.StartsWith('[') ? name + path : $"{name}.{path}";
                return ProblemExceptionHandler.DescribeJsonError(e, field, parameter.ParameterType, path, PromptVaultJson.Requests, value);
            }
        }
        return null;
    }

    /// <summary>
    /// Refuses an argument the tool does not take, as the HTTP API refuses a body member it does not take: the SDK drops it, so a
    /// misspelt <c>bumps: "major"</c> would create a patch version. An unknown tool is left to the SDK.
    /// </summary>
    /// <exception cref="InvalidInputException">An argument is not one of the tool's (<c>unknown_field</c>), naming it and those it takes.</exception>
    internal static void RefuseUnknownArguments(string? tool, IDictionary<string, JsonElement>? arguments)
    {
        var takes = ArgumentsOf(tool).Select(p => p.Name!).ToList();
        if (takes.Count == 0 || arguments?.Keys.FirstOrDefault(a => !takes.Contains(a, StringComparer.Ordinal)) is not { } unknown) return;
        throw new InvalidInputException("unknown_field", $"'{unknown}' is not an argument {tool} takes; it takes {string.Join(", ", takes)}.", unknown);
    }

    /// <summary>The parameters of a tool that its arguments fill (not those the SDK fills from the request); none for an unknown tool.</summary>
    private static IReadOnlyList<ParameterInfo> ArgumentsOf(string? tool) => tool is not null && ToolArguments.TryGetValue(tool, out var arguments) ? arguments : [];

    /// <summary>Each tool's <see cref="ArgumentsOf"/>, read by reflection once: every tools/call checks its arguments against them.</summary>
    private static readonly FrozenDictionary<string, ParameterInfo[]> ToolArguments = typeof(McpTools).GetMethods()
        .Where(m => m.GetCustomAttribute<McpServerToolAttribute>()?.Name is not null)
        .ToFrozenDictionary(m => m.GetCustomAttribute<McpServerToolAttribute>()!.Name!, m => m.GetParameters()
            .Where(p => p.ParameterType != typeof(CancellationToken) && p.ParameterType != typeof(ClaimsPrincipal)).ToArray(), StringComparer.Ordinal);

    [McpServerTool(Name = "list_prompts", ReadOnly = true),
     Description("Lists prompts with their labels and latest version, a page at a time as GET /api/prompts does: total says how many match, "
         + "and the next page is asked for with offset; filters are optional.")]
    public Task<PromptListResponse> ListPromptsAsync(
        [Description("Only prompts of this type"), Api.NamesOf(typeof(PromptType))] string? type = null,
        [Description("Only prompts in this category")] string? category = null,
        [Description("Only prompts with this tag")] string? tag = null,
        [Description("At most this many prompts; 100 when omitted")] int? limit = null,
        [Description("How many matching prompts to skip, by name order; 0 when omitted")] int? offset = null,
        CancellationToken cancellationToken = default) =>
        registry.ListPromptsAsync(PromptsApi.Filter(type, category, tag, PageRequest.From(limit, offset)), cancellationToken);

    [McpServerTool(Name = "get_prompt", ReadOnly = true), Description("Gets one version of a prompt (its template, variables and metadata): the production version unless a version is named.")]
    public async Task<VersionResponse> GetPromptAsync(
        [Description("The prompt's name")] string name,
        [Description("A version number such as 1.0.2, or a version id; the production version when omitted")] string? version = null,
        CancellationToken cancellationToken = default)
    {
        if (version is null)
        {
            var prompt = await registry.GetPromptAsync(name, cancellationToken);
            version = prompt.Labels.GetValueOrDefault(Label.Production)
                ?? throw new NotFoundException("no_production_version", $"prompt '{prompt.Name}' has no production version; name a version.");
        }
        return await registry.GetVersionAsync(name, version, cancellationToken);
    }

    [McpServerTool(Name = "render_prompt", ReadOnly = true), Description("Resolves and renders a prompt with variables, as POST /api/prompts/{name}/render does.")]
    public Task<RenderResponse> RenderPromptAsync(
        [Description("The prompt's name")] string name,
        [Description("The variables, by name, as JSON values")] Dictionary<string, JsonElement>? variables = null,
        [Description("The unit (user, session) a running experiment assigns a variant to")] string? unitId = null,
        [Description("The label to render; production when omitted")] string? label = null,
        [Description("An exact version to render instead of a label")] string? version = null,
        CancellationToken cancellationToken = default) =>
        experiments.RenderAsync(name, new RenderRequest(variables, unitId, label, version), cancellationToken);

    [McpServerTool(Name = "experiment_results", ReadOnly = true), Description("Analyses an experiment: each variant's metrics, the comparison with the control, and the winner if there is one.")]
    public Task<ExperimentResults> ExperimentResultsAsync(
        [Description("The experiment's id")] string id,
        CancellationToken cancellationToken = default) =>
        experiments.ResultsAsync(id, cancellationToken);

    [Authorize(Policy = RolePolicies.Writer)]
    [McpServerTool(Name = "create_version", Destructive = false), Description("Creates a new version of a prompt (writers). The version number is bumped from the change to its variables.")]
    public Task<VersionResponse> CreateVersionAsync(
        ClaimsPrincipal user,
        [Description("The prompt's name")] string name,
        [Description("What changed and why")] string changeDescription,
        [Description("The template (Handlebars); a chat prompt sends messages instead")] string? content = null,
        [Description("A chat prompt's messages instead of content: a list of { role, content }, role system, user, assistant or placeholder")] List<PromptMessage>? messages = null,
        [Description("The variables; the latest version's when omitted")] List<VariableDefinition>? variables = null,
        [Description("The model settings; the latest version's when omitted")] PromptMetadata? metadata = null,
        [Description("A larger bump than the change needs: major, minor or patch")] VersionBump? bump = null,
        CancellationToken cancellationToken = default) =>
        registry.CreateVersionAsync(name, new CreateVersionRequest(content, variables, metadata, changeDescription, bump, messages), user.Actor(), cancellationToken);
}
