using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using PromptVault.Core.Evaluations;
using PromptVault.Core.Storage;
using PromptVault.Server.Auth;
using PromptVault.Server.Hosting;
using static PromptVault.Server.Api.PromptsApi;

namespace PromptVault.Server.Api;

/// <summary>A version's test cases and evaluation runs (SPEC §10). Each handler translates HTTP to one <see cref="EvaluationService"/> call.</summary>
internal static class EvaluationsApi
{
    public static IEndpointRouteBuilder MapEvaluationsApi(this IEndpointRouteBuilder routes)
    {
        var versions = routes.MapRouteGroup("/api/prompts/{name}/versions/{version}").WithTags("Evaluations").RequireAuthorization(RolePolicies.Reader)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        versions.MapGet("/tests", GetTests).WithName("GetVersionTests").WithSummary("Get a version's test cases");
        versions.MapPut("/tests", PutTests).WithName("PutVersionTests").WithSummary("Replace a version's test cases").RequireToChange(RolePolicies.Writer);
        versions.MapPost("/tests", AddTest).WithName("AddVersionTest").WithSummary("Append one test case to a version's test cases")
            .RequireToChange(RolePolicies.Writer);
        versions.MapPost("/evaluate", Evaluate).WithName("EvaluateVersion").WithSummary("Run a version's test cases and store the run")
            .RequireToChange(RolePolicies.Writer).ProducesProblem(StatusCodes.Status409Conflict);
        versions.MapGet("/evaluations", ListRuns).WithName("ListVersionEvaluations").WithSummary("List a version's evaluation runs, newest first");

        routes.MapGet("/api/evaluations/{id}", GetRun).WithName("GetEvaluation").WithSummary("Get an evaluation run").WithTags("Evaluations")
            .RequireAuthorization(RolePolicies.Reader)
            .ProducesProblem(StatusCodes.Status404NotFound);
        return routes;
    }

    private static async Task<Ok<VersionTests>> GetTests(string name, string version, EvaluationService evaluations, CancellationToken cancellationToken) =>
        TypedResults.Ok(await evaluations.GetTestsAsync(name, version, cancellationToken));

    private static async Task<Ok<VersionTests>> PutTests(string name, string version, VersionTests request, EvaluationService evaluations, ClaimsPrincipal user,
        CancellationToken cancellationToken) =>
        TypedResults.Ok(await evaluations.SaveTestsAsync(name, version, request, user.Actor(), cancellationToken));

    private static async Task<Ok<VersionTests>> AddTest(string name, string version, TestCase request, EvaluationService evaluations, ClaimsPrincipal user,
        CancellationToken cancellationToken) =>
        TypedResults.Ok(await evaluations.AddTestAsync(name, version, request, user.Actor(), cancellationToken));

    private static async Task<Created<EvaluationRun>> Evaluate(string name, string version, EvaluationService evaluations, ClaimsPrincipal user,
        CancellationToken cancellationToken)
    {
        var run = await evaluations.EvaluateAsync(name, version, user.Actor(), cancellationToken);
        return TypedResults.Created($"/api/evaluations/{run.Id}", run);
    }

    private static async Task<Ok<EvaluationListResponse>> ListRuns(string name, string version, int? limit, int? offset, EvaluationService evaluations,
        HttpRequest request, CancellationToken cancellationToken)
    {
        var page = PageRequest.From(limit, offset);
        var list = await evaluations.ListRunsAsync(name, version, page, cancellationToken);
        return TypedResults.Ok(list with { Next = Paging.Next(request, page, list.Evaluations.Count, list.Total) });
    }

    private static async Task<Ok<EvaluationRun>> GetRun(string id, EvaluationService evaluations, CancellationToken cancellationToken) =>
        TypedResults.Ok(await evaluations.GetRunAsync(id, cancellationToken));
}
