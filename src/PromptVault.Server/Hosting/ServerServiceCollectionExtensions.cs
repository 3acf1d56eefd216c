using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.Json;
using PromptVault.Core.Auth;
using PromptVault.Core.Contracts;
using PromptVault.Core.Evaluations;
using PromptVault.Core.Experiments;
using PromptVault.Core.Idempotency;
using PromptVault.Core.Metrics;
using PromptVault.Core.Playground;
using PromptVault.Core.Registry;
using PromptVault.Core.Templates;
using PromptVault.Server.Api;
using PromptVault.Server.Auth;
using PromptVault.Server.Hosting;
using PromptVault.Server.Webhooks;
using Microsoft.Extensions.Options;
using PromptVault.Core.Webhooks;

namespace Microsoft.Extensions.DependencyInjection;

public static class ServerServiceCollectionExtensions
{
    /// <summary>The server's services: storage (<see cref="ServerStorage"/>; call <see cref="ServerStorage.Resolve"/> first), the registry, API-key auth and its failure limit, problem details, health checks, OpenAPI.</summary>
    public static IServiceCollection AddPromptVaultServer(this IServiceCollection services, ServerOptions options)
    {
        services.AddSingleton(TimeProvider.System);
        services.AddPromptVaultStorage(options);
        services.AddSingleton<TemplateEngine>();
        services.AddSingleton<IdempotentRequests>();
        services.AddPromptVaultRegistryCache();
        services.AddSingleton<PromptRegistry>();
        services.AddSingleton<ExperimentService>();
        services.AddSingleton<MetricsService>();
        services.AddSingleton<EvaluationService>();
        services.AddOptions<EvaluationsOptions>().BindValidatedConfiguration(EvaluationsOptions.SectionName).ValidateOnStart();
        services.AddSingleton<ExposureService>();
        services.AddSingleton<SdkSnapshots>();
        services.AddOptions<SdkStreamOptions>().BindValidatedConfiguration("PromptVault:Sdk")
            .Validate(o => o.KeepAliveInterval > TimeSpan.Zero && o.KeepAliveInterval <= SdkStreamOptions.MaxKeepAliveInterval,
                $"PromptVault:Sdk:KeepAliveInterval must be a positive time span up to {SdkStreamOptions.MaxKeepAliveInterval:c} (default 00:00:15).").ValidateOnStart();
        services.AddSingleton(options.Prices);
        services.AddSingleton<ApiKeyService>();
        services.AddSingleton<RegistryTransfer>();
        services.AddOptions<ImportOptions>().BindValidatedConfiguration(ImportOptions.SectionName)
            .Validate(o => o.MaxDocumentBytes > 0, $"{ImportOptions.SectionName}:MaxDocumentBytes must be a number of bytes above 0 (default 268435456, 256 MB).").ValidateOnStart();
        services.AddSingleton<PlaygroundService>();
        services.AddPromptVaultWebhooks();

        services.Configure<JsonOptions>(json =>
        {
            PromptVaultJson.Configure(json.SerializerOptions, forRequests: true);
            SentEnumValueConverter.ReplaceIn(json.SerializerOptions);
            json.SerializerOptions.Encoder = PromptVaultJson.AnswerEncoder;
        });
        // Malformed bodies throw BadHttpRequestException, which ProblemExceptionHandler turns into a 400 naming the field.
        services.Configure<RouteHandlerOptions>(routing => routing.ThrowOnBadRequest = true);
        services.AddProblemDetails(problems => problems.CustomizeProblemDetails = Problems.AddStatusCode);
        services.AddSingleton<IProblemDetailsWriter, Problems.WriterForAnyAccept>();
        services.AddSingleton<StoreTroubleLog>();
        services.AddExceptionHandler<ProblemExceptionHandler>();

        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        services.AddAuthorizationBuilder().AddRolePolicies();
        services.AddRateLimits();
        services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("database");
        // The framework logs every failed check with its exception, one line per probe; DatabaseHealthCheck logs its own. The
        // rule goes first, so an operator's rule for the same category (Logging:LogLevel in the configuration) still wins.
        services.Configure<LoggerFilterOptions>(options =>
            options.Rules.Insert(0, new LoggerFilterRule(null, "Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.None, null)));
        services.AddOpenApi(OpenApiSetup.Configure);
        return services;
    }

    /// <summary>Webhook registration and the dispatcher that sends the outbox (options <c>PromptVault:Webhooks</c>, docs/webhooks.md).</summary>
    public static IServiceCollection AddPromptVaultWebhooks(this IServiceCollection services)
    {
        services.AddSingleton<WebhookService>();
        services.AddOptions<WebhookOptions>().BindValidatedConfiguration("PromptVault:Webhooks")
            .Validate(o => o.LeaseDuration > o.Timeout, "PromptVault:Webhooks:LeaseDuration must be longer than Timeout, or a slow receiver could get a delivery twice.")
            .Validate(o => o.MaxBackoff >= o.InitialBackoff, "PromptVault:Webhooks:MaxBackoff must be at least InitialBackoff, or every wait between attempts would be MaxBackoff.")
            .ValidateOnStart();
        services.AddHttpClient(WebhookDispatcher.HttpClientName, (provider, client) =>
                client.Timeout = provider.GetRequiredService<IOptions<WebhookOptions>>().Value.Timeout)
            // A redirect would send the signed body somewhere the admin did not register; the connection refuses the server's own network.
            .ConfigurePrimaryHttpMessageHandler(provider =>
            {
                var options = provider.GetRequiredService<IOptions<WebhookOptions>>().Value;
                return new SocketsHttpHandler
                {
                    AllowAutoRedirect = false,
                    PooledConnectionLifetime = TimeSpan.FromMinutes(2),
                    ConnectCallback = (context, cancellationToken) => WebhookDestinations.ConnectAsync(context, options, cancellationToken),
                };
            })
            // The dispatcher logs each failed attempt as one line naming the webhook, event and why (event 2101); HttpClient's own
            // logger would add four Information lines per attempt, and a stack trace for a receiver that is merely down.
            .RemoveAllLoggers();
        services.AddHostedService<WebhookDispatcher>();
        return services;
    }

    /// <summary>The change feed and the registry cache that render and authentication read through (docs/architecture.md).</summary>
    public static IServiceCollection AddPromptVaultRegistryCache(this IServiceCollection services) =>
        services.AddSingleton<RegistryChangeFeed>().AddSingleton<RegistryCache>();
}
