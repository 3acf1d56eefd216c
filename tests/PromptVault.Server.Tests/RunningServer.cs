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

    /// <summary>Set once this instance no longer owns its app: it was disposed, or restarted (the new instance owns the folder then).</summary>
    private bool _handedOver;

    public static Task<RunningServer> StartAsync(CancellationToken cancellationToken = default) => StartAsync(new ServerSetup(), cancellationToken);

    /// <summary>Starts a server with extra configuration (<c>--Section:Key=value</c> settings) or host set-up (a log capture).</summary>
    public static async Task<RunningServer> StartAsync(ServerSetup setup, CancellationToken cancellationToken = default)
    {
        var folder = Directory.CreateTempSubdirectory("promptvault-test-").FullName;
        return await StartInAsync(folder, setup, adminKey: null, cancellationToken);
    }

    /// <summary>Stops this server and starts a new process-like instance on the same database file (nothing carried over in memory).</summary>
    public async Task<RunningServer> RestartAsync(CancellationToken cancellationToken = default)
    {
        _handedOver = true;
        await _app.StopAndDisposeAsync();
        return await StartInAsync(_folder, _setup, AdminKey, cancellationToken);
    }

    /// <summary>
    /// Starts a server on the database in <paramref name="folder"/>: a new one (<paramref name="adminKey"/> null), which must create
    /// the first admin key, or a restarted one, which must not. If it does not start, its app is stopped and the folder deleted.
    /// </summary>
    private static async Task<RunningServer> StartInAsync(string folder, ServerSetup setup, string? adminKey, CancellationToken cancellationToken)
    {
        try
        {
            var app = Build(folder, setup);
            var key = await app.StartOrDisposeAsync(async () =>
            {
                var created = await PromptVaultServer.InitializeAsync(app, cancellationToken);
                if (adminKey is not null && created is not null)
                    throw new InvalidOperationException("A restarted server must not create another first admin key.");
                return adminKey ?? created?.Key ?? throw new InvalidOperationException("A new database should get a first admin key.");
            }, cancellationToken);
            return new RunningServer(app, folder, setup, new Uri(app.Urls.First()), key);
        }
        catch
        {
            DeleteFolder(folder);
            throw;
        }
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

    /// <summary>
    /// An admin's client that sends a body only once the server asks for it (<c>Expect: 100-continue</c>, waited for up to a
    /// minute), as PromptVault's own client does over 1 MB: a server refusing a body by its declared length answers before it
    /// is sent. A body sent unasked can break the connection under the server's answer, and the client then sees no answer.
    /// </summary>
    public HttpClient CreateAskingClient()
    {
        var client = new HttpClient(new SocketsHttpHandler { Expect100ContinueTimeout = TimeSpan.FromMinutes(1) }) { BaseAddress = BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        client.DefaultRequestHeaders.ExpectContinue = true;
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
        if (_handedOver)
            return;
        _handedOver = true;
        await _app.StopAndDisposeAsync();
        DeleteFolder(_folder);
    }

    private static void DeleteFolder(string folder)
    {
        try { Directory.Delete(folder, recursive: true); } catch (IOException) { /* best effort: a temp folder */ }
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
