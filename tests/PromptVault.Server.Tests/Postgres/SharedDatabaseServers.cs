using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using PromptVault.Server.Hosting;
using PromptVault.Storage.Testing;

namespace PromptVault.Server.Tests.Postgres;

/// <summary>
/// Several PromptVault servers on one real PostgreSQL database (<see cref="PostgresServer"/>), as behind a load balancer: each
/// its own host and DI container (nothing shared in memory) on loopback Kestrel. They start at once, so their migrations race.
/// </summary>
public sealed class SharedDatabaseServers : IAsyncDisposable
{
    private readonly PostgresTestDatabase _database;
    private readonly List<WebApplication> _apps;
    private HttpClient? _a;
    private HttpClient? _b;

    private SharedDatabaseServers(PostgresTestDatabase database, List<WebApplication> apps, string adminKey)
    {
        _database = database;
        _apps = apps;
        AdminKey = adminKey;
    }

    /// <summary>The first admin key, created by the first server.</summary>
    public string AdminKey { get; }

    public string ConnectionString => _database.ConnectionString;

    public IServiceProvider Services(int server) => _apps[server].Services;

    public Uri BaseAddress(int server) => new(_apps[server].Urls.First());

    public static async Task<SharedDatabaseServers> StartAsync(int count = 2, string[]? settings = null, CancellationToken cancellationToken = default)
    {
        var database = await PostgresServer.CreateDatabaseAsync(migrated: false, cancellationToken);
        var apps = new List<WebApplication>();
        try
        {
            for (var i = 0; i < count; i++)
            {
                apps.Add(PromptVaultServer.Build(new ServerOptions { Postgres = database.ConnectionString, Urls = "http://127.0.0.1:0" },
                    ["--Logging:LogLevel:Default=Warning", .. settings ?? []]));
            }
            await Task.WhenAll(apps.Select(app => PromptVaultServer.MigrateAsync(app, cancellationToken)));
            var admin = await PromptVaultServer.CreateFirstAdminKeyAsync(apps[0], cancellationToken)
                ?? throw new InvalidOperationException("A new database should get a first admin key.");
            foreach (var app in apps.Skip(1))
            {
                if (await PromptVaultServer.CreateFirstAdminKeyAsync(app, cancellationToken) is not null)
                    throw new InvalidOperationException("The other servers must find the first admin key.");
            }
            await Task.WhenAll(apps.Select(app => app.StartAsync(cancellationToken)));
            return new SharedDatabaseServers(database, apps, admin.Key);
        }
        catch
        {
            // Every server built, the ones that started as well as the one that did not, and the database.
            await StopAsync(apps, database);
            throw;
        }
    }

    /// <summary>An HTTP client for server <paramref name="server"/>, sending <paramref name="apiKey"/> (the admin key by default).</summary>
    public HttpClient CreateClient(int server, string? apiKey = null)
    {
        var client = new HttpClient { BaseAddress = BaseAddress(server) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey ?? AdminKey);
        return client;
    }

    /// <summary>An admin client of the first server, disposed with the servers.</summary>
    public HttpClient A => _a ??= CreateClient(0);

    /// <summary>An admin client of the second server, disposed with the servers.</summary>
    public HttpClient B => _b ??= CreateClient(1);

    public async ValueTask DisposeAsync()
    {
        _a?.Dispose();
        _b?.Dispose();
        await StopAsync(_apps, _database);
    }

    private static async Task StopAsync(List<WebApplication> apps, PostgresTestDatabase database)
    {
        foreach (var app in apps) await app.StopAndDisposeAsync();
        await database.DisposeAsync();
    }
}
