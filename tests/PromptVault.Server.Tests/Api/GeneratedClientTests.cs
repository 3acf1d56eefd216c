using PromptVault.Server.Tests.Generated;

namespace PromptVault.Server.Tests.Api;

/// <summary>
/// A client that NSwag generates from docs/openapi.json at build time (see the test project file) works against a real
/// server: what the document publishes is what the server accepts and returns.
/// </summary>
public sealed class GeneratedClientTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task GeneratedClient_CreatesAPromptAnExperimentAndAMetricBatch()
    {
        using var http = fixture.Server.CreateClient();
        var api = new PromptVaultApiClient(http) { BaseUrl = fixture.Server.BaseAddress.ToString() };
        var ct = TestContext.Current.CancellationToken;
        var name = ApiCalls.UniqueName("generated");

        var prompt = await api.CreatePromptAsync(new CreatePromptRequest
        {
            Name = name,
            Type = PromptType.System,
            Content = "Hello {{who}}.",
            Variables = [new VariableDefinition { Name = "who", Type = VariableType.String, Required = true }],
            Category = "generated",
        }, idempotency_Key: null, ct);
        var challenger = await api.CreateVersionAsync(name, new CreateVersionRequest { Content = "Hi {{who}}!", ChangeDescription = "shorter" },
            idempotency_Key: name + "-v2", ct);
        // The generated client carries the header the document declares: a retry with the key returns the same version.
        var retried = await api.CreateVersionAsync(name, new CreateVersionRequest { Content = "Hi {{who}}!", ChangeDescription = "shorter" },
            idempotency_Key: name + "-v2", ct);
        var experiment = await api.CreateExperimentAsync(new CreateExperimentRequest
        {
            Name = "greeting",
            Prompt = name,
            Variants =
            [
                new VariantRequest { Name = "control", VersionId = prompt.LatestVersion.Id, Weight = 50 },
                new VariantRequest { Name = "short", VersionId = challenger.Id, Weight = 50 },
            ],
            TargetMetric = MetricName.AvgLatencyMs,
            Guardrails = [new GuardrailRequest { Metric = MetricName.ErrorRate, Threshold = 0.1 }],
        }, ct);
        var started = await api.StartExperimentAsync(experiment.Id, ct);
        var recorded = await api.RecordMetricsAsync(new MetricBatchRequest
        {
            Events =
            [
                new MetricEventRequest { Id = name + "-1", VersionId = prompt.LatestVersion.Id, LatencyMs = 120, Converted = true },
                new MetricEventRequest { Id = name + "-2", VersionId = challenger.Id, LatencyMs = 80, Converted = false },
            ],
        }, idempotency_Key: null, ct);
        var listed = await api.ListExperimentsAsync(prompt: name, limit: 10, cancellationToken: ct);

        Assert.Equal("1.0.1", challenger.Version);
        Assert.Equal(challenger.Id, retried.Id);
        Assert.Equal(ExperimentStatus.Running, started.Status);
        Assert.Equal(MetricName.AvgLatencyMs, started.TargetMetric);
        Assert.Equal(MetricName.ErrorRate, Assert.Single(started.Guardrails).Metric);
        Assert.Equal(2, recorded.Accepted);
        Assert.Equal(2, recorded.Stored);
        Assert.Equal([experiment.Id], listed.Experiments.Select(e => e.Id));
        Assert.Equal(1, listed.Total);
    }
}
