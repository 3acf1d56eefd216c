using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using PromptVault.Core.Registry;
using PromptVault.Core.Storage;
using PromptVault.Server.Auth;
using PromptVault.Server.Hosting;

namespace PromptVault.Server.Api;

/// <summary>The whole registry out and in (docs/export-format.md), for admins.</summary>
internal static class ExportApi
{
    public static IEndpointRouteBuilder MapExportApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapRouteGroup("/api").WithTags("Export").RequireAuthorization(RolePolicies.Admin).NeverCached();
        group.MapGet("/export", Export).WithName("ExportRegistry").WithSummary("Export the whole registry as one document")
            .Produces(StatusCodes.Status200OK, contentType: "application/json");
        group.MapPost("/import", Import).WithName("ImportRegistry").WithSummary("Import an export document, all or nothing")
            .Accepts<object>("application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        return routes;
    }

    private static async Task Export(HttpContext context, RegistryTransfer transfer, CancellationToken cancellationToken)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.Headers.ContentDisposition = "attachment; filename=\"promptvault-export.json\"";
        await transfer.ExportAsync(context.Response.Body, cancellationToken);
    }

    /// <summary>Into an empty registry, or with <c>merge=true</c> adding the prompts (by name) and keys it does not have.</summary>
    private static async Task<Ok<RegistryImportReport>> Import(bool? merge, HttpContext context, RegistryTransfer transfer, ClaimsPrincipal user,
        IOptions<ImportOptions> options, CancellationToken cancellationToken)
    {
        JsonBody.EnsurePresent(context.Request);
        ProblemExceptionHandler.RaiseBodyLimit(context, options.Value.MaxDocumentBytes, $"{ImportOptions.SectionName}:{nameof(ImportOptions.MaxDocumentBytes)}");
        return TypedResults.Ok(await transfer.ImportAsync(context.Request.Body, merge ?? false, user.Actor(), cancellationToken));
    }
}

/// <summary>Settings of <c>POST /api/import</c> (configuration section <c>PromptVault:Import</c>).</summary>
internal sealed class ImportOptions
{
    public const string SectionName = "PromptVault:Import";

    /// <summary>
    /// The largest export document taken (<c>PromptVault:Import:MaxDocumentBytes</c>; larger is 413 <c>payload_too_large</c>, naming it).
    /// The document is read a row at a time, but its rows are held until the import's one transaction writes them: an import
    /// peaks at about 8× the document's text, so the default (256 MB) wants about 2 GB (docs/export-format.md).
    /// </summary>
    public long MaxDocumentBytes { get; set; } = 256L * 1024 * 1024;
}
