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
        routes.MapGet("/api/audit", ListAudit).WithName("ListAudit").WithSummary("List the audit log").WithTags("Audit").ProducesRevalidated<AuditListResponse>()
            .RequireAuthorization(RolePolicies.Reader)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        return routes;
    }

    /// <summary>Newest first; each filter that is given must match exactly; <c>from</c> (inclusive) and <c>to</c> (exclusive) are ISO 8601 timestamps.</summary>
    private static async Task<FileContentHttpResult> ListAudit(string? prompt, string? actor, string? action, [DateTimeText] string? from, [DateTimeText] string? to, int? limit, int? offset,
        PromptRegistry registry, HttpContext http, CancellationToken cancellationToken)
    {
        var page = PageRequest.From(limit, offset);
        var query = new AuditQuery(NullIfEmpty(prompt), NullIfEmpty(actor), NullIfEmpty(action), page,
            AuditQuery.ParseTime(from, nameof(from)), AuditQuery.ParseTime(to, nameof(to)));
        var list = await registry.ListAuditAsync(query, cancellationToken);
        return RevalidatedJson.Of(list with { Next = Paging.Next(http.Request, page, list.Entries.Count, list.Total) }, http);
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
