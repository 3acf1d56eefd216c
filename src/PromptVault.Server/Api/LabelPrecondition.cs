using Microsoft.AspNetCore.OpenApi;
using Microsoft.Net.Http.Headers;
using Microsoft.OpenApi;
using PromptVault.Core;
using PromptVault.Core.Prompts;

namespace PromptVault.Server.Api;

/// <summary>
/// The <c>If-Match</c> of the label routes, and of rollback and promotion, which move the production label. A label's entity
/// tag is the number of the version it points at, quoted (<c>"1.0.1"</c>, as <c>GET /api/prompts/{name}</c> lists its
/// labels); a move answers with the new one as <c>ETag</c>.
/// </summary>
internal static class LabelPrecondition
{
    /// <summary>The label's entity tag when it points at <paramref name="version"/>.</summary>
    public static string TagOf(string version) => $"\"{version}\"";

    /// <summary>The version numbers the request expects the label at, or null when it expects nothing (no header, or <c>*</c>).</summary>
    /// <exception cref="InvalidInputException">The header is not a list of entity tags (<c>invalid_if_match</c>).</exception>
    public static IReadOnlyCollection<string>? Read(HttpRequest request)
    {
        var values = request.Headers.IfMatch;
        if (values.Count == 0) return null;
        if (!EntityTagHeaderValue.TryParseStrictList(values, out var tags) || tags.Count == 0)
            throw new InvalidInputException("invalid_if_match",
                $"If-Match must be * or quoted entity tags such as \"1.0.1\" (the version the label points at), not {PromptRules.Shorten(string.Join(", ", values.ToArray()))}.", "If-Match");
        if (tags.Any(t => t.Equals(EntityTagHeaderValue.Any))) return null;
        // If-Match compares strongly: a weak tag never matches.
        return tags.Where(t => !t.IsWeak).Select(t => t.Tag.Value!.Trim('"')).ToList();
    }

    public const string LabelDescription =
        "Changes the label only if it still points at this version (\"1.0.1\"); else 412 label_moved and nothing changes. * or absent: wherever it is.";

    public const string ProductionDescription =
        "Rolls back only if the production label still points at this version (\"1.0.1\"); else 412 label_moved and nothing changes. * or absent: wherever it is.";

    public const string PromoteDescription =
        "With status production: promotes only if the production label still points at this version (\"1.0.1\"); else 412 label_moved and nothing changes. " +
        "* or absent: wherever it is. Any other status takes none but * (else 400 invalid_if_match).";

    /// <summary>Declares the optional header and its 412 in the route's OpenAPI operation.</summary>
    public static RouteHandlerBuilder AcceptsLabelPrecondition(this RouteHandlerBuilder route, string description = LabelDescription) =>
        route.ProducesProblem(StatusCodes.Status412PreconditionFailed).AddOpenApiOperationTransformer((operation, _, _) =>
        {
            operation.Parameters ??= [];
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = "If-Match",
                In = ParameterLocation.Header,
                Description = description,
                Schema = new OpenApiSchema { Type = JsonSchemaType.String },
            });
            return Task.CompletedTask;
        });
}
