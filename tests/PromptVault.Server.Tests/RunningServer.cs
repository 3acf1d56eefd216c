using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using PromptVault.Core.Auth;
using PromptVault.Core.Contracts;
using PromptVault.Server.Hosting;
using PromptVault.Storage.Sqlite;

namespace PromptVault.Server.Tests;

/// <summary>A real PromptVault server on loopback Kestrel (a free port) over a real SQLite file in a temporary folder.</summary>
public sealed class RunningServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _folder;

    private readonly ServerSetup _setup;

    private RunningServer(WebApplication app, string folder, ServerSetup setup, Uri baseAddress, string adminKey)
    {
        _app = app;
        _folder = folder;
        _setup = setup;
        BaseAddress = baseAddress;
        AdminKey = adminKey;
    }

    public Uri BaseAddress { get; }

    /// <summary>The first admin key, created as `serve` creates it on an empty database.</summary>
    public string AdminKey { get; }

    public string DatabasePath => Path.Combine(_folder, "promptvault.db");

    public IServiceProvider Services => _app.Services;

    private bool _restarted;

    public static Task<RunningServer> StartAsync(CancellationToken cancellationToken = default) => StartAsync(new ServerSetup(), cancellationToken);

    /// <summary>Starts a server with extra configuration (<c>--Section:Key=value</c> settings) or host set-up (a log capture).</summary>
    public static async Task<RunningServer> StartAsync(ServerSetup setup, CancellationToken cancellationToken = default)
    {
        var folder = Directory.CreateTempSubdirectory("promptvault-test-").FullName;
        var app = Build(folder, setup);
        var admin = await PromptVaultServer.InitializeAsync(app, cancellationToken)
            ?? throw new InvalidOperationException("A new database should get a first admin key.");
        await app.StartAsync(cancellationToken);
        return new RunningServer(app, folder, setup, new Uri(app.Urls.First()), admin.Key);
    }

    /// <summary>Stops this server and starts a new process-like instance on the same database file (nothing carried over in memory).</summary>
    public async Task<RunningServer> RestartAsync(CancellationToken cancellationToken = default)
    {
        await _app.StopAsync(cancellationToken);
        await _app.DisposeAsync();
        _restarted = true;
        var app = Build(_folder, _setup);
        if (await PromptVaultServer.InitializeAsync(app, cancellationToken) is not null)
            throw new InvalidOperationException("A restarted server must not create another first admin key.");
        await app.StartAsync(cancellationToken);
        return new RunningServer(app, _folder, _setup, new Uri(app.Urls.First()), AdminKey);
    }

    private static WebApplication Build(string folder, ServerSetup setup)
    {
        var databasePath = Path.Combine(folder, "promptvault.db");
        return PromptVaultServer.Build(new ServerOptions { DatabasePath = databasePath, Urls = "http://127.0.0.1:0" },
            ["--Logging:LogLevel:Default=Warning", .. setup.Settings], builder =>
            {
                // Registered after the server's own factory, so it is the one resolved (and disposed by the container, as that one is).
                if (setup.StoreBusyTimeout is { } busyTimeout)
                    builder.Services.AddSingleton(_ => new SqliteConnectionFactory(databasePath, busyTimeout));
                setup.Configure?.Invoke(builder);
            });
    }

    /// <summary>An HTTP client for the server, sending <paramref name="apiKey"/> (the admin key by default; pass "" for none).</summary>
    public HttpClient CreateClient(string? apiKey = null)
    {
        var client = new HttpClient { BaseAddress = BaseAddress };
        apiKey ??= AdminKey;
        if (apiKey.Length > 0) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        return client;
    }

    /// <summary>Creates a key through the API, as an admin would.</summary>
    public async Task<string> CreateKeyAsync(string name, ApiKeyRole role, CancellationToken cancellationToken = default)
    {
        using var client = CreateClient();
        var response = await client.PostAsJsonAsync("/api/keys", new CreateApiKeyRequest(name, role), PromptVaultJson.Options, cancellationToken);
        response.EnsureSuccessStatusCode();
        var created = await response.Content.ReadFromJsonAsync<CreatedApiKeyResponse>(PromptVaultJson.Options, cancellationToken);
        return created!.Key;
    }

    public async ValueTask DisposeAsync()
    {
        if (_restarted)
            return; // the restarted instance owns the folder now
        await _app.StopAsync();
        await _app.DisposeAsync();
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { /* best effort: a temp folder */ }
    }
}

/// <summary>What a test adds to a server: configuration settings (<c>--Section:Key=value</c>) and host set-up.</summary>
public sealed record ServerSetup(string[] Settings, Action<WebApplicationBuilder>? Configure = null)
{
    public ServerSetup()
        : this([])
    {
    }

    /// <summary>How long the SQLite store waits for another connection's lock before it answers store_busy; null for the
    /// server's own 10 s. Tests that hold the database locked to see that answer set a short one, so they do not wait 10 s out.</summary>
    public TimeSpan? StoreBusyTimeout { get; init; }
}
