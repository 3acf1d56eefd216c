namespace PromptVault.Server.Api;

/// <summary>Metadata that many routes share, declared once.</summary>
internal static class RouteConventions
{
    /// <summary>A route that changes what is stored: it needs <paramref name="policy"/> and answers 409 when the change conflicts.</summary>
    public static RouteHandlerBuilder RequireToChange(this RouteHandlerBuilder route, string policy) =>
        route.RequireAuthorization(policy).ProducesProblem(StatusCodes.Status409Conflict);
}
