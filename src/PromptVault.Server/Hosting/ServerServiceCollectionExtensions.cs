using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.Json;
using PromptVault.Core.Auth;
using PromptVault.Core.Contracts;
using PromptVault.Core.Evaluations;
using PromptVault.Core.Experiments;
using PromptVault.Core.Idempotency;
using PromptVault.Core.Metrics;
using PromptVault.Core.Registry;
using PromptVault.Core.Templates;
using PromptVault.Server.Api;
using PromptVault.Server.Auth;
using PromptVault.Server.Hosting;

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
        services.AddSingleton<ExposureService>();
        services.AddSingleton<SdkSnapshots>();
        services.AddOptions<SdkStreamOptions>().BindConfiguration("PromptVault:Sdk")
            .Validate(o => o.KeepAliveInterval > TimeSpan.Zero, "PromptVault:Sdk:KeepAliveInterval must be a positive time span (00:00:15).").ValidateOnStart();
        services.AddSingleton(options.Prices);
        services.AddSingleton<ApiKeyService>();
        services.AddSingleton<RegistryTransfer>();

        services.Configure<JsonOptions>(json => PromptVaultJson.Configure(json.SerializerOptions));
        // Malformed bodies throw BadHttpRequestException, which ProblemExceptionHandler turns into a 400 naming the field.
        services.Configure<RouteHandlerOptions>(routing => routing.ThrowOnBadRequest = true);
        services.AddProblemDetails(problems => problems.CustomizeProblemDetails = Problems.AddStatusCode);
        services.AddExceptionHandler<ProblemExceptionHandler>();

        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        services.AddAuthorizationBuilder().AddRolePolicies();
        services.AddFailedAuthenticationLimit();
        services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("database");
        services.AddOpenApi(OpenApiSetup.Configure);
        return services;
    }

    /// <summary>The change feed and the registry cache that render and authentication read through (docs/architecture.md).</summary>
    public static IServiceCollection AddPromptVaultRegistryCache(this IServiceCollection services) =>
        services.AddSingleton<RegistryChangeFeed>().AddSingleton<RegistryCache>();
}
