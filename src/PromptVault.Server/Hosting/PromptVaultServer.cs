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
            .Select(model => KeyValuePair.Create(model.Key, new ModelPrice(model.GetValue<double>("InputPerMillion"), model.GetValue<double>("OutputPerMillion"))))
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

    /// <summary>Migrates the database and, when it holds no API key yet, creates the first admin key and returns it (to print once).</summary>
    public static async Task<CreatedApiKeyResponse?> InitializeAsync(WebApplication app, CancellationToken cancellationToken = default)
    {
        await app.Services.GetRequiredService<Storage.Sqlite.SqliteDatabase>().MigrateAsync(cancellationToken);
        return await app.Services.GetRequiredService<ApiKeyService>().CreateFirstAdminKeyAsync(cancellationToken);
    }
}
