using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using PromptVault.Core;
using PromptVault.Core.Auth;
using PromptVault.Core.Contracts;
using PromptVault.Core.Experiments;
using PromptVault.Core.Prompts;
using PromptVault.Core.Registry;
using PromptVault.Core.Storage;
using PromptVault.Server.Auth;
using PromptVault.Server.Hosting;

namespace PromptVault.Server.Api;

/// <summary>The prompt registry routes of SPEC §5. Each handler translates HTTP to one <see cref="PromptRegistry"/> call.</summary>
internal static class PromptsApi
{
    public static IEndpointRouteBuilder MapPromptsApi(this IEndpointRouteBuilder routes)
    {
        var prompts = routes.MapRouteGroup("/api/prompts").WithTags("Prompts").RequireAuthorization(RolePolicies.Reader)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);

        prompts.MapPost("/", CreatePrompt).WithName("CreatePrompt").WithSummary("Create a prompt with its first version").RequireToChange(RolePolicies.Writer).AcceptsIdempotencyKey();
        prompts.MapGet("/", ListPrompts).WithName("ListPrompts").WithSummary("List prompts").ProducesRevalidated<PromptListResponse>();
        prompts.MapGet("/{name}", GetPrompt).WithName("GetPrompt").WithSummary("Get a prompt with its labels and latest version").ProducesRevalidated<PromptResponse>();
        prompts.MapPatch("/{name}", UpdatePrompt).WithName("UpdatePrompt").WithSummary("Change a prompt's own fields (the promotion gates need an admin key)")
            .RequireToChange(RolePolicies.Writer).ProducesProblem(StatusCodes.Status403Forbidden);
        prompts.MapPost("/{name}/versions", CreateVersion).WithName("CreateVersion").WithSummary("Create a new version of a prompt").RequireToChange(RolePolicies.Writer).AcceptsIdempotencyKey();
        prompts.MapGet("/{name}/versions", ListVersions).WithName("ListVersions").WithSummary("List a prompt's versions").ProducesRevalidated<VersionListResponse>();
        prompts.MapGet("/{name}/versions/{version}", GetVersion).WithName("GetVersion").WithSummary("Get one version").ProducesRevalidated<VersionResponse>();
        prompts.MapPost("/{name}/versions/{version}/status", ChangeStatus).WithName("ChangeStatus").WithSummary("Change a version's status").RequireToChange(RolePolicies.Writer)
            .AcceptsLabelPrecondition(LabelPrecondition.PromoteDescription);
        prompts.MapPut("/{name}/labels/{label}", MoveLabel).WithName("MoveLabel").WithSummary("Move a label to a version").RequireToChange(RolePolicies.Admin)
            .AcceptsLabelPrecondition();
        prompts.MapDelete("/{name}/labels/{label}", RemoveLabel).WithName("RemoveLabel").WithSummary("Remove a label (not production)").RequireToChange(RolePolicies.Admin)
            .ProducesProblem(StatusCodes.Status409Conflict).AcceptsLabelPrecondition(notSet: false);
        prompts.MapPost("/{name}/rollback", Rollback).WithName("Rollback").WithSummary("Roll production back to an earlier version").RequireToChange(RolePolicies.Admin)
            .AcceptsLabelPrecondition(LabelPrecondition.ProductionDescription);
        prompts.MapGet("/{name}/compare", Compare).WithName("ComparePromptVersions").WithSummary("Compare two versions");
        prompts.MapPost("/{name}/render", Render).WithName("RenderPrompt").WithSummary("Resolve and render a prompt")
            .Accepts<RenderRequest>("application/json").Produces<RenderResponse>().ProducesProblem(StatusCodes.Status409Conflict);
        return routes;
    }

    private static async Task<Created<PromptResponse>> CreatePrompt(CreatePromptRequest request, PromptRegistry registry, ClaimsPrincipal user, HttpRequest http, CancellationToken cancellationToken)
    {
        var prompt = await registry.CreatePromptAsync(request, user.Actor(), IdempotencyHeader.Read(http), cancellationToken);
        return TypedResults.Created($"/api/prompts/{Uri.EscapeDataString(prompt.Name)}", prompt);
    }

    private static async Task<FileContentHttpResult> ListPrompts(PromptRegistry registry, [NamesOf(typeof(PromptType))] string? type, string? category, string? tag, int? limit, int? offset,
        HttpContext http, CancellationToken cancellationToken)
    {
        var page = PageRequest.From(limit, offset);
        var list = await registry.ListPromptsAsync(Filter(type, category, tag, page), cancellationToken);
        return RevalidatedJson.Of(list with { Next = Paging.Next(http.Request, page, list.Prompts.Count, list.Total) }, http);
    }

    private static async Task<FileContentHttpResult> GetPrompt(string name, PromptRegistry registry, HttpContext http, CancellationToken cancellationToken) =>
        RevalidatedJson.Of(await registry.GetPromptAsync(name, cancellationToken), http);

    private static async Task<Ok<PromptResponse>> UpdatePrompt(string name, UpdatePromptRequest request, PromptRegistry registry, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        if ((request.RequireApproval is not null || request.RequireTests is not null) && !user.HasRole(ApiKeyRole.Admin))
            throw new ForbiddenException("forbidden", "requireApproval and requireTests gate promotion, so changing them needs an admin key.");
        return TypedResults.Ok(await registry.UpdatePromptAsync(name, request, user.Actor(), cancellationToken));
    }

    private static async Task<Created<VersionResponse>> CreateVersion(string name, CreateVersionRequest request, PromptRegistry registry, ClaimsPrincipal user, HttpRequest http, CancellationToken cancellationToken)
    {
        var version = await registry.CreateVersionAsync(name, request, user.Actor(), IdempotencyHeader.Read(http), cancellationToken);
        return TypedResults.Created($"/api/prompts/{Uri.EscapeDataString(version.PromptName)}/versions/{version.Version}", version);
    }

    private static async Task<FileContentHttpResult> ListVersions(string name, int? limit, int? offset, PromptRegistry registry, HttpContext http,
        CancellationToken cancellationToken)
    {
        var page = PageRequest.From(limit, offset);
        var list = await registry.ListVersionsAsync(name, page, cancellationToken);
        return RevalidatedJson.Of(list with { Next = Paging.Next(http.Request, page, list.Versions.Count, list.Total) }, http);
    }

    private static async Task<FileContentHttpResult> GetVersion(string name, string version, PromptRegistry registry, HttpContext http, CancellationToken cancellationToken) =>
        RevalidatedJson.Of(await registry.GetVersionAsync(name, version, cancellationToken), http);

    private static async Task<Ok<VersionResponse>> ChangeStatus(string name, string version, ChangeStatusRequest request, PromptRegistry registry, ClaimsPrincipal user,
        HttpContext http, CancellationToken cancellationToken)
    {
        // Entering production is a promote, which only admins may do.
        if (request.Status == VersionStatus.Production && !user.HasRole(ApiKeyRole.Admin))
            throw new ForbiddenException("forbidden", "Moving a version to production promotes it, which needs an admin key.");
        var changed = await registry.ChangeStatusAsync(name, version, request.Status, user.Actor(), LabelPrecondition.Read(http.Request), cancellationToken);
        if (request.Status == VersionStatus.Production)
            http.Response.Headers.ETag = LabelPrecondition.TagOf(changed.Version);
        return TypedResults.Ok(changed);
    }

    private static async Task<Ok<VersionResponse>> MoveLabel(string name, string label, MoveLabelRequest request, PromptRegistry registry, ClaimsPrincipal user,
        HttpContext http, CancellationToken cancellationToken)
    {
        var moved = await registry.MoveLabelAsync(name, label, request.Version, user.Actor(), LabelPrecondition.Read(http.Request), cancellationToken);
        http.Response.Headers.ETag = LabelPrecondition.TagOf(moved.Version);
        return TypedResults.Ok(moved);
    }

    private static async Task<NoContent> RemoveLabel(string name, string label, PromptRegistry registry, ClaimsPrincipal user, HttpRequest http, CancellationToken cancellationToken)
    {
        await registry.RemoveLabelAsync(name, label, user.Actor(), LabelPrecondition.Read(http), cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<VersionResponse>> Rollback(string name, RollbackRequest request, PromptRegistry registry, ClaimsPrincipal user, HttpContext http,
        CancellationToken cancellationToken)
    {
        var created = await registry.RollbackAsync(name, request.Version, request.Reason, user.Actor(), LabelPrecondition.Read(http.Request), cancellationToken);
        http.Response.Headers.ETag = LabelPrecondition.TagOf(created.Version);
        return TypedResults.Ok(created);
    }

    private static async Task<Ok<ComparisonResponse>> Compare(string name, string? a, string? b, PromptRegistry registry, CancellationToken cancellationToken) =>
        TypedResults.Ok(await registry.CompareAsync(name, a, b, cancellationToken));

    /// <summary>
    /// The hot route (issue 9): the variables are elements of the body's document (<see cref="JsonBody"/>), which the render
    /// reads before the document is disposed; the answer is written by the source generator's fast path (<see cref="RenderAnswer"/>).
    /// </summary>
    private static async Task<Results<RenderAnswer, StatusCodeHttpResult>> Render(string name, HttpRequest http,
        ExperimentService experiments, CancellationToken cancellationToken)
    {
        using var body = await JsonBody.ReadAsync(http, cancellationToken);
        if (body is null)
            return JsonBody.UnsupportedMediaType();
        var rendered = await experiments.RenderAsync(name, ReadRenderRequest(body.RootElement), cancellationToken);
        return new RenderAnswer(rendered);
    }

    /// <summary>
    /// A render's body as System.Text.Json binds a <see cref="RenderRequest"/> with the API's settings (names in any case, a
    /// name given twice refused, another name is refused as <c>unknown_field</c>, an error names the field as sent), without copying the variables
    /// out of <paramref name="body"/>.
    /// </summary>
    private static RenderRequest ReadRenderRequest(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object)
            throw ProblemExceptionHandler.WrongJsonTypeAt<RenderRequest>(null);
        IReadOnlyDictionary<string, JsonElement>? variables = null;
        string? unitId = null, label = null, version = null;
        var seen = 0; // a bit per member read, as System.Text.Json tracks the members it has set
        foreach (var property in body.EnumerateObject())
        {
            var name = property.Name;
            int member;
            if (name.Equals("variables", StringComparison.OrdinalIgnoreCase)) (member, variables) = (1, Variables(property.Value, name));
            else if (name.Equals("unitId", StringComparison.OrdinalIgnoreCase)) (member, unitId) = (2, Text(property.Value, name));
            else if (name.Equals("label", StringComparison.OrdinalIgnoreCase)) (member, label) = (4, Text(property.Value, name));
            else if (name.Equals("version", StringComparison.OrdinalIgnoreCase)) (member, version) = (8, Text(property.Value, name));
            else throw ProblemExceptionHandler.UnknownFieldAt<RenderRequest>(name);
            if ((seen & member) != 0) throw ProblemExceptionHandler.RepeatedMemberAt(name);
            seen |= member;
        }
        return new RenderRequest(variables, unitId, label, version);

        static string? Text(JsonElement value, string field) => value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Null => null,
            _ => throw ProblemExceptionHandler.WrongJsonTypeAt<RenderRequest>(field),
        };

        static Dictionary<string, JsonElement>? Variables(JsonElement value, string field)
        {
            if (value.ValueKind == JsonValueKind.Null) return null;
            if (value.ValueKind != JsonValueKind.Object) throw ProblemExceptionHandler.WrongJsonTypeAt<RenderRequest>(field);
            var variables = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            foreach (var variable in value.EnumerateObject())
            {
                // A name repeated inside a variable's value is the template's data, read as the playground reads it: searching
                // every value for one cost a label render 5% of its CPU (docs/benchmarks.md, stop 44).
                if (!variables.TryAdd(variable.Name, variable.Value))
                    throw ProblemExceptionHandler.RepeatedMemberAt($"{field}.{variable.Name}");
            }
            return variables;
        }
    }

    /// <summary>
    /// A prompt list's filters, over HTTP and MCP alike: an empty value filters nothing, as an omitted one does; a type is
    /// matched as a new prompt's is, by its exact name (<c>user</c>, not <c>User</c>).
    /// </summary>
    internal static PromptFilter Filter(string? type, string? category, string? tag, PageRequest page)
    {
        PromptType? parsed = null;
        if (!string.IsNullOrEmpty(type))
        {
            parsed = Names.TryParse<PromptType>(type, out var named) && Names.Of(named) == type
                ? named
                : throw new InvalidInputException("invalid_type", $"type '{PromptRules.Shorten(type)}' is not one of {Names.AllOf<PromptType>()}.", "type");
        }
        return new PromptFilter(parsed, string.IsNullOrEmpty(category) ? null : category, string.IsNullOrEmpty(tag) ? null : tag, page);
    }
}
