using System.Net;
using PromptVault.Core.Webhooks;
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
        // Once every delivery is recorded delivered none can be claimed again, and a copy a second claimer took was sent by then:
        // it reaches the receiver before the marker's delivery, made after. (A fixed wait missed a copy later than itself.)
        var (status, deliveries) = await Eventually(() => GetAsync(servers.B, $"/api/webhooks/{webhook}/deliveries"),
            d => d.Body!["deliveries"]!.AsArray().Count(x => x!["status"]!.GetValue<string>() == DeliveryStatus.Delivered) == Prompts);
        var marker = await CreateSupportPromptAsync(servers.B);
        for (var next = await receiver.NextAcceptedAsync(TimeSpan.FromSeconds(20)); !next.Body.Contains(marker, StringComparison.Ordinal);
             next = await receiver.NextAcceptedAsync(TimeSpan.FromSeconds(20)))
            accepted.Add(next);

        Assert.All(accepted, d => Assert.True(d.SignatureValid));
        Assert.Equal(Prompts, accepted.Count);
        Assert.Equal(Prompts, accepted.Select(d => d.DeliveryId).Distinct().Count());
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.All(deliveries!["deliveries"]!.AsArray(), d => Assert.Equal(1, d!["attempts"]!.GetValue<int>()));
    }
}
