using PromptVault.Core.Audit;
using PromptVault.Core.Storage;
using PromptVault.Core.Webhooks;
using static PromptVault.Storage.Testing.Samples;

namespace PromptVault.Storage.Testing;

/// <summary>
/// What every <see cref="IWebhookStore"/> must do: queue a delivery with the audited change that fires it (and never for a
/// change that failed), only for subscribed webhooks; hand each due delivery to one claimer; record attempts only under the lease.
/// </summary>
public abstract class WebhookStoreContractTests
{
    protected static CancellationToken Cancel => TestContext.Current.CancellationToken;

    /// <summary>A new, empty, migrated store; both interfaces may be the same object.</summary>
    protected abstract Task<(IPromptStore Prompts, IWebhookStore Webhooks)> CreateStoreAsync();

    [Fact]
    public async Task SaveAsync_AuditedChange_QueuesDeliveriesForSubscribersOnly_AndAFailedChangeQueuesNone()
    {
        var (store, webhooks) = await CreateStoreAsync();
        var (prompt, _, _) = await SeedPromptAsync(store, "hooked");
        var versions = await CreateWebhookAsync(webhooks, "versions", WebhookEvents.VersionCreated);
        var labels = await CreateWebhookAsync(webhooks, "labels", WebhookEvents.LabelMoved);

        await store.SaveAsync(new PromptChanges { NewVersion = Version(prompt, 3), Audit = [VersionCreated(prompt.Name, "1.0.3")] }, Cancel);
        await Assert.ThrowsAnyAsync<Exception>(() =>
            store.SaveAsync(new PromptChanges { NewVersion = Version(prompt, 3), Audit = [VersionCreated(prompt.Name, "1.0.3")] }, Cancel));

        var queued = Assert.Single(await webhooks.ListDeliveriesAsync(versions.Id, PageRequest.All, Cancel));
        Assert.Equal(WebhookEvents.VersionCreated, queued.Event);
        Assert.Equal(DeliveryStatus.Pending, queued.Status);
        Assert.Equal(0, queued.Attempts);
        Assert.Empty(await webhooks.ListDeliveriesAsync(labels.Id, PageRequest.All, Cancel));
    }

    [Fact]
    public async Task ClaimDeliveriesAsync_TwoClaimersAtOnce_GetDisjointDeliveries_AndOnlyTheHolderRecords()
    {
        var (store, webhooks) = await CreateStoreAsync();
        var (prompt, _, _) = await SeedPromptAsync(store, "hooked");
        await CreateWebhookAsync(webhooks, "versions", WebhookEvents.VersionCreated);
        for (var i = 3; i < 13; i++)
            await store.SaveAsync(new PromptChanges { NewVersion = Version(prompt, i), Audit = [VersionCreated(prompt.Name, $"1.0.{i}")] }, Cancel);
        var later = Now.AddMinutes(1);

        var claims = await Task.WhenAll(
            webhooks.ClaimDeliveriesAsync("a", later, later.AddMinutes(1), 10, Cancel),
            webhooks.ClaimDeliveriesAsync("b", later, later.AddMinutes(1), 10, Cancel));
        var all = claims.SelectMany(c => c).ToList();
        var first = all[0];
        var owner = claims[0].Contains(first) ? "a" : "b";
        var outcome = new AttemptOutcome(new WebhookAttempt(1, later, 200, null, 5), DeliveryStatus.Delivered, null);

        Assert.Equal(10, all.Count);
        Assert.Equal(10, all.Select(d => d.Id).Distinct().Count());
        Assert.False(await webhooks.RecordAttemptAsync(first.Id, owner == "a" ? "b" : "a", outcome, Cancel));
        Assert.True(await webhooks.RecordAttemptAsync(first.Id, owner, outcome, Cancel));
        // Leased or delivered: nothing more is claimable until the leases run out.
        Assert.Empty(await webhooks.ClaimDeliveriesAsync("c", later, later.AddMinutes(1), 10, Cancel));
        var afterLease = await webhooks.ClaimDeliveriesAsync("c", later.AddMinutes(2), later.AddMinutes(3), 10, Cancel);
        Assert.Equal(9, afterLease.Count);
        Assert.DoesNotContain(afterLease, d => d.Id == first.Id);
    }

    private static async Task<Webhook> CreateWebhookAsync(IWebhookStore webhooks, string id, params string[] events)
    {
        var webhook = new Webhook(id, $"http://127.0.0.1:1/{id}", events, "whsec_test", Now, "carol");
        await webhooks.CreateWebhookAsync(webhook, new AuditEntry(0, Now, "carol", AuditActions.WebhookCreated, null, id, null, null), Cancel);
        return webhook;
    }

    private static AuditEntry VersionCreated(string prompt, string version) =>
        new(0, Now, "carol", AuditActions.VersionCreated, prompt, version, null, new Dictionary<string, string?> { ["version"] = version });
}
