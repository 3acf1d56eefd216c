using System.Net;
using PromptVault.Server.Tests.Webhooks;
using static PromptVault.Server.Tests.ApiCalls;

namespace PromptVault.Server.Tests.Postgres;

/// <summary>Two servers on one PostgreSQL database, both dispatching webhooks: each delivery reaches the receiver once.</summary>
public sealed class SharedDatabaseWebhookTests
{
    [Fact]
    public async Task TwoServersDispatching_DeliverEachEventOnce()
    {
        await using var receiver = await WebhookReceiver.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        await using var servers = await SharedDatabaseServers.StartAsync(2, WebhookTests.FastRetries, TestContext.Current.CancellationToken);
        var webhook = await WebhookTests.CreateWebhookAsync(servers.A, receiver, "version.created");
        const int Prompts = 20;

        await Task.WhenAll(Enumerable.Range(0, Prompts).Select(i => CreateSupportPromptAsync(i % 2 == 0 ? servers.A : servers.B)));
        var accepted = new List<ReceivedDelivery>();
        while (accepted.Count < Prompts) accepted.Add(await receiver.NextAcceptedAsync(TimeSpan.FromSeconds(20)));
        // Anything sent twice would arrive within a poll or two of the first copy.
        await Task.Delay(TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken);
        while (receiver.Received.TryRead(out var late)) accepted.Add(late);
        var (status, deliveries) = await GetAsync(servers.B, $"/api/webhooks/{webhook}/deliveries");

        Assert.All(accepted, d => Assert.True(d.SignatureValid));
        Assert.Equal(Prompts, accepted.Count);
        Assert.Equal(Prompts, accepted.Select(d => d.DeliveryId).Distinct().Count());
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.All(deliveries!["deliveries"]!.AsArray(), d => Assert.Equal(1, d!["attempts"]!.GetValue<int>()));
    }
}
