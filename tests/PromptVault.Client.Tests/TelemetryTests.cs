using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace PromptVault.Client.Tests;

/// <summary>The spans and instruments the SDK emits under <c>PromptVault.Client</c>.</summary>
public sealed class TelemetryTests(SdkServerFixture fixture) : IClassFixture<SdkServerFixture>
{
    [Fact]
    public async Task GetPromptAsync_WithAListener_EmitsASpanWithPromptVersionAndVariant()
    {
        var ct = TestContext.Current.CancellationToken;
        var server = fixture.Server;
        var name = Prompts.NewName("traced");
        (var one, var two, _) = await Prompts.SplitAsync(server.Api, name, ct);
        await using var host = await SdkHost.StartAsync(server.BaseAddress, server.AdminKey, o => o.UseStream = false, cancellationToken: ct);
        var spans = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == ClientTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Add,
        };
        ActivitySource.AddActivityListener(listener);

        var resolved = await host.Vault.GetPromptAsync(name, unitId: "traced-unit", cancellationToken: ct);

        var span = Assert.Single(spans, s => (string?)s.GetTagItem(ClientTelemetry.PromptTag) == name);
        Assert.Equal(ClientTelemetry.ResolveSpan, span.OperationName);
        Assert.Equal(resolved.VersionId, span.GetTagItem(ClientTelemetry.VersionIdTag));
        Assert.Equal(resolved.VariantId, span.GetTagItem(ClientTelemetry.VariantIdTag));
        Assert.NotNull(resolved.VariantId);
    }

    [Fact]
    public async Task Meter_ReportsQueueDepthDropsAndSnapshotAge()
    {
        var ct = TestContext.Current.CancellationToken;
        var server = fixture.Server;
        await using var host = await SdkHost.StartAsync(server.BaseAddress, server.AdminKey, o => o.UseStream = false, cancellationToken: ct);
        var seen = new Dictionary<string, double>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == ClientTelemetry.Name) l.EnableMeasurementEvents(instrument);
            },
        };
        listener.SetMeasurementEventCallback<int>((instrument, value, _, _) => seen[instrument.Name] = value);
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => seen[instrument.Name] = value);
        listener.SetMeasurementEventCallback<double>((instrument, value, _, _) => seen[instrument.Name] = value);
        listener.Start();

        listener.RecordObservableInstruments();

        Assert.Contains(ClientTelemetry.QueueDepthGauge, seen.Keys);
        Assert.Contains(ClientTelemetry.DroppedCounter, seen.Keys);
        Assert.True(seen[ClientTelemetry.SnapshotAgeGauge] >= 0);
    }
}
