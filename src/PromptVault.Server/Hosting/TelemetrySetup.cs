using System.Globalization;
using Microsoft.Extensions.Diagnostics.Metrics;
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
    public const string OtlpProtocolSetting = "OTEL_EXPORTER_OTLP_PROTOCOL";
    public const string OtlpHeadersSetting = "OTEL_EXPORTER_OTLP_HEADERS";
    public const string MetricExportIntervalSetting = "OTEL_METRIC_EXPORT_INTERVAL";
    public const string ResourceAttributesSetting = "OTEL_RESOURCE_ATTRIBUTES";
    public const string PrometheusSetting = "PromptVault:Metrics:Prometheus";
    public const string ScrapePath = "/metrics";
    public const string ServiceName = "promptvault";

    public static void AddPromptVaultTelemetry(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton(new ReadSetting(PrometheusSetting));
        var otlp = OtlpConfigured(builder.Configuration);
        var prometheus = PrometheusEnabled(builder.Configuration);
        if (!otlp && !prometheus)
            return;
        RefuseMalformedSdkSettings(builder.Configuration);

        var telemetry = builder.Services.AddOpenTelemetry()
            // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, read again after the default name, win over it.
            .ConfigureResource(resource => resource.AddService(ServiceName).AddEnvironmentVariableDetector())
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(Telemetry.Name);
                // No cached scrape: a scrape right after a request sees it (the tests rely on that).
                if (prometheus) metrics.AddPrometheusExporter(exporter => exporter.ScrapeResponseCacheDurationMilliseconds = 0);
            });
        // ASP.NET Core's meters (all named under this prefix), the ones this host made. AddAspNetCoreInstrumentation subscribes
        // to them by name in the whole process: another host in it (the tests run many) had its requests counted here too,
        // and when it stopped, the end of its meters ended the streams it shared with this host, never exported again.
        builder.Metrics.EnableMetrics("Microsoft.AspNetCore", instrumentName: null, listenerName: null, MeterScope.Local);
        if (otlp)
            telemetry.WithTracing(tracing => tracing.AddAspNetCoreInstrumentation().AddSource(Telemetry.Name)).UseOtlpExporter();
    }

    /// <summary><c>GET /metrics</c> in Prometheus' text format, for keys of any role; absent (404) unless enabled.</summary>
    public static void MapPrometheusEndpoint(this WebApplication app)
    {
        if (PrometheusEnabled(app.Configuration))
            app.MapPrometheusScrapingEndpoint(ScrapePath).RequireAuthorization(RolePolicies.Reader).ExcludeFromDescription()
                .WithMetadata(new HttpMethodMetadata([HttpMethods.Get])) // it answers every method otherwise
                .Polled();
    }

    /// <summary>
    /// Whether an OTLP endpoint is set, checked here because the exporter does not: it replaces a malformed endpoint or an
    /// unknown protocol with its default (localhost) and says so only on its diagnostics event source, and it throws on
    /// malformed headers as the host starts, a stack trace that names no setting.
    /// </summary>
    private static bool OtlpConfigured(IConfiguration configuration)
    {
        var endpoint = configuration[OtlpEndpointSetting];
        if (string.IsNullOrWhiteSpace(endpoint))
            return false;
        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.Host.Length == 0)
            throw new InvalidOperationException($"configuration {OtlpEndpointSetting} must be an http:// or https:// URL such as http://collector:4317, got '{endpoint}'.");
        if (configuration[OtlpProtocolSetting] is { Length: > 0 } protocol && protocol.Trim() is not ("grpc" or "http/protobuf"))
            throw new InvalidOperationException($"configuration {OtlpProtocolSetting} must be grpc or http/protobuf, got '{protocol}'.");
        if (configuration[OtlpHeadersSetting] is { Length: > 0 } headers && MalformedPair(headers) is { } position)
            // Header values are often credentials, so the message names the entry's position, never its text.
            throw new InvalidOperationException($"configuration {OtlpHeadersSetting} must be comma-separated name=value pairs such as "
                + $"api-key=secret,tenant=team-a; its entry {position} has no '=', or no name before it.");
        return true;
    }

    /// <summary>
    /// The other OTEL_* settings docs/observability.md lists, which the SDK reads itself: it ignores a malformed interval
    /// (keeping its default, 60 s) and a resource attribute without '=', saying so only on its diagnostics event source.
    /// </summary>
    private static void RefuseMalformedSdkSettings(IConfiguration configuration)
    {
        if (configuration[MetricExportIntervalSetting] is { Length: > 0 } interval
            && !(int.TryParse(interval, NumberStyles.None, CultureInfo.InvariantCulture, out var milliseconds) && milliseconds > 0))
            throw new InvalidOperationException($"configuration {MetricExportIntervalSetting} must be a whole number of milliseconds above 0 such as 60000, got '{interval}'.");
        if (configuration[ResourceAttributesSetting] is { Length: > 0 } attributes && MalformedPair(attributes) is { } position)
            throw new InvalidOperationException($"configuration {ResourceAttributesSetting} must be comma-separated name=value pairs such as "
                + $"deployment.environment=prod,team=a; its entry {position} has no '=', or no name before it.");
    }

    /// <summary>The 1-based position of the first entry the SDK would refuse (no '=', or nothing before it), or null.</summary>
    private static int? MalformedPair(string pairs)
    {
        var entries = pairs.Split(',');
        var index = Array.FindIndex(entries, entry => entry.IndexOf('=') is var equals && (equals < 0 || entry[..equals].Trim().Length == 0));
        return index < 0 ? null : index + 1;
    }

    private static bool PrometheusEnabled(IConfiguration configuration) => configuration[PrometheusSetting] switch
    {
        null or "" => false,
        var value when bool.TryParse(value, out var enabled) => enabled,
        var value => throw new InvalidOperationException($"configuration {PrometheusSetting} must be true or false, got '{value}'."),
    };
}
