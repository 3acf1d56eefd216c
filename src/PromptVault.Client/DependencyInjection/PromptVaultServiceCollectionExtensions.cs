using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Telemetry;
using PromptVault.Client;
using PromptVault.Client.DependencyInjection;
using PromptVault.Client.Events;
using PromptVault.Client.Snapshots;
using PromptVault.Core;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the PromptVault SDK.</summary>
public static class PromptVaultServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="IPromptVault"/>, the typed <see cref="PromptVaultClient"/> (an <see cref="HttpClient"/> named
    /// <c>PromptVault</c> with the standard resilience handler, bounded by <see cref="PromptVaultOptions.RequestTimeout"/>; it retries
    /// reads, writes that carry an <c>Idempotency-Key</c>, label moves and deletes, sends any other write once, and lets an evaluation run as long as
    /// the caller's token allows),
    /// the background snapshot refresher and a health check named <c>promptvault</c>. Options come from the configuration
    /// section <c>PromptVault</c>, then <paramref name="configure"/>, and are validated when the host starts.
    /// </summary>
    /// <example><code>
    /// builder.Services.AddPromptVault(options =&gt; options.ServerUrl = new Uri("http://127.0.0.1:5180"));
    /// </code></example>
    public static IServiceCollection AddPromptVault(this IServiceCollection services, Action<PromptVaultOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        // Bound when there is a configuration (a host); a bare ServiceCollection has none, and configure alone applies.
        var options = services.AddOptions<PromptVaultOptions>()
            .Configure<IServiceProvider>((o, provider) => provider.GetService<IConfiguration>()?.GetSection(PromptVaultOptions.SectionName).Bind(o));
        if (configure is not null) options.Configure(configure);
        // Each refusal names the setting as the user writes it (PromptVault:ServerUrl is required.), not the .NET type.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PromptVaultOptions>, AnnotatedOptions>());
        options
            .Validate(o => o.ServerUrl is null || (o.ServerUrl.IsAbsoluteUri && o.ServerUrl.Scheme is "http" or "https"),
                "PromptVault:ServerUrl must be an absolute http or https URL.")
            .Validate(o => o.StaleAfter is null || o.StaleAfter > TimeSpan.Zero, "PromptVault:StaleAfter must be positive.")
            .ValidateOnStart();

        var client = services.AddHttpClient(PromptVaultDefaults.HttpClientName)
            .AddTypedClient((http, provider) => new PromptVaultClient(http, provider.GetRequiredService<IOptions<PromptVaultOptions>>().Value.ApiKey))
            .ConfigureHttpClient((provider, http) =>
            {
                http.BaseAddress = provider.GetRequiredService<IOptions<PromptVaultOptions>>().Value.ServerUrl;
                http.Timeout = Timeout.InfiniteTimeSpan; // the resilience handler's total timeout bounds each call
            });
        client.AddStandardResilienceHandler()
            .Configure((HttpStandardResilienceOptions resilience, IServiceProvider provider) =>
            {
                var timeout = provider.GetRequiredService<IOptions<PromptVaultOptions>>().Value.RequestTimeout;
                resilience.TotalRequestTimeout.Timeout = timeout;
                resilience.AttemptTimeout.Timeout = timeout / 2;
                // A request sent once gets the whole timeout; an evaluation none (a zero timeout is none), as it may take minutes.
                resilience.TotalRequestTimeout.TimeoutGenerator = args =>
                    ValueTask.FromResult(RequestRules.IsLongRunning(args.Context.GetRequestMessage()) ? TimeSpan.Zero : timeout);
                resilience.AttemptTimeout.TimeoutGenerator = args =>
                {
                    var request = args.Context.GetRequestMessage();
                    return ValueTask.FromResult(RequestRules.IsLongRunning(request) ? TimeSpan.Zero
                        : RequestRules.IsRepeatable(request) ? timeout / 2 : timeout);
                };
                var transient = resilience.Retry.ShouldHandle;
                resilience.Retry.ShouldHandle = async args =>
                    RequestRules.IsRepeatable(args.Context.GetRequestMessage()) && await transient(args).ConfigureAwait(false);
                resilience.Retry.Delay = PromptVaultDefaults.FirstRetryDelay;
                resilience.CircuitBreaker.SamplingDuration = TimeSpan.FromTicks(Math.Max(TimeSpan.FromSeconds(30).Ticks, timeout.Ticks));
            });
        // Inside the resilience handler: it sees each attempt of a call.
        client.AddHttpMessageHandler(() => new RepeatedWriteHandler());
        // The resilience handler's telemetry logs every failed attempt as a warning (the last as an error) with its stack trace:
        // one refresh with the server down wrote eight. The SDK logs each failure once, with its reason (2003, 2101), so the
        // events of its pipeline are Debug; other pipelines of the application keep their severity.
        services.AddOptions<TelemetryOptions>().PostConfigure(telemetry =>
        {
            var others = telemetry.SeverityProvider;
            telemetry.SeverityProvider = args => args.Source.PipelineName == PromptVaultDefaults.HttpClientName + "-standard"
                ? ResilienceEventSeverity.Debug
                : others?.Invoke(args) ?? args.Event.Severity;
        });
        // IHttpClientFactory logs four Information lines per request of a named client (start, sending, received, end): a
        // busy application's log filled with the SDK's refreshes and event batches. Its clients' own categories start at
        // Warning. Each rule names a category exactly, as the framework matches a rule's category as a prefix: a rule for
        // System.Net.Http.HttpClient.PromptVault quieted an application's client named PromptVaultBilling too. The rules go
        // first, so an application's rule for the same category (configuration, AddFilter, before or after this) wins.
        services.Configure<LoggerFilterOptions>(filters =>
        {
            foreach (var name in new[] { PromptVaultDefaults.HttpClientName, PromptVaultDefaults.StreamHttpClientName })
            foreach (var handler in new[] { "LogicalHandler", "ClientHandler" })
                filters.Rules.Insert(0, new LoggerFilterRule(null, $"System.Net.Http.HttpClient.{name}.{handler}", LogLevel.Warning, null));
        });
        // The stream stays open for hours: no timeout and no retry handler; SnapshotSource reconnects with backoff. Also the
        // single attempt at start when a fallback file is configured.
        services.AddHttpClient(PromptVaultDefaults.StreamHttpClientName).ConfigureHttpClient((provider, http) =>
        {
            http.BaseAddress = provider.GetRequiredService<IOptions<PromptVaultOptions>>().Value.ServerUrl;
            http.Timeout = Timeout.InfiniteTimeSpan;
        });

        services.AddMetrics();
        services.TryAddSingleton(provider =>
        {
            var settings = provider.GetRequiredService<IOptions<PromptVaultOptions>>().Value;
            var http = provider.GetRequiredService<IHttpClientFactory>();
            var time = provider.GetService<TimeProvider>() ?? TimeProvider.System;
            var logger = (provider.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance).CreateLogger(ClientTelemetry.Name);
            PromptVaultClient Client() => new(http.CreateClient(PromptVaultDefaults.HttpClientName), settings.ApiKey);
            return new PromptVaultSdk(
                new SnapshotSource(Client, () => http.CreateClient(PromptVaultDefaults.StreamHttpClientName), settings, time, logger),
                new EventQueue(Client, settings, time, logger), time, provider.GetService<IMeterFactory>());
        });
        services.TryAddSingleton<IPromptVault>(provider => provider.GetRequiredService<PromptVaultSdk>());
        services.AddHostedService<PromptVaultRefresher>();
        services.AddHealthChecks().AddCheck<PromptVaultHealthCheck>("promptvault");
        return services;
    }

    /// <summary>The options' data annotations, each refusal naming its setting (<see cref="AnnotatedSettings"/>).</summary>
    private sealed class AnnotatedOptions : IValidateOptions<PromptVaultOptions>
    {
        public ValidateOptionsResult Validate(string? name, PromptVaultOptions options) =>
            AnnotatedSettings.Refusals(options, PromptVaultOptions.SectionName) is { Count: > 0 } refusals ? ValidateOptionsResult.Fail(refusals) : ValidateOptionsResult.Success;
    }
}
