using Microsoft.AspNetCore.Builder;
using PromptVault.Server.Hosting;
using PromptVault.Server.Tests;

namespace PromptVault.Client.Tests;

/// <summary>
/// A real PromptVault server on loopback Kestrel over a real SQLite file, which a test can stop and start again on the same
/// port and database, as an SDK sees a server go down and come back.
/// </summary>
public sealed class SdkServer : IAsyncDisposable
{
    private readonly string _folder;
    private readonly IReadOnlyList<string> _settings;
    private WebApplication? _app;

    private SdkServer(string folder, IReadOnlyList<string> settings)
    {
        _folder = folder;
        _settings = settings;
    }

    public Uri BaseAddress { get; private set; } = null!;

    public string AdminKey { get; private set; } = null!;

    public bool IsRunning => _app is not null;

    /// <summary>The typed client of the whole API, with the admin key.</summary>
    public PromptVaultClient Api => new(new HttpClient { BaseAddress = BaseAddress }, AdminKey);

    public static Task<SdkServer> StartAsync(CancellationToken cancellationToken = default) => StartAsync([], cancellationToken);

    /// <summary>Starts a server with configuration settings of its own (<c>--PromptVault:Models:default:Endpoint=…</c>).</summary>
    public static async Task<SdkServer> StartAsync(IReadOnlyList<string> settings, CancellationToken cancellationToken = default)
    {
        var server = new SdkServer(Directory.CreateTempSubdirectory("promptvault-sdk-test-").FullName, settings);
        try
        {
            await server.StartAsync("http://127.0.0.1:0", cancellationToken);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Stops the server: the port refuses connections until <see cref="StartAgainAsync"/>.</summary>
    public async Task StopAsync()
    {
        if (_app is null) return;
        await _app.StopAndDisposeAsync();
        _app = null;
    }

    /// <summary>Starts a new server process-like instance on the same port and database (nothing carried over in memory).</summary>
    public Task StartAgainAsync(CancellationToken cancellationToken = default) =>
        StartAsync($"http://127.0.0.1:{BaseAddress.Port}", cancellationToken);

    private async Task StartAsync(string urls, CancellationToken cancellationToken)
    {
        var app = PromptVaultServer.Build(new ServerOptions { DatabasePath = Path.Combine(_folder, "promptvault.db"), Urls = urls },
            ["--Logging:LogLevel:Default=Warning", .. _settings]);
        var admin = await app.StartOrDisposeAsync(() => PromptVaultServer.InitializeAsync(app, cancellationToken), cancellationToken);
        if (admin is not null) AdminKey = admin.Key;
        BaseAddress = new Uri(app.Urls.First());
        _app = app;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { /* best effort: a temp folder */ }
    }
}

/// <summary>One server shared by the tests of a class; each test uses its own prompt names.</summary>
public sealed class SdkServerFixture : IAsyncLifetime
{
    private SdkServer? _server;

    public SdkServer Server => _server ?? throw new InvalidOperationException("The server has not started.");

    public async ValueTask InitializeAsync() => _server = await SdkServer.StartAsync(TestContext.Current.CancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }
}
