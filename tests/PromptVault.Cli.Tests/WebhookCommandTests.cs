using System.Text.Json;
using PromptVault.Server.Tests;
using PromptVault.Server.Tests.Webhooks;

namespace PromptVault.Cli.Tests;

/// <summary><c>promptvault webhooks</c> against a real server delivering to a real receiver on loopback.</summary>
public sealed class WebhookCommandTests
{
    [Fact]
    public async Task Webhooks_AddListDeliveriesRemove_AgainstARealReceiver()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var receiver = await WebhookReceiver.StartAsync(cancellationToken: ct);
        // The receiver is on loopback, which deliveries reach only when the server allows it.
        await using var server = await RunningServer.StartAsync(new ServerSetup(WebhookTests.FastRetries), ct);

        var added = await Cli.RunAsync(server, null, "webhooks", "add", receiver.Url.AbsoluteUri, "--events", "version.created", "label.moved", "--json");
        Assert.True(added.ExitCode == 0, added.ToString());
        using var document = JsonDocument.Parse(added.Out);
        var id = document.RootElement.GetProperty("id").GetString()!;
        receiver.Secret = document.RootElement.GetProperty("secret").GetString();
        var name = $"hooked-{Guid.NewGuid():N}"[..20];
        using var folder = new TempFolder();
        var pushed = await Cli.RunAsync(server, null, "push", folder.Write("p.md", $"---\nname: {name}\ntype: system\n---\nHello.\n"));
        var delivered = await receiver.NextAcceptedAsync(TimeSpan.FromSeconds(20));
        var list = await Cli.RunAsync(server, null, "webhooks", "list");
        // The receiver answered; the server records the attempt just after.
        var deliveries = await Eventually(() => Cli.RunAsync(server, null, "webhooks", "deliveries", id),
            run => run.Out.Contains("delivered", StringComparison.Ordinal));
        var removed = await Cli.RunAsync(server, null, "webhooks", "remove", id);
        var again = await Cli.RunAsync(server, null, "webhooks", "remove", id);
        var unknownEvent = await Cli.RunAsync(server, null, "webhooks", "add", receiver.Url.AbsoluteUri, "--events", "prompt.deleted");
        var readerKey = await server.CreateKeyAsync("webhook-reader", Core.Auth.ApiKeyRole.Reader, ct);
        var forbidden = await Cli.RunAsync(server, readerKey, "webhooks", "list");

        Assert.True(pushed.ExitCode == 0, pushed.ToString());
        Assert.True(delivered.SignatureValid);
        Assert.Contains(name, delivered.Body, StringComparison.Ordinal);
        Assert.Contains(list.Out.Split('\n'), line => line.Contains(id, StringComparison.Ordinal) && line.Contains("version.created, label.moved", StringComparison.Ordinal));
        Assert.DoesNotContain(receiver.Secret!, list.Out, StringComparison.Ordinal);
        Assert.True(deliveries.ExitCode == 0, deliveries.ToString());
        Assert.Contains(deliveries.Out.Split('\n'), line => line.Contains("version.created", StringComparison.Ordinal) && line.Contains("delivered", StringComparison.Ordinal)
            && line.Contains("200", StringComparison.Ordinal));
        Assert.True(removed.ExitCode == 0, removed.ToString());
        Assert.Contains($"Removed webhook {id}", removed.Out, StringComparison.Ordinal);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("webhook_not_found", again.Error, StringComparison.Ordinal);
        Assert.Equal(2, unknownEvent.ExitCode);
        // In docs/webhooks.md's order: paused before completed.
        Assert.Contains("'version.created'\n\t'label.moved'\n\t'experiment.started'\n\t'experiment.paused'\n\t'experiment.completed'",
            unknownEvent.Error.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Equal(1, forbidden.ExitCode);
    }

    [Fact]
    public async Task WebhooksRedeliverAndEnable_SendADeliveryAgain_AndTieTheWebhookToTheCallersKey()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var receiver = await WebhookReceiver.StartAsync(cancellationToken: ct);
        await using var server = await RunningServer.StartAsync(new ServerSetup(WebhookTests.FastRetries), ct);
        var added = await Cli.RunAsync(server, null, "webhooks", "add", receiver.Url.AbsoluteUri, "--events", "version.created", "--json");
        using var document = JsonDocument.Parse(added.Out);
        var id = document.RootElement.GetProperty("id").GetString()!;
        receiver.Secret = document.RootElement.GetProperty("secret").GetString();
        using var folder = new TempFolder();
        var name = $"hooked-{Guid.NewGuid():N}"[..20];
        var pushed = await Cli.RunAsync(server, null, "push", folder.Write("p.md", $"---\nname: {name}\ntype: system\n---\nHello.\n"));
        Assert.True(pushed.ExitCode == 0, pushed.ToString());
        var first = await receiver.NextAcceptedAsync(TimeSpan.FromSeconds(20));

        var redelivered = await Cli.RunAsync(server, null, "webhooks", "redeliver", id, first.DeliveryId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var again = await receiver.NextAcceptedAsync(TimeSpan.FromSeconds(20));
        var missing = await Cli.RunAsync(server, null, "webhooks", "redeliver", id, "999999");
        var enabled = await Cli.RunAsync(server, null, "webhooks", "enable", id, "--json");

        Assert.True(redelivered.ExitCode == 0, redelivered.ToString());
        Assert.Contains($"Queued delivery {again.DeliveryId}: the version.created of delivery {first.DeliveryId}, sent again.", redelivered.Out, StringComparison.Ordinal);
        Assert.NotEqual(first.DeliveryId, again.DeliveryId);
        Assert.Equal(first.Body, again.Body);
        Assert.True(again.SignatureValid);
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("delivery_not_found", missing.Error, StringComparison.Ordinal);
        Assert.True(enabled.ExitCode == 0, enabled.ToString());
        using var webhook = JsonDocument.Parse(enabled.Out);
        Assert.Equal(id, webhook.RootElement.GetProperty("id").GetString());
        Assert.False(string.IsNullOrEmpty(webhook.RootElement.GetProperty("keyId").GetString()));
        Assert.Equal(JsonValueKind.Null, webhook.RootElement.GetProperty("disabledReason").ValueKind);
    }
}
