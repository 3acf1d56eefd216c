using Microsoft.AspNetCore.Http.HttpResults;
using PromptVault.Core.Contracts;
using PromptVault.Core.Playground;
using PromptVault.Server.Auth;

namespace PromptVault.Server.Api;

/// <summary><c>POST /api/playground</c> (SPEC §10): a thin translation to <see cref="PlaygroundService"/>.</summary>
internal static class PlaygroundApi
{
    public static IEndpointRouteBuilder MapPlaygroundApi(this IEndpointRouteBuilder routes)
    {
        // Writers: each run may be a paid model call, which a read-only key should not be able to spend.
        routes.MapPost("/api/playground", Run).WithTags("Playground").WithName("RunPlayground")
            .WithSummary("Render versions of a prompt with the same variables and ask the configured model, side by side")
            .RequireAuthorization(RolePolicies.Writer)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status502BadGateway)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return routes;
    }

    private static async Task<Ok<PlaygroundResponse>> Run(PlaygroundRequest request, PlaygroundService playground, CancellationToken cancellationToken) =>
        TypedResults.Ok(await playground.RunAsync(request, cancellationToken));
}
