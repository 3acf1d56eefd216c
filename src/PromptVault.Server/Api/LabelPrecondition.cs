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

    /// <summary>
    /// Where the request expects the label (<see cref="LabelExpectation"/>): <c>If-Match</c> with version tags, or <c>*</c> for
    /// set anywhere; <c>If-None-Match: *</c> for not set. Null when it sends neither.
    /// </summary>
    /// <exception cref="InvalidInputException"><c>If-Match</c> is not a list of entity tags (<c>invalid_if_match</c>); <c>If-None-Match</c>
    /// is not <c>*</c>, or comes with <c>If-Match</c> (<c>invalid_if_none_match</c>).</exception>
    public static LabelExpectation? Read(HttpRequest request)
    {
        var ifMatch = request.Headers.IfMatch;
        var ifNoneMatch = request.Headers.IfNoneMatch;
        if (ifNoneMatch.Count > 0)
        {
            if (ifMatch.Count > 0)
                throw new InvalidInputException("invalid_if_none_match",
                    "Send If-Match (where the label must be) or If-None-Match: * (the label must not be set), not both.", "If-None-Match");
            if (!EntityTagHeaderValue.TryParseStrictList(ifNoneMatch, out var none) || none is not [var any] || !any.Equals(EntityTagHeaderValue.Any))
                throw new InvalidInputException("invalid_if_none_match",
                    $"If-None-Match can only be * (change the label only if it is not set), not {PromptRules.Shorten(string.Join(", ", ifNoneMatch.ToArray()))}.", "If-None-Match");
            return LabelExpectation.Absent;
        }
        if (ifMatch.Count == 0) return null;
        if (!EntityTagHeaderValue.TryParseStrictList(ifMatch, out var tags) || tags.Count == 0)
            throw new InvalidInputException("invalid_if_match",
                $"If-Match must be * or quoted entity tags such as \"1.0.1\" (the version the label points at), not {PromptRules.Shorten(string.Join(", ", ifMatch.ToArray()))}.", "If-Match");
        if (tags.Any(t => t.Equals(EntityTagHeaderValue.Any))) return LabelExpectation.Anywhere;
        // If-Match compares strongly: a weak tag never matches, nor does an empty one. Each is kept as sent (W/"1.0.1", ""),
        // which no version number equals, so the refusal names it rather than expecting the label "at " nothing.
        return LabelExpectation.At(tags.Select(t => t.IsWeak || t.Tag.Length <= 2 ? t.ToString() : t.Tag.Value!.Trim('"')));
    }

    public const string LabelDescription =
        "Changes the label only if it still points at this version (\"1.0.1\"); else 412 label_moved and nothing changes. *: only if the label is set, wherever. Absent: wherever it is, or not set.";

    public const string ProductionDescription =
        "Rolls back only if the production label still points at this version (\"1.0.1\"); else 412 label_moved and nothing changes. *: only if production is set, wherever. Absent: wherever it is, or not set.";

    public const string PromoteDescription =
        "With status production: promotes only if the production label still points at this version (\"1.0.1\"); else 412 label_moved and nothing changes. " +
        "*: only if production is set, wherever. Absent: wherever it is, or not set. Any other status takes none but * (else 400 invalid_if_match).";

    public const string NotSetDescription =
        "Only *: changes the label only if it is not set yet; else 412 label_moved and nothing changes. Not with If-Match (400 invalid_if_none_match).";

    /// <summary>Declares the optional headers and their 412 in the route's OpenAPI operation; <c>If-None-Match</c> only where
    /// <paramref name="notSet"/> (a removal refuses it).</summary>
    public static RouteHandlerBuilder AcceptsLabelPrecondition(this RouteHandlerBuilder route, string description = LabelDescription, bool notSet = true) =>
        route.WithMetadata(Hosting.UncheckedIfMatch.ChecksIfMatch.Instance).ProducesProblem(StatusCodes.Status412PreconditionFailed).AddOpenApiOperationTransformer((operation, _, _) =>
        {
            operation.Parameters ??= [];
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = "If-Match",
                In = ParameterLocation.Header,
                Description = description,
                Schema = new OpenApiSchema { Type = JsonSchemaType.String },
            });
            if (notSet)
                operation.Parameters.Add(new OpenApiParameter
                {
                    Name = "If-None-Match",
                    In = ParameterLocation.Header,
                    Description = NotSetDescription,
                    Schema = new OpenApiSchema { Type = JsonSchemaType.String },
                });
            return Task.CompletedTask;
        });
}
