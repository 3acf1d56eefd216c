using System.Globalization;
using Microsoft.AspNetCore.DataProtection.KeyManagement.Internal;
using Microsoft.Extensions.Options;
using PromptVault.Core;
using PromptVault.Core.Auth;
using PromptVault.Core.Contracts;
using PromptVault.Core.Metrics;
using PromptVault.Server.Api;
using PromptVault.Server.Auth;
using PromptVault.Server.Dashboard;
using PromptVault.Server.Mcp;

namespace PromptVault.Server.Hosting;

/// <summary>Builds and starts the PromptVault server; `promptvault serve` and the tests host it the same way.</summary>
public static class PromptVaultServer
{
    private const string PricesSection = "PromptVault:Prices";

    /// <summary>
    /// appsettings.json is read at start-up, not watched: the framework watches a file by watching the whole content root
    /// (the working directory, where the database lives by default) and its subdirectories, so every write of the database
    /// woke the watcher (3% of a render's CPU in an experiment, docs/benchmarks.md). No setting is meant to change while
    /// the server runs.
    /// </summary>
    private const string ReadConfigurationFilesOnce = "--hostBuilder:reloadConfigOnChange=false";

    /// <param name="configure">Last changes to the host before it is built (tests add a log capture here).</param>
    /// <exception cref="InvalidOperationException">A setting is wrong (URLs, prices, options); the message names it, in one line.</exception>
    public static WebApplication Build(ServerOptions options, string[]? args = null, Action<WebApplicationBuilder>? configure = null)
    {
        var urls = ServerUrls.Validate(options.Urls);
        var builder = CreateBuilder(args);
        builder.WebHost.UseUrls(urls);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = ServerDefaults.MaxRequestBodyBytes;
            kestrel.AddServerHeader = false;
        });
        // Per-request and key-ring chatter at Information would bury what `serve` prints; keep the framework to warnings.
        // The request log has its own category (Log.RequestCategory), one line per request.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.AspNetCore.DataProtection", LogLevel.Error);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
        // While this category logs at any level, hosting starts an Activity and a log scope for every request, which the
        // request log does not use (docs/benchmarks.md); it logs only requests at Information and start-up failures, which
        // whoever starts the host reports. OpenTelemetry's tracing, when configured, still gets its Activity.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        // "Hosting failed to start" (an Error, with the stack trace): whoever starts the host reports that, in one line.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
        // The handler logs every refused key at Information (two lines); the request log's 401 line says it once.
        builder.Logging.AddFilter(typeof(Auth.ApiKeyAuthenticationHandler).FullName, LogLevel.Warning);
        builder.Logging.AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.UseUtcTimestamp = true;
            console.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
        });
        BatchedConsoleLoggerProvider.ReplaceConsoleLogger(builder.Services);
        AddPromptVault(builder, options);
        configure?.Invoke(builder);
        RefuseUnknownSettings(builder);

        var app = builder.Build();
        try
        {
            // Options bound from configuration fail here, before the database is touched, rather than at start.
            app.Services.GetService<IStartupValidator>()?.Validate();
        }
        catch (OptionsValidationException e)
        {
            throw new InvalidOperationException($"configuration {string.Join("; ", e.Failures)}", e);
        }
        app.UseRoutingWithHeadAsGet();
        app.UseUnescapedRouteValues();
        app.UseRequestLogging();
        app.UseSecurityHeaders();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseDashboardStatusPages();
        app.UseCircuitsEndedWhenStopping();
        app.UseAuthentication();
        app.UseRateLimits();
        app.UseAuthorization();
        app.UseSingleValuedQuery();
        app.UseUncheckedIfMatchRefused();
        app.UseUtf8Bodies();
        app.MapOpenApi().AllowAnonymous();
        app.MapHealthApi();
        app.MapPromptsApi();
        app.MapExperimentsApi();
        app.MapMetricsApi();
        app.MapSdkApi();
        app.MapAuditApi();
        app.MapKeysApi();
        app.MapWebhooksApi();
        app.MapExportApi();
        app.MapPlaygroundApi();
        app.MapEvaluationsApi();
        app.MapPromptVaultMcp();
        app.MapDashboard();
        app.MapPrometheusEndpoint();
        return app;
    }

    private static WebApplicationBuilder CreateBuilder(string[]? args) => WebApplication.CreateSlimBuilder([.. args ?? [], ReadConfigurationFilesOnce]);

    /// <summary>
    /// The server's services, from <paramref name="builder"/>'s configuration: <paramref name="options"/>' prices and database are
    /// settled here, and whatever reads a setting registers it (<see cref="ReadSetting"/>) for <see cref="RefuseUnknownSettings"/>.
    /// Nothing here touches the database.
    /// </summary>
    private static void AddPromptVault(WebApplicationBuilder builder, ServerOptions options)
    {
        var prices = builder.Configuration.GetSection(PricesSection).GetChildren()
            .Select(model => KeyValuePair.Create(model.Key, ConfiguredPrice(model)))
            .ToList();
        if (prices.Count > 0)
            options.Prices = options.Prices.With(prices);
        builder.Services.AddSingleton(new ReadSetting($"{PricesSection}:{{model}}", typeof(ModelPrice)));
        ServerStorage.Resolve(options, builder.Configuration);
        builder.Services.AddSingleton(new ReadSetting(ServerStorage.PostgresKey));
        builder.Services.AddPromptVaultServer(options);
        builder.Services.AddPromptVaultModels(builder.Configuration);
        builder.Services.AddPromptVaultDashboard();
        builder.Services.AddPromptVaultMcp();
        builder.AddPromptVaultTelemetry();
    }

    /// <summary>Refuses a key under <see cref="KnownSettings.Section"/> that no setting registered on <paramref name="builder"/> covers (<see cref="KnownSettings.RefuseUnknown"/>).</summary>
    private static void RefuseUnknownSettings(WebApplicationBuilder builder) =>
        KnownSettings.RefuseUnknown(builder.Configuration, builder.Services
            .Where(service => service.ServiceType == typeof(ReadSetting)).Select(service => (ReadSetting)service.ImplementationInstance!));

    /// <summary>
    /// Settles <paramref name="options"/>' database (<see cref="ServerStorage.Resolve"/>) from the configuration <see cref="Build"/>'s
    /// host reads, built by the same builder: appsettings.json and appsettings.{Environment}.json in the working directory, the
    /// environment (names in any case), and <paramref name="args"/>. So <c>admin-key</c> finds the database <c>serve</c> uses, and
    /// refuses the configuration <c>serve</c> would refuse (a misspelt <c>PromptVault__Postgres</c> would otherwise leave it on SQLite's file).
    /// </summary>
    /// <exception cref="InvalidOperationException">Both were given, a PostgreSQL setting is malformed, or a setting is wrong or unknown as <see cref="Build"/> says; the message names which.</exception>
    public static void ResolveStorage(ServerOptions options, string[]? args = null)
    {
        // The configuration is read only for a database the options do not give: building a host's is not free, and
        // admin-key's storage arrives here resolved already.
        if (options.DatabasePath is not null || options.Postgres is not null)
        {
            ServerStorage.Resolve(options, new ConfigurationManager());
            return;
        }
        // Serve's services are registered, never built, so that the settings known are the ones serve registers.
        var builder = CreateBuilder(args);
        AddPromptVault(builder, options);
        RefuseUnknownSettings(builder);
    }

    /// <summary>
    /// Where <see cref="ResolveStorage"/> looks for <see cref="ServerStorage.PostgresKey"/> and <see cref="ServerStorage.DatabaseUrlKey"/>,
    /// for a message that says they were not found: an operator who set one elsewhere (another directory, another shell) sees why.
    /// </summary>
    public static string StorageSettingSources =>
        $"appsettings.json or appsettings.{{Environment}}.json in {Directory.GetCurrentDirectory()}, or the environment as " +
        $"{KnownSettings.AsEnvironmentVariable(ServerStorage.PostgresKey)} or {ServerStorage.DatabaseUrlKey} (names in any case)";

    /// <summary>
    /// A model's configured prices. A bare value where the model's section belongs (<c>PromptVault__Prices__gpt-x=5</c>), or a
    /// blank one (<c>""</c>, <c>null</c> or <c>{}</c> in appsettings.json), is refused naming that key, not the <c>InputPerMillion</c>
    /// under it that the operator never set.
    /// </summary>
    private static ModelPrice ConfiguredPrice(IConfigurationSection model)
    {
        // Configuration reads JSON null and {} alike: a key with no value and nothing under it.
        var instead = model.Value is { Length: > 0 } value ? $"'{value}'" : model.GetChildren().Any() ? null : "blank";
        if (instead is not null)
            throw new InvalidOperationException($"configuration {model.Path} is {instead}, but a model's prices belong there: " +
                $"{model.Path}:{nameof(ModelPrice.InputPerMillion)} and {model.Path}:{nameof(ModelPrice.OutputPerMillion)}, each a price per million tokens (a number ≥ 0).");
        return new ModelPrice(Price(model, nameof(ModelPrice.InputPerMillion)), Price(model, nameof(ModelPrice.OutputPerMillion)));
    }

    /// <summary>A configured price; a missing or malformed one stops start-up rather than costing calls at 0.</summary>
    private static double Price(IConfigurationSection model, string key) =>
        double.TryParse(model[key], NumberStyles.Float, CultureInfo.InvariantCulture, out var price) && double.IsFinite(price) && price >= 0
            ? price
            : throw new InvalidOperationException($"configuration {model.Path}:{key} must be a price per million tokens (a number ≥ 0).");

    /// <summary>Migrates the database and, when it holds no active admin key, creates one and returns it (to print once).</summary>
    public static async Task<CreatedApiKeyResponse?> InitializeAsync(WebApplication app, CancellationToken cancellationToken = default)
    {
        await MigrateAsync(app, cancellationToken);
        return await CreateFirstAdminKeyAsync(app, cancellationToken);
    }

    /// <summary>
    /// Creates or upgrades the database's schema, then reads the dashboard's key ring, so that a new database's first key is
    /// made before the server serves (only one is stored when servers start at once: <see cref="StoredKeyRing"/>).
    /// </summary>
    public static async Task MigrateAsync(WebApplication app, CancellationToken cancellationToken = default)
    {
        await ServerStorage.MigrateAsync(app.Services, cancellationToken);
        await Task.Run(() => app.Services.GetRequiredService<IKeyRingProvider>().GetCurrentKeyRing(), cancellationToken);
    }

    /// <summary>When the database holds no active admin key (a new database), creates one and returns it (to print once).</summary>
    public static Task<CreatedApiKeyResponse?> CreateFirstAdminKeyAsync(WebApplication app, CancellationToken cancellationToken = default) =>
        app.Services.GetRequiredService<ApiKeyService>().CreateFirstAdminKeyAsync(cancellationToken);

    /// <summary>
    /// Creates a new admin key directly in the SQLite database at <paramref name="databasePath"/> (<c>promptvault admin-key</c>), for
    /// when every admin key is lost or revoked. Whoever can write the database file can do this; the audit log records it.
    /// </summary>
    public static Task<CreatedApiKeyResponse> CreateRecoveryAdminKeyAsync(string databasePath, CancellationToken cancellationToken = default) =>
        CreateRecoveryAdminKeyAsync(new ServerOptions { DatabasePath = databasePath }, cancellationToken);

    /// <summary>
    /// Creates a new admin key directly in the database of <paramref name="storage"/> (its <see cref="ServerOptions.DatabasePath"/> or
    /// <see cref="ServerOptions.Postgres"/>, else the one <c>serve</c> would use: <see cref="ResolveStorage"/>): <c>promptvault admin-key</c>.
    /// Servers on that database accept it at once.
    /// </summary>
    /// <exception cref="InvalidOperationException">The storage options are contradictory or malformed.</exception>
    public static async Task<CreatedApiKeyResponse> CreateRecoveryAdminKeyAsync(ServerOptions storage, CancellationToken cancellationToken = default)
    {
        ResolveStorage(storage);
        await using var services = new ServiceCollection()
            .AddLogging()
            .AddSingleton(TimeProvider.System)
            .AddPromptVaultStorage(storage)
            .AddPromptVaultRegistryCache()
            .AddSingleton<ApiKeyService>()
            .BuildServiceProvider();
        await ServerStorage.MigrateAsync(services, cancellationToken);
        return await services.GetRequiredService<ApiKeyService>().CreateRecoveryAdminKeyAsync(cancellationToken);
    }
}
