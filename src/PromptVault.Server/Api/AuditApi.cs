using Microsoft.AspNetCore.Http.HttpResults;
using PromptVault.Core.Contracts;
using PromptVault.Core.Registry;
using PromptVault.Core.Storage;
using PromptVault.Server.Auth;

namespace PromptVault.Server.Api;

internal static class AuditApi
{
    public static IEndpointRouteBuilder MapAuditApi(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/api/audit", ListAudit).WithName("ListAudit").WithSummary("List the audit log").WithTags("Audit")
            .RequireAuthorization(RolePolicies.Reader)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        return routes;
    }

    /// <summary>Newest first; each filter that is given must match exactly; <c>from</c> (inclusive) and <c>to</c> (exclusive) are ISO 8601 timestamps.</summary>
    private static async Task<Ok<AuditListResponse>> ListAudit(string? prompt, string? actor, string? action, string? from, string? to, int? limit, int? offset,
        PromptRegistry registry, HttpRequest request, CancellationToken cancellationToken)
    {
        var page = PageRequest.From(limit, offset);
        var query = new AuditQuery(NullIfEmpty(prompt), NullIfEmpty(actor), NullIfEmpty(action), page,
            AuditQuery.ParseTime(from, nameof(from)), AuditQuery.ParseTime(to, nameof(to)));
        var list = await registry.ListAuditAsync(query, cancellationToken);
        return TypedResults.Ok(list with { Next = Paging.Next(request, page, list.Entries.Count, list.Total) });
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
