using Microsoft.Extensions.DependencyInjection;
using PromptVault.Core.Prompts;
using PromptVault.Server.Tests.Postgres;

namespace PromptVault.Client.Tests;

/// <summary>
/// The SDK behind a load balancer (issue 12): two servers on one PostgreSQL database, every SDK request sent to the next
/// one in turn. A label moved through either is served soon, and the SDK never goes back to an older state.
/// </summary>
public sealed class LoadBalancedTests
{
    private static readonly TimeSpan ChangeWait = TimeSpan.FromSeconds(30);

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
        var took = await Eventually.WithinAsync(ChangeWait, async () => (await host.Vault.GetPromptAsync(name, cancellationToken: ct)).VersionId == two, ct);
        await a.MoveLabelAsync(name, Label.Production, one, ct);
        var back = await Eventually.WithinAsync(ChangeWait, async () => (await host.Vault.GetPromptAsync(name, cancellationToken: ct)).VersionId == one, ct);
        var sequence = host.Sdk.Snapshots.Current!.Sequence;
        var served = new List<string>();
        // Served on until each server has answered a few more refreshes (sent one after another, so all but the last answered).
        var before = balancer.Sent.ToArray();
        var alternated = await Eventually.WithinAsync(ChangeWait, async () =>
        {
            served.Add((await host.Vault.GetPromptAsync(name, cancellationToken: ct)).VersionId);
            return Volatile.Read(ref balancer.Sent[0]) >= before[0] + 3 && Volatile.Read(ref balancer.Sent[1]) >= before[1] + 3;
        }, ct);

        Assert.NotNull(took);
        Assert.NotNull(back);
        Assert.True(alternated is not null, $"requests per server: {balancer.Sent[0]}, {balancer.Sent[1]} (before: {before[0]}, {before[1]})");
        Assert.All(served, id => Assert.Equal(one, id));
        Assert.Equal(sequence, host.Sdk.Snapshots.Current!.Sequence);
    }

    /// <summary>A load balancer in the SDK's handlers: each request goes to the next server in turn.</summary>
    private sealed class RoundRobin(Uri[] servers)
    {
        private int _next;

        public int[] Sent { get; } = new int[servers.Length];

        public void AddTo(IServiceCollection services)
        {
            foreach (var name in new[] { PromptVaultDefaults.HttpClientName, PromptVaultDefaults.StreamHttpClientName })
                services.AddHttpClient(name).AddHttpMessageHandler(() => new Handler(this));
        }

        private Uri Next()
        {
            var server = Interlocked.Increment(ref _next) % servers.Length;
            Interlocked.Increment(ref Sent[server]);
            return servers[server];
        }

        private sealed class Handler(RoundRobin balancer) : DelegatingHandler
        {
            protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
            {
                var server = balancer.Next();
                request.RequestUri = new UriBuilder(request.RequestUri!) { Host = server.Host, Port = server.Port }.Uri;
                return base.SendAsync(request, cancellationToken);
            }
        }
    }
}
