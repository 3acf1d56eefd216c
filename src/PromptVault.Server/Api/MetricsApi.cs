using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
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
        Task<MetricRecordResponse> recording;
        // The events are read out before the write's first await, so the document's buffers go back to the pool while the
        // batch waits for its group's commit.
        using (var document = await JsonBody.ReadAsync(http, cancellationToken))
        {
            if (document is null)
                return JsonBody.UnsupportedMediaType();
            var idempotencyKey = IdempotencyHeader.Read(http);
            var body = document.RootElement;
            if (body.ValueKind != JsonValueKind.Object)
                throw new InvalidInputException("invalid_json", "The request body must be a JSON object: one metric event, or { \"events\": [...] }.");
            recording = IsBatch(body)
                ? metrics.RecordAsync(JsonBody.Read<MetricBatchRequest>(body), idempotencyKey, cancellationToken)
                : metrics.RecordAsync(JsonBody.Read<MetricEventRequest>(body), idempotencyKey, cancellationToken);
        }
        return TypedResults.Ok(await recording);
    }

    // Member names are matched as the binder matches them, in any case ("Events" too); read as UTF-8 unless escaped, so an
    // event's members cost no strings.
    private static bool IsBatch(JsonElement body)
    {
        foreach (var member in body.EnumerateObject())
        {
            var name = JsonMarshal.GetRawUtf8PropertyName(member);
            if (name.Contains((byte)'\\') ? member.Name.Equals("events", StringComparison.OrdinalIgnoreCase) : Ascii.EqualsIgnoreCase(name, "events"u8))
                return true;
        }
        return false;
    }

    private static async Task<Ok<VersionMetricsResponse>> VersionMetrics(string name, string version, [NamesOf(typeof(MetricPeriod))] string? period, MetricsService metrics, CancellationToken cancellationToken)
    {
        var metricPeriod = MetricPeriod.All;
        if (!string.IsNullOrEmpty(period) && !Names.TryParse(period, out metricPeriod))
            throw new InvalidInputException("invalid_period", $"period '{Core.Prompts.PromptRules.Shorten(period)}' is not one of {Names.AllOf<MetricPeriod>()}.", "period");
        return TypedResults.Ok(await metrics.VersionMetricsAsync(name, version, metricPeriod, cancellationToken));
    }
}
