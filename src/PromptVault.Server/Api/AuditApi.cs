using Microsoft.AspNetCore.Http.HttpResults;
using PromptVault.Core.Contracts;
using PromptVault.Core.Registry;
using PromptVault.Server.Auth;

namespace PromptVault.Server.Api;

internal static class AuditApi
{
    public static IEndpointRouteBuilder MapAuditApi(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/api/audit", ListAudit).WithName("ListAudit").WithSummary("List the audit log").WithTags("Audit")
            .RequireAuthorization(RolePolicies.Reader);
        return routes;
    }

    private static async Task<Ok<AuditListResponse>> ListAudit(string? prompt, PromptRegistry registry, CancellationToken cancellationToken) =>
        TypedResults.Ok(new AuditListResponse(await registry.ListAuditAsync(string.IsNullOrEmpty(prompt) ? null : prompt, cancellationToken)));
}
