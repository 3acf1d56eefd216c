using System.Text.Json;
using PromptVault.Core.Contracts;
using PromptVault.Core.Metrics;
using PromptVault.Core.Storage;

namespace PromptVault.Core.Tests.Contracts;

public sealed class MetricContractsJsonTests
{
    [Theory]
    [InlineData(typeof(MetricEventRequest))]
    [InlineData(typeof(MetricBatchRequest))]
    [InlineData(typeof(MetricRecordResponse))]
    [InlineData(typeof(VersionMetricsResponse))]
    public void Context_ListsMetricContracts(Type type)
    {
        var context = PromptVaultJsonContext.Default;

        var typeInfo = context.GetTypeInfo(type);

        Assert.NotNull(typeInfo);
    }

    [Fact]
    public void MetricEventRequest_FromSpecJson_EveryFieldRead()
    {
        var json = """
            { "id": "e-1", "versionId": "v1", "experimentId": "x1", "variantId": "b", "unitId": "user-7",
              "timestamp": "2025-06-01T12:30:00Z", "latencyMs": 812.5, "inputTokens": 1200, "outputTokens": 300,
              "cost": 0.0042, "qualityScore": 0.9, "userFeedback": 1, "converted": true, "error": "timeout",
              "metadata": { "region": "eu" } }
            """;

        var request = JsonSerializer.Deserialize<MetricEventRequest>(json, PromptVaultJson.Options)!;

        Assert.Equal(new MetricEventRequest("e-1", "v1", "x1", "b", "user-7", new DateTimeOffset(2025, 6, 1, 12, 30, 0, TimeSpan.Zero),
            812.5, 1200, 300, 0.0042, 0.9, 1, true, "timeout", request.Metadata), request);
        Assert.Equal("eu", request.Metadata!.Value.GetProperty("region").GetString());
    }

    [Fact]
    public void MetricEventRequest_MissingFields_Null()
    {
        var json = "{}";

        var request = JsonSerializer.Deserialize<MetricEventRequest>(json, PromptVaultJson.Options)!;

        Assert.Equal(new MetricEventRequest(), request);
    }

    [Fact]
    public void MetricRecordResponse_CamelCase()
    {
        var response = new MetricRecordResponse(2, 1, ["e-1"]);

        var json = JsonSerializer.Serialize(response, PromptVaultJson.Options);

        Assert.Equal("""{"accepted":2,"stored":1,"duplicates":["e-1"]}""", json);
    }

    [Fact]
    public void VersionMetricsResponse_PeriodByNameAndMissingFiguresNull()
    {
        var now = new DateTimeOffset(2025, 6, 1, 12, 40, 0, TimeSpan.Zero);
        var response = VersionMetricsBuilder.Build("customer-support", "1.0.2", "v1", MetricPeriod.Hour, Array.Empty<HourlyAggregate>(), null, now);

        var json = JsonSerializer.Serialize(response, PromptVaultJson.Options);

        Assert.StartsWith("""{"promptName":"customer-support","version":"1.0.2","versionId":"v1","period":"hour","from":"2025-06-01T12:00:00+00:00","to":"2025-06-01T12:40:00+00:00","summary":{"count":0,"errors":0,"errorRate":null,"conversions":0,"conversionTrials":0,"conversionRate":null,"latencyMs":{"n":0,"mean":null,"p50":null,"p95":null,"p99":null},"inputTokens":{"n":0,"mean":null,"total":null},""", json);
        Assert.Contains(""","series":[{"hourStart":"2025-06-01T12:00:00+00:00","summary":{"count":0,""", json);
        Assert.DoesNotContain("NaN", json);
    }
}
