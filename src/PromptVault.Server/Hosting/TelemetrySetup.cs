using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using PromptVault.Core;
using PromptVault.Server.Auth;

namespace PromptVault.Server.Hosting;

/// <summary>
/// OpenTelemetry for the server (docs/observability.md): ASP.NET Core's request traces and metrics plus PromptVault's own
/// (<see cref="Telemetry"/>). Nothing is collected unless an exporter is configured: OTLP with the standard
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>, a Prometheus scrape endpoint with <see cref="PrometheusSetting"/>.
/// </summary>
internal static class TelemetrySetup
{
    public const string OtlpEndpointSetting = "OTEL_EXPORTER_OTLP_ENDPOINT";
    public const string PrometheusSetting = "PromptVault:Metrics:Prometheus";
    public const string ScrapePath = "/metrics";
    public const string ServiceName = "promptvault";

    public static void AddPromptVaultTelemetry(this WebApplicationBuilder builder)
    {
        var otlp = !string.IsNullOrWhiteSpace(builder.Configuration[OtlpEndpointSetting]);
        var prometheus = PrometheusEnabled(builder.Configuration);
        if (!otlp && !prometheus)
            return;

        var telemetry = builder.Services.AddOpenTelemetry()
            // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, read again after the default name, win over it.
            .ConfigureResource(resource => resource.AddService(ServiceName).AddEnvironmentVariableDetector())
            .WithMetrics(metrics =>
            {
                metrics.AddAspNetCoreInstrumentation().AddMeter(Telemetry.Name);
                // No cached scrape: a scrape right after a request sees it (the tests rely on that).
                if (prometheus) metrics.AddPrometheusExporter(exporter => exporter.ScrapeResponseCacheDurationMilliseconds = 0);
            });
        if (otlp)
            telemetry.WithTracing(tracing => tracing.AddAspNetCoreInstrumentation().AddSource(Telemetry.Name)).UseOtlpExporter();
    }

    /// <summary><c>GET /metrics</c> in Prometheus' text format, for keys of any role; absent (404) unless enabled.</summary>
    public static void MapPrometheusEndpoint(this WebApplication app)
    {
        if (PrometheusEnabled(app.Configuration))
            app.MapPrometheusScrapingEndpoint(ScrapePath).RequireAuthorization(RolePolicies.Reader).ExcludeFromDescription();
    }

    private static bool PrometheusEnabled(IConfiguration configuration) => configuration[PrometheusSetting] switch
    {
        null or "" => false,
        var value when bool.TryParse(value, out var enabled) => enabled,
        var value => throw new InvalidOperationException($"configuration {PrometheusSetting} must be true or false, got '{value}'."),
    };
}
