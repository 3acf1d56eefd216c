using PromptVault.Core.Auth;
using PromptVault.Core.Contracts;
using PromptVault.Core.Metrics;
using PromptVault.Server.Api;

namespace PromptVault.Server.Hosting;

/// <summary>Builds and starts the PromptVault server; `promptvault serve` and the tests host it the same way.</summary>
public static class PromptVaultServer
{
    public static WebApplication Build(ServerOptions options, string[]? args = null)
    {
        var builder = WebApplication.CreateSlimBuilder(args ?? []);
        builder.WebHost.UseUrls(options.Urls);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = ServerDefaults.MaxRequestBodyBytes);
        // Per-request and key-ring chatter at Information would bury what `serve` prints; keep the framework to warnings.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.AspNetCore.DataProtection", LogLevel.Error);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
        var prices = builder.Configuration.GetSection("PromptVault:Prices").GetChildren()
            .Select(model => KeyValuePair.Create(model.Key, new ModelPrice(Price(model, "InputPerMillion"), Price(model, "OutputPerMillion"))))
            .ToList();
        if (prices.Count > 0)
            options.Prices = options.Prices.With(prices);
        builder.Services.AddPromptVaultServer(options);

        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapOpenApi().AllowAnonymous();
        app.MapHealthApi();
        app.MapPromptsApi();
        app.MapExperimentsApi();
        app.MapMetricsApi();
        app.MapAuditApi();
        app.MapKeysApi();
        return app;
    }

    /// <summary>A configured price; a missing or malformed one stops start-up rather than costing calls at 0.</summary>
    private static double Price(IConfigurationSection model, string key) =>
        model.GetValue<double?>(key) is { } price && double.IsFinite(price) && price >= 0
            ? price
            : throw new InvalidOperationException($"configuration {model.Path}:{key} must be a price per million tokens (a number ≥ 0).");

    /// <summary>Migrates the database and, when it holds no API key yet, creates the first admin key and returns it (to print once).</summary>
    public static async Task<CreatedApiKeyResponse?> InitializeAsync(WebApplication app, CancellationToken cancellationToken = default)
    {
        await app.Services.GetRequiredService<Storage.Sqlite.SqliteDatabase>().MigrateAsync(cancellationToken);
        return await app.Services.GetRequiredService<ApiKeyService>().CreateFirstAdminKeyAsync(cancellationToken);
    }
}
