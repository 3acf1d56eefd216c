namespace PromptVault.Server.Api;

internal static class HealthApi
{
    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/healthz", () => TypedResults.Ok(new HealthResponse("ok"))).WithName("Health").WithSummary("Check that the server is up").WithTags("Health").AllowAnonymous();
        return routes;
    }

    internal sealed record HealthResponse(string Status);
}
