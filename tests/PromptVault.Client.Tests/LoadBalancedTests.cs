using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using PromptVault.Core.Prompts;
using PromptVault.Server.Tests.Postgres;

namespace PromptVault.Client.Tests;

/// <summary>
/// The SDK behind a load balancer (issue 12): two servers on one PostgreSQL database, every SDK request sent to the next
/// one in turn. A label moved through either is served soon, by both servers (each answers the SDK's refreshes with the
/// new state), and the SDK never goes back to an older state.
/// </summary>
public sealed class LoadBalancedTests
{
    [Fact]
    public async Task GetPromptAsync_LabelMovedThroughEitherServer_ServedSoon_AndNeverOlderAgain()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var servers = await SharedDatabaseServers.StartAsync(cancellationToken: ct);
        var a = new PromptVaultClient(new HttpClient { BaseAddress = servers.BaseAddress(0) }, servers.AdminKey);
        var b = new PromptVaultClient(new HttpClient { BaseAddress = servers.BaseAddress(1) }, servers.AdminKey);
        var name = Prompts.NewName("balanced");
        var one = await Prompts.CreateAsync(a, name, "one", cancellationToken: ct);
        var two = await Prompts.AddVersionAsync(b, name, "two", ct);
        var balancer = new RoundRobin([servers.BaseAddress(0), servers.BaseAddress(1)]);
        await using var host = await SdkHost.StartAsync(servers.BaseAddress(0), servers.AdminKey, o => o.RefreshInterval = TimeSpan.FromMilliseconds(100),
            services => balancer.AddTo(services), ct);
        Assert.Equal(one, (await host.Vault.GetPromptAsync(name, cancellationToken: ct)).VersionId);

        await b.MoveLabelAsync(name, Label.Production, two, ct);
        // Refreshes are 100 ms apart; the wait is long for a loaded machine (1 s was a bound it could break), not for the SDK.
        await Eventually(async () => (await host.Vault.GetPromptAsync(name, cancellationToken: ct)).VersionId, id => id == two);
        await a.MoveLabelAsync(name, Label.Production, one, ct);
        await Eventually(async () => (await host.Vault.GetPromptAsync(name, cancellationToken: ct)).VersionId, id => id == one);
        var sequence = host.Sdk.Snapshots.Current!.Sequence;
        var served = new List<string>();
        // Served on until each server has answered a few more refreshes with the state moved back.
        // Each server must itself answer with this state: the SDK ignores an older snapshot, so a server that never hears the
        // other's writes would otherwise go unseen (its stale answers are dropped, the other server's taken).
        var current = $"\"{sequence}\"";
        await Eventually(async () =>
        {
            served.Add((await host.Vault.GetPromptAsync(name, cancellationToken: ct)).VersionId);
            return (Answers: (balancer.AnsweredWith(0, current), balancer.AnsweredWith(1, current)), LastETags: (balancer.LastETag(0), balancer.LastETag(1)));
        }, snapshots => snapshots.Answers.Item1 >= 3 && snapshots.Answers.Item2 >= 3);

        Assert.All(served, id => Assert.Equal(one, id));
        Assert.Equal(sequence, host.Sdk.Snapshots.Current!.Sequence);
    }

    /// <summary>A load balancer in the SDK's handlers: each request goes to the next server in turn; it counts each server's
    /// snapshot answers (200 or 304) by ETag.</summary>
    private sealed class RoundRobin(Uri[] servers)
    {
        private readonly ConcurrentDictionary<(int Server, string ETag), int> _answers = new();
        private readonly string?[] _lastETag = new string?[servers.Length];
        private int _next;

        public int AnsweredWith(int server, string etag) => _answers.GetValueOrDefault((server, etag));

        public string? LastETag(int server) => Volatile.Read(ref _lastETag[server]);

        public void AddTo(IServiceCollection services)
        {
            foreach (var name in new[] { PromptVaultDefaults.HttpClientName, PromptVaultDefaults.StreamHttpClientName })
                services.AddHttpClient(name).AddHttpMessageHandler(() => new Handler(this));
        }

        private (int Index, Uri Address) Next()
        {
            var server = Interlocked.Increment(ref _next) % servers.Length;
            return (server, servers[server]);
        }

        private sealed class Handler(RoundRobin balancer) : DelegatingHandler
        {
            protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
            {
                var (server, address) = balancer.Next();
                request.RequestUri = new UriBuilder(request.RequestUri!) { Host = address.Host, Port = address.Port }.Uri;
                var response = await base.SendAsync(request, cancellationToken);
                if (request.RequestUri.AbsolutePath == "/api/sdk/snapshot" && response.Headers.ETag?.Tag is { } etag)
                {
                    Volatile.Write(ref balancer._lastETag[server], etag);
                    balancer._answers.AddOrUpdate((server, etag), 1, (_, n) => n + 1);
                }
                return response;
            }
        }
    }
}
