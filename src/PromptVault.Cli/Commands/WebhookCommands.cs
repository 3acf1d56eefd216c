using PromptVault.Core.Contracts;
using Spectre.Console;

namespace PromptVault.Cli.Commands;

/// <summary><c>webhooks list|add|remove|deliveries|enable|redeliver</c> (admin; docs/webhooks.md).</summary>
internal sealed class WebhookCommands(CliContext context)
{
    public Task<int> ListAsync(RemoteSettings remote, CancellationToken cancellationToken) =>
        context.CallServerAsync(remote, async client =>
        {
            var list = await client.ListWebhooksAsync(cancellationToken);
            return context.Print(remote.Json, list, () =>
            {
                var table = Tables.Create("Id", "URL", "Events", "Created", "Created by", "Disabled");
                foreach (var webhook in list.Webhooks)
                    table.AddRow(Tables.Cells(webhook.Id, webhook.Url, string.Join(", ", webhook.Events), Tables.Time(webhook.CreatedAt), webhook.CreatedBy,
                        webhook.DisabledReason ?? ""));
                Tables.Write(context, table, "No webhooks yet: add one with 'promptvault webhooks add URL --events E...'.");
            });
        }, cancellationToken);

    public Task<int> AddAsync(RemoteSettings remote, string url, string[] events, CancellationToken cancellationToken) =>
        context.CallServerAsync(remote, async client =>
        {
            var created = await client.CreateWebhookAsync(url, events, cancellationToken);
            return context.Print(remote.Json, created, () =>
            {
                context.Out.WriteLine($"Added webhook {created.Id} for {string.Join(", ", created.Events)} to {created.Url}.");
                context.Out.WriteLine($"Secret (shown once, it signs every delivery): {created.Secret}");
            });
        }, cancellationToken);

    public Task<int> RemoveAsync(RemoteSettings remote, string id, CancellationToken cancellationToken) =>
        context.CallServerAsync(remote, async client =>
        {
            await client.DeleteWebhookAsync(id, cancellationToken);
            return context.Print(remote.Json, new Dictionary<string, string?> { ["removed"] = id }, () => context.Out.WriteLine($"Removed webhook {id} and its deliveries."));
        }, cancellationToken);

    public Task<int> EnableAsync(RemoteSettings remote, string id, CancellationToken cancellationToken) =>
        context.CallServerAsync(remote, async client =>
        {
            var webhook = await client.EnableWebhookAsync(id, cancellationToken);
            return context.Print(remote.Json, webhook, () => context.Out.WriteLine($"Enabled webhook {webhook.Id}: it is tied to key {webhook.KeyId} now."));
        }, cancellationToken);

    public Task<int> RedeliverAsync(RemoteSettings remote, string id, long deliveryId, CancellationToken cancellationToken) =>
        context.CallServerAsync(remote, async client =>
        {
            var delivery = await client.RedeliverWebhookDeliveryAsync(id, deliveryId, cancellationToken);
            return context.Print(remote.Json, delivery, () => context.Out.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"Queued delivery {delivery.Id}: the {delivery.Event} of delivery {deliveryId}, sent again.")));
        }, cancellationToken);

    public Task<int> DeliveriesAsync(RemoteSettings remote, string id, CancellationToken cancellationToken) =>
        context.CallServerAsync(remote, async client =>
        {
            var list = await client.ListWebhookDeliveriesAsync(id, cancellationToken);
            return context.Print(remote.Json, list, () =>
            {
                var table = Tables.Create("Id", "Event", "Status", "Attempts", "Created", "Last answer", "Next attempt");
                foreach (var delivery in list.Deliveries)
                {
                    var last = delivery.History.LastOrDefault();
                    table.AddRow(Tables.Cells(delivery.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), delivery.Event, delivery.Status,
                        delivery.Attempts.ToString(System.Globalization.CultureInfo.InvariantCulture), Tables.Time(delivery.CreatedAt),
                        last is null ? "" : last.StatusCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? last.Error ?? "",
                        delivery.NextAttemptAt is { } next ? Tables.Time(next) : ""));
                }
                context.Console.Write(table);
            });
        }, cancellationToken);
}
