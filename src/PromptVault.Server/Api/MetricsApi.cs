using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using PromptVault.Core;
using PromptVault.Core.Contracts;
using PromptVault.Core.Metrics;
using PromptVault.Server.Auth;

namespace PromptVault.Server.Api;

/// <summary>The metric routes of SPEC §5: recording events and a version's aggregates.</summary>
internal static class MetricsApi
{
    public static IEndpointRouteBuilder MapMetricsApi(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/api/metrics", Record).WithName("RecordMetrics").WithSummary("Record one metric event or a batch").WithTags("Metrics")
            .RequireAuthorization(RolePolicies.Writer)
            .Accepts<MetricBatchRequest>("application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .AcceptsIdempotencyKey();
        routes.MapGet("/api/prompts/{name}/versions/{version}/metrics", VersionMetrics).WithName("GetVersionMetrics").WithSummary("Get a version's metric aggregates").WithTags("Metrics")
            .RequireAuthorization(RolePolicies.Reader)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        return routes;
    }

    /// <summary>One event, or <c>{ "events": [...] }</c>: a body with an <c>events</c> member is a batch.</summary>
    private static async Task<Results<Ok<MetricRecordResponse>, StatusCodeHttpResult>> Record(HttpRequest http, MetricsService metrics, CancellationToken cancellationToken)
    {
        // In the framework's order for a bound body: none at all, then not JSON (a bare 415, which Problems words).
        if (http.HttpContext.Features.Get<IHttpRequestBodyDetectionFeature>() is { CanHaveBody: false })
            throw new BadHttpRequestException("The request body is missing.");
        if (!http.HasJsonContentType())
            return TypedResults.StatusCode(StatusCodes.Status415UnsupportedMediaType);
        var idempotencyKey = IdempotencyHeader.Read(http);
        Task<MetricRecordResponse> recording;
        // The events are read out before the write's first await, so the document's buffers go back to the pool while the
        // batch waits for its group's commit.
        using (var document = await ReadBodyAsync(http, cancellationToken))
        {
            var body = document.RootElement;
            if (body.ValueKind != JsonValueKind.Object)
                throw new InvalidInputException("invalid_json", "The request body must be a JSON object: one metric event, or { \"events\": [...] }.");
            recording = body.TryGetProperty("events", out _)
                ? metrics.RecordAsync(Read<MetricBatchRequest>(body), idempotencyKey, cancellationToken)
                : metrics.RecordAsync(Read<MetricEventRequest>(body), idempotencyKey, cancellationToken);
        }
        return TypedResults.Ok(await recording);
    }

    /// <summary>
    /// The body as a document in pooled buffers, returned when it is disposed. Bound as a <see cref="JsonElement"/>, a batch of
    /// 500 events was copied into new arrays on every request (the body and its token table, about 130 KB), and the GC's
    /// background thread took a sixth of a core under load (docs/benchmarks.md).
    /// </summary>
    private static async Task<JsonDocument> ReadBodyAsync(HttpRequest http, CancellationToken cancellationToken)
    {
        JsonDocument? document = null;
        try
        {
            document = await JsonDocument.ParseAsync(http.Body, cancellationToken: cancellationToken);
            InvalidJsonTextException.ThrowIfIn(document.RootElement); // bound by the framework, the body was checked as it was read
            return document;
        }
        catch (JsonException e)
        {
            document?.Dispose();
            throw Invalid(e);
        }
    }

    private static T Read<T>(JsonElement body)
    {
        try
        {
            return body.Deserialize<T>(PromptVaultJson.Options)!;
        }
        catch (JsonException e)
        {
            throw Invalid(e);
        }
    }

    // The same 400 naming the field as a body bound by the framework.
    private static BadHttpRequestException Invalid(JsonException e) => new("The request body is invalid.", StatusCodes.Status400BadRequest, e);

    private static async Task<Ok<VersionMetricsResponse>> VersionMetrics(string name, string version, string? period, MetricsService metrics, CancellationToken cancellationToken)
    {
        var metricPeriod = MetricPeriod.All;
        if (!string.IsNullOrEmpty(period) && !Names.TryParse(period, out metricPeriod))
            throw new InvalidInputException("invalid_period", $"period '{Core.Prompts.PromptRules.Shorten(period)}' is not one of {Names.AllOf<MetricPeriod>()}.", "period");
        return TypedResults.Ok(await metrics.VersionMetricsAsync(PromptsApi.Unescape(name), version, metricPeriod, cancellationToken));
    }
}
