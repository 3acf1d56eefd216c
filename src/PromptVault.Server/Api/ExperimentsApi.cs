using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using PromptVault.Core.Analysis;
using PromptVault.Core.Contracts;
using PromptVault.Core.Experiments;
using PromptVault.Core.Storage;
using PromptVault.Server.Auth;
using PromptVault.Server.Hosting;

namespace PromptVault.Server.Api;

/// <summary>The experiment routes of SPEC §5; each handler is one <see cref="ExperimentService"/> call.</summary>
internal static class ExperimentsApi
{
    public static IEndpointRouteBuilder MapExperimentsApi(this IEndpointRouteBuilder routes)
    {
        var experiments = routes.MapRouteGroup("/api/experiments").WithTags("Experiments").RequireAuthorization(RolePolicies.Reader)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);

        experiments.MapPost("/", Create).WithName("CreateExperiment").WithSummary("Create an experiment").RequireToChange(RolePolicies.Admin);
        experiments.MapGet("/", List).WithName("ListExperiments").WithSummary("List experiments").ProducesRevalidated<ExperimentListResponse>();
        experiments.MapGet("/{id}", Get).WithName("GetExperiment").WithSummary("Get an experiment").ProducesRevalidated<ExperimentResponse>();
        experiments.MapPost("/{id}/start", Start).WithName("StartExperiment").WithSummary("Start an experiment").RequireToChange(RolePolicies.Admin);
        experiments.MapPost("/{id}/pause", Pause).WithName("PauseExperiment").WithSummary("Pause an experiment").RequireToChange(RolePolicies.Admin);
        experiments.MapPost("/{id}/complete", Complete).WithName("CompleteExperiment").WithSummary("Complete an experiment").RequireToChange(RolePolicies.Admin);
        experiments.MapPost("/{id}/cancel", Cancel).WithName("CancelExperiment").WithSummary("Cancel an experiment").RequireToChange(RolePolicies.Admin);
        experiments.MapGet("/{id}/results", Results).WithName("GetExperimentResults").WithSummary("Analyse an experiment's results").ProducesRevalidated<ExperimentResults>();
        experiments.MapGet("/{id}/assignment", Assign).WithName("GetAssignment").WithSummary("Get a unit's variant");
        return routes;
    }

    private static async Task<Created<ExperimentResponse>> Create(CreateExperimentRequest request, ExperimentService experiments, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var experiment = await experiments.CreateAsync(request, user.Actor(), cancellationToken);
        return TypedResults.Created($"/api/experiments/{experiment.Id}", experiment);
    }

    private static async Task<FileContentHttpResult> List(ExperimentService experiments, string? prompt, int? limit, int? offset, HttpContext http,
        CancellationToken cancellationToken)
    {
        var page = PageRequest.From(limit, offset);
        var list = await experiments.ListAsync(string.IsNullOrEmpty(prompt) ? null : prompt, page, cancellationToken);
        return RevalidatedJson.Of(list with { Next = Paging.Next(http.Request, page, list.Experiments.Count, list.Total) }, http);
    }

    private static async Task<FileContentHttpResult> Get(string id, ExperimentService experiments, HttpContext http, CancellationToken cancellationToken) =>
        RevalidatedJson.Of(await experiments.GetAsync(id, cancellationToken), http);

    private static async Task<Ok<ExperimentResponse>> Start(string id, ExperimentService experiments, ClaimsPrincipal user, CancellationToken cancellationToken) =>
        TypedResults.Ok(await experiments.StartAsync(id, user.Actor(), cancellationToken));

    private static async Task<Ok<ExperimentResponse>> Pause(string id, ExperimentService experiments, ClaimsPrincipal user, CancellationToken cancellationToken) =>
        TypedResults.Ok(await experiments.PauseAsync(id, user.Actor(), cancellationToken));

    private static async Task<Ok<ExperimentResponse>> Complete(string id, ExperimentService experiments, ClaimsPrincipal user, CancellationToken cancellationToken) =>
        TypedResults.Ok(await experiments.CompleteAsync(id, user.Actor(), cancellationToken));

    private static async Task<Ok<ExperimentResponse>> Cancel(string id, ExperimentService experiments, ClaimsPrincipal user, CancellationToken cancellationToken) =>
        TypedResults.Ok(await experiments.CancelAsync(id, user.Actor(), cancellationToken));

    private static async Task<FileContentHttpResult> Results(string id, ExperimentService experiments, HttpContext http, CancellationToken cancellationToken) =>
        RevalidatedJson.Of(await experiments.ResultsAsync(id, cancellationToken), http);

    private static async Task<Ok<AssignmentResponse>> Assign(string id, string? unitId, ExperimentService experiments, CancellationToken cancellationToken) =>
        TypedResults.Ok(await experiments.AssignAsync(id, unitId, cancellationToken));
}
