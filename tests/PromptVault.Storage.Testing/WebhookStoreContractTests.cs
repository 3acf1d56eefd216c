using System.Data.Common;
using System.Globalization;
using Dapper;
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
    private const string Production = "production";

    protected static CancellationToken Cancel => TestContext.Current.CancellationToken;

    /// <summary>A new, empty, migrated store; both interfaces may be the same object.</summary>
    protected abstract Task<(IPromptStore Prompts, IWebhookStore Webhooks)> CreateStoreAsync();

    /// <summary>A connection to the database of the store <see cref="CreateStoreAsync"/> made last, to seed rows in bulk.</summary>
    protected abstract Task<DbConnection> OpenConnectionAsync();

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
    public async Task ReleaseLeaseAsync_ByTheHolder_LetsAnotherClaimAtOnce_ByAnyoneElse_DoesNothing()
    {
        var (store, webhooks) = await CreateStoreAsync();
        var (prompt, _, _) = await SeedPromptAsync(store, "hooked");
        await CreateWebhookAsync(webhooks, "versions", WebhookEvents.VersionCreated);
        await store.SaveAsync(new PromptChanges { NewVersion = Version(prompt, 3), Audit = [VersionCreated(prompt.Name, "1.0.3")] }, Cancel);
        var later = Now.AddMinutes(1);
        var claimed = Assert.Single(await webhooks.ClaimDeliveriesAsync("a", later, later.AddHours(1), 10, 100, Cancel));

        await webhooks.ReleaseLeaseAsync(claimed.Id, "b", Cancel);
        Assert.Empty(await webhooks.ClaimDeliveriesAsync("b", later, later.AddHours(1), 10, 100, Cancel));
        await webhooks.ReleaseLeaseAsync(claimed.Id, "a", Cancel);

        Assert.Equal(claimed.Id, Assert.Single(await webhooks.ClaimDeliveriesAsync("b", later, later.AddHours(1), 10, 100, Cancel)).Id);
    }

    [Fact]
    public async Task ClaimDeliveriesAsync_TwoClaimersAtOnce_GetDisjointDeliveries_AndOnlyTheHolderRecords()
    {
        var (store, webhooks) = await CreateStoreAsync();
        var (prompt, _, _) = await SeedPromptAsync(store, "hooked");
        await CreateWebhookAsync(webhooks, "versions", WebhookEvents.VersionCreated);
        await SaveVersionsAsync(store, prompt, 3, 12);
        var later = Now.AddMinutes(1);

        var claims = await Task.WhenAll(
            webhooks.ClaimDeliveriesAsync("a", later, later.AddMinutes(1), 10, 100, Cancel),
            webhooks.ClaimDeliveriesAsync("b", later, later.AddMinutes(1), 10, 100, Cancel));
        var all = claims.SelectMany(c => c).ToList();
        var first = all[0];
        var owner = claims[0].Contains(first) ? "a" : "b";
        var outcome = new AttemptOutcome(new WebhookAttempt(1, later, 200, null, 5), DeliveryStatus.Delivered, null);

        Assert.Equal(10, all.Count);
        Assert.Equal(10, all.Select(d => d.Id).Distinct().Count());
        Assert.False(await webhooks.RecordAttemptAsync(first.Id, owner == "a" ? "b" : "a", outcome, Cancel));
        Assert.True(await webhooks.RecordAttemptAsync(first.Id, owner, outcome, Cancel));
        // Leased or delivered: nothing more is claimable until the leases run out.
        Assert.Empty(await webhooks.ClaimDeliveriesAsync("c", later, later.AddMinutes(1), 10, 100, Cancel));
        var afterLease = await webhooks.ClaimDeliveriesAsync("c", later.AddMinutes(2), later.AddMinutes(3), 10, 100, Cancel);
        Assert.Equal(9, afterLease.Count);
        Assert.DoesNotContain(afterLease, d => d.Id == first.Id);
    }

    [Fact]
    public async Task ClaimDeliveriesAsync_LeavesAtMostPerWebhookOfOneWebhookLeased_ByAnyClaimer_OldestFirst()
    {
        var (store, webhooks) = await CreateStoreAsync();
        var (prompt, _, _) = await SeedPromptAsync(store, "hooked");
        await CreateWebhookAsync(webhooks, "busy", WebhookEvents.VersionCreated);
        await SaveVersionsAsync(store, prompt, 3, 7);
        await CreateWebhookAsync(webhooks, "quiet", WebhookEvents.VersionCreated);
        await SaveVersionsAsync(store, prompt, 8, 8);
        var later = Now.AddMinutes(1);
        static string[] Of(IEnumerable<ClaimedDelivery> claimed, string webhook) =>
            claimed.Where(d => d.Url.EndsWith($"/{webhook}", StringComparison.Ordinal)).Select(d => VersionIn(d.Payload)).ToArray();

        var first = await webhooks.ClaimDeliveriesAsync("a", later, later.AddHours(1), 10, 2, Cancel);
        var whileBusy = await webhooks.ClaimDeliveriesAsync("b", later, later.AddHours(1), 10, 2, Cancel);
        Assert.True(await webhooks.RecordAttemptAsync(first[0].Id, "a",
            new AttemptOutcome(new WebhookAttempt(1, later, 200, null, 5), DeliveryStatus.Delivered, null), Cancel));
        var afterOne = await webhooks.ClaimDeliveriesAsync("b", later, later.AddHours(1), 10, 2, Cancel);
        var afterLeases = await webhooks.ClaimDeliveriesAsync("c", later.AddHours(2), later.AddHours(3), 10, 2, Cancel);

        Assert.Equal(["1.0.3", "1.0.4"], Of(first, "busy")); // 1.0.5 to 1.0.7 wait, 1.0.8 to the other webhook does not
        Assert.Equal(["1.0.8"], Of(first, "quiet"));
        Assert.Empty(whileBusy);
        Assert.Equal(["1.0.5"], Of(afterOne, "busy"));
        Assert.Equal(["1.0.4", "1.0.5"], Of(afterLeases, "busy")); // expired leases count for nothing
        Assert.Equal(["1.0.8"], Of(afterLeases, "quiet"));
    }

    [Fact]
    public async Task ClaimDeliveriesAsync_BacklogOfThousandsOverSeveralWebhooks_ClaimsOldestFirst_NeverMoreThanPerWebhookInFlight()
    {
        var (_, webhooks) = await CreateStoreAsync();
        string[] ids = ["w0", "w1", "w2", "w3", "w4"];
        foreach (var id in ids) await CreateWebhookAsync(webhooks, id, WebhookEvents.VersionCreated);
        var later = Now.AddDays(1);
        static string At(DateTimeOffset time) => time.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture);
        // 3,000 deliveries: due times shuffled against the ids and shared by pairs (so the id breaks ties), webhooks unevenly
        // loaded, a tenth not due yet, and two of w1's in flight with another server.
        var rows = Enumerable.Range(0, 3000).Select(i => new
        {
            WebhookId = ids[i % 7 % ids.Length], Payload = $"{{\"n\":{i}}}", Next = At(Now.AddSeconds(i * 7919 % 3000 / 2 + (i % 10 == 9 ? 200_000 : 0))),
            LeaseOwner = i is 1 or 8 ? "other" : null, LeaseUntil = i is 1 or 8 ? At(later.AddMinutes(1)) : null,
        }).ToList();
        await using (var connection = await OpenConnectionAsync())
        await using (var transaction = await connection.BeginTransactionAsync(Cancel))
        {
            await connection.ExecuteAsync(new CommandDefinition("""
                INSERT INTO webhook_deliveries (webhook_id, event, payload, status, attempts, created_at, next_attempt_at, lease_owner, lease_until)
                VALUES (@WebhookId, 'version.created', @Payload, 'pending', 0, @Next, @Next, @LeaseOwner, @LeaseUntil)
                """, rows, transaction, cancellationToken: Cancel));
            await transaction.CommitAsync(Cancel);
        }
        const int PerWebhook = 3;
        var waiting = rows.Select((r, n) => (N: n, r.WebhookId, r.Next, InFlight: r.LeaseOwner is not null))
            .Where(r => string.CompareOrdinal(r.Next, At(later)) <= 0).ToList();
        var outcome = new AttemptOutcome(new WebhookAttempt(1, later, 200, null, 5), DeliveryStatus.Delivered, null);

        for (var round = 0; round < 8; round++)
        {
            // What the claim must take: per webhook its oldest due deliveries not in flight, as many as its in-flight count leaves
            // room for; of those the oldest 10 (by due time, then insertion order).
            var expected = waiting.Where(r => !r.InFlight).GroupBy(r => r.WebhookId)
                .SelectMany(g => g.OrderBy(r => r.Next, StringComparer.Ordinal).ThenBy(r => r.N)
                    .Take(PerWebhook - waiting.Count(r => r.InFlight && r.WebhookId == g.Key)))
                .OrderBy(r => r.Next, StringComparer.Ordinal).ThenBy(r => r.N).Take(10).Select(r => r.N).Order().ToList();

            var claimed = await webhooks.ClaimDeliveriesAsync($"dispatcher-{round}", later, later.AddMinutes(1), 10, PerWebhook, Cancel);

            Assert.Equal(expected, claimed.Select(d => System.Text.Json.JsonDocument.Parse(d.Payload).RootElement.GetProperty("n").GetInt32()).Order());
            // All but the newest of this round's claims are delivered; that one stays in flight.
            foreach (var delivery in claimed.OrderBy(d => d.Id).SkipLast(1))
                Assert.True(await webhooks.RecordAttemptAsync(delivery.Id, $"dispatcher-{round}", outcome, Cancel));
            var delivered = expected.SkipLast(1).ToHashSet();
            waiting = waiting.Where(r => !delivered.Contains(r.N)).Select(r => r with { InFlight = r.InFlight || r.N == expected[^1] }).ToList();
        }
    }

    [Fact]
    public async Task SaveAsync_PromoteOfAnIncludedPrompt_QueuesLabelMovedForEachIncluderOnce_ThroughLabelsOnly()
    {
        var (store, webhooks) = await CreateStoreAsync();
        await CreateWebhookAsync(webhooks, "labels", WebhookEvents.LabelMoved);
        var (shared, v1) = await SeedLabelledAsync(store, "shared", "Be kind.", Production);
        await SeedLabelledAsync(store, "direct", "{{> shared}} Answer.", Production, "staging");
        await SeedLabelledAsync(store, "transitive", "{{> direct@staging}}", Production);
        await SeedLabelledAsync(store, "pinned", "{{> shared@1.0.0}}", Production);
        await SeedLabelledAsync(store, "other-label", "{{> shared@staging}}", Production);
        var v2 = Version(shared, 2) with { Content = "Be kinder.", Variables = [] };

        await store.SaveAsync(new PromptChanges
        {
            NewVersion = v2,
            LabelChanges = [Label(shared, Production, v1.Id, v2.Id)],
            Audit = [new AuditEntry(0, Now, "carol", AuditActions.Promoted, shared.Name, "1.0.1",
                new Dictionary<string, string?> { ["production"] = "1.0.0" }, new Dictionary<string, string?> { ["production"] = "1.0.1" })],
        }, Cancel);

        var payloads = (await webhooks.ClaimDeliveriesAsync("a", Now.AddMinutes(1), Now.AddMinutes(2), 100, 100, Cancel))
            .Select(d => System.Text.Json.JsonDocument.Parse(d.Payload).RootElement).ToList();
        Assert.Equal(["shared", "direct", "transitive"], payloads.Select(p => p.GetProperty("prompt").GetString()));
        Assert.All(payloads, p => Assert.Equal(("production", "1.0.1", "1.0.0"),
            (p.GetProperty("label").GetString(), p.GetProperty("version").GetString(), p.GetProperty("previousVersion").GetString())));
        Assert.False(payloads[0].TryGetProperty("via", out _));
        Assert.All(payloads.Skip(1), p => Assert.Equal("shared", p.GetProperty("via").GetString()));
        Assert.Equal(3, payloads.Select(p => p.GetProperty("id").GetString()).Distinct().Count());
    }

    [Fact]
    public async Task WebhookTiedToARevokedKey_IsQueuedAndClaimedNothing_UntilTiedToAnActiveKey_AndAWebhookWithNoKeyKeepsDelivering()
    {
        var (store, webhooks) = await CreateStoreAsync();
        var keys = (IApiKeyStore)webhooks;
        var (prompt, _, _) = await SeedPromptAsync(store, "hooked");
        var ops = new Core.Auth.ApiKey("ops-key", "ops", Core.Auth.ApiKeyRole.Admin, "pv_ops0", Now, "admin", null);
        var other = new Core.Auth.ApiKey("other-key", "other", Core.Auth.ApiKeyRole.Admin, "pv_oth0", Now, "admin", null);
        await keys.CreateKeyAsync(ops, "hash-ops", new AuditEntry(0, Now, "admin", AuditActions.ApiKeyCreated, null, ops.Id, null, null), Cancel);
        await keys.CreateKeyAsync(other, "hash-other", new AuditEntry(0, Now, "admin", AuditActions.ApiKeyCreated, null, other.Id, null, null), Cancel);
        var tied = await CreateKeyedWebhookAsync(webhooks, "tied", ops.Id, WebhookEvents.VersionCreated);
        var unknown = await CreateKeyedWebhookAsync(webhooks, "unknown", null, WebhookEvents.VersionCreated);
        await store.SaveAsync(new PromptChanges { NewVersion = Version(prompt, 3), Audit = [VersionCreated(prompt.Name, "1.0.3")] }, Cancel);
        await keys.RevokeKeyAsync(ops.Id, Now, new AuditEntry(0, Now, "admin", AuditActions.ApiKeyRevoked, null, ops.Id, null, null), Cancel);
        await store.SaveAsync(new PromptChanges { NewVersion = Version(prompt, 4), Audit = [VersionCreated(prompt.Name, "1.0.4")] }, Cancel);
        var later = Now.AddMinutes(1);

        var whileRevoked = await webhooks.ClaimDeliveriesAsync("a", later, later.AddMinutes(1), 10, 100, Cancel);
        var disabled = await webhooks.FindWebhookAsync(tied.Id, Cancel);
        Assert.True(await webhooks.SetWebhookKeyAsync(tied.Id, other.Id, new AuditEntry(0, Now, "other", AuditActions.WebhookEnabled, null, tied.Id, null, null), Cancel));
        var enabled = await webhooks.ClaimDeliveriesAsync("a", later, later.AddMinutes(1), 10, 100, Cancel);

        Assert.Single(await webhooks.ListDeliveriesAsync(tied.Id, PageRequest.All, Cancel));
        Assert.Equal(2, (await webhooks.ListDeliveriesAsync(unknown.Id, PageRequest.All, Cancel)).Total);
        Assert.Equal(["http://127.0.0.1:1/unknown", "http://127.0.0.1:1/unknown"], whileRevoked.Select(c => c.Url));
        Assert.Equal((ops.Id, Now), (disabled!.KeyId, disabled.KeyRevokedAt));
        Assert.Contains($"the API key {ops.Id} it is tied to was revoked", disabled.DisabledReason, StringComparison.Ordinal);
        Assert.Equal("http://127.0.0.1:1/tied", Assert.Single(enabled).Url);
        Assert.Null((await webhooks.FindWebhookAsync(tied.Id, Cancel))!.DisabledReason);
        Assert.False(await webhooks.SetWebhookKeyAsync("no-such-webhook", other.Id, new AuditEntry(0, Now, "other", AuditActions.WebhookEnabled, null, "x", null, null), Cancel));
    }

    [Fact]
    public async Task RedeliverAsync_QueuesTheSameEventAsANewPendingDelivery_OnlyForThatWebhooksDelivery()
    {
        var (store, webhooks) = await CreateStoreAsync();
        var (prompt, _, _) = await SeedPromptAsync(store, "hooked");
        var versions = await CreateWebhookAsync(webhooks, "versions", WebhookEvents.VersionCreated);
        var labels = await CreateWebhookAsync(webhooks, "labels", WebhookEvents.LabelMoved);
        await store.SaveAsync(new PromptChanges { NewVersion = Version(prompt, 3), Audit = [VersionCreated(prompt.Name, "1.0.3")] }, Cancel);
        var later = Now.AddMinutes(1);
        var first = Assert.Single(await webhooks.ClaimDeliveriesAsync("a", later, later.AddMinutes(1), 10, 100, Cancel));
        Assert.True(await webhooks.RecordAttemptAsync(first.Id, "a",
            new AttemptOutcome(new WebhookAttempt(1, later, 500, null, 5), DeliveryStatus.Failed, null), Cancel));

        var redelivery = await webhooks.RedeliverAsync(versions.Id, first.Id, later, Redelivered, Cancel);
        var notTheirs = await webhooks.RedeliverAsync(labels.Id, first.Id, later, Redelivered, Cancel);
        var again = Assert.Single(await webhooks.ClaimDeliveriesAsync("a", later, later.AddMinutes(1), 10, 100, Cancel));

        Assert.NotNull(redelivery);
        Assert.Null(notTheirs);
        Assert.NotEqual(first.Id, redelivery.Id);
        Assert.Equal((versions.Id, WebhookEvents.VersionCreated, DeliveryStatus.Pending, 0, later, (DateTimeOffset?)later),
            (redelivery.WebhookId, redelivery.Event, redelivery.Status, redelivery.Attempts, redelivery.CreatedAt, redelivery.NextAttemptAt));
        Assert.Equal((redelivery.Id, first.Payload, 0), (again.Id, again.Payload, again.Attempts));
        var kept = (await webhooks.ListDeliveriesAsync(versions.Id, PageRequest.All, Cancel)).Single(d => d.Id == first.Id);
        Assert.Equal((DeliveryStatus.Failed, 1), (kept.Status, kept.Attempts));
    }

    [Fact]
    public async Task RedeliverAsync_OfAPendingOrLeasedDelivery_IsRefusedSayingWhenItIsNextTried_AndQueuesAndAuditsNothing()
    {
        var (store, webhooks) = await CreateStoreAsync();
        var (prompt, _, _) = await SeedPromptAsync(store, "hooked");
        var versions = await CreateWebhookAsync(webhooks, "versions", WebhookEvents.VersionCreated);
        await store.SaveAsync(new PromptChanges { NewVersion = Version(prompt, 3), Audit = [VersionCreated(prompt.Name, "1.0.3")] }, Cancel);
        var later = Now.AddMinutes(1);
        var retryAt = later.AddMinutes(5);
        var delivery = Assert.Single(await webhooks.ClaimDeliveriesAsync("a", later, later.AddMinutes(1), 10, 100, Cancel));

        var leased = await Assert.ThrowsAsync<Core.ConflictException>(() => webhooks.RedeliverAsync(versions.Id, delivery.Id, later, Redelivered, Cancel));
        Assert.True(await webhooks.RecordAttemptAsync(delivery.Id, "a",
            new AttemptOutcome(new WebhookAttempt(1, later, 500, null, 5), DeliveryStatus.Pending, retryAt), Cancel));
        var pending = await Assert.ThrowsAsync<Core.ConflictException>(() => webhooks.RedeliverAsync(versions.Id, delivery.Id, later, Redelivered, Cancel));
        Assert.True(await webhooks.RecordAttemptAsync(
            Assert.Single(await webhooks.ClaimDeliveriesAsync("a", retryAt, retryAt.AddMinutes(1), 10, 100, Cancel)).Id, "a",
            new AttemptOutcome(new WebhookAttempt(2, retryAt, 200, null, 5), DeliveryStatus.Delivered, null), Cancel));
        var ofDelivered = await webhooks.RedeliverAsync(versions.Id, delivery.Id, retryAt, Redelivered, Cancel);

        Assert.Equal(("delivery_in_progress", "delivery_in_progress"), (leased.Code, pending.Code));
        Assert.Contains($"delivery {delivery.Id} of webhook 'versions' is still being delivered (an attempt is in flight now)", leased.Message, StringComparison.Ordinal);
        Assert.Contains($"its next attempt is due at {retryAt.ToString("O", CultureInfo.InvariantCulture)}", pending.Message, StringComparison.Ordinal);
        Assert.NotNull(ofDelivered);
        Assert.Equal(2, (await webhooks.ListDeliveriesAsync(versions.Id, PageRequest.All, Cancel)).Total);
        var audited = Assert.Single(await store.ListAuditAsync(new AuditQuery(Action: AuditActions.WebhookRedelivered), Cancel));
        Assert.Equal(("versions", ofDelivered.Id.ToString(CultureInfo.InvariantCulture)), (audited.Subject, audited.After!["deliveryId"]));
    }

    private static AuditEntry Redelivered(WebhookDelivery redelivery) =>
        new(0, Now, "carol", AuditActions.WebhookRedelivered, null, redelivery.WebhookId, null,
            new Dictionary<string, string?> { ["deliveryId"] = redelivery.Id.ToString(CultureInfo.InvariantCulture) });

    /// <summary>A prompt whose first version has <paramref name="content"/> (and no variables), under <paramref name="labels"/>.</summary>
    private static async Task<(Core.Prompts.Prompt Prompt, Core.Prompts.PromptVersion Version)> SeedLabelledAsync(IPromptStore store, string name, string content, params string[] labels)
    {
        var prompt = Prompt(name);
        var version = Version(prompt, 1) with { Content = content, Variables = [] };
        await store.SaveAsync(Created(prompt, version) with { LabelChanges = labels.Select(l => Label(prompt, l, null, version.Id)).ToList() }, Cancel);
        return (prompt, version);
    }

    private static Task<Webhook> CreateWebhookAsync(IWebhookStore webhooks, string id, params string[] events) =>
        CreateKeyedWebhookAsync(webhooks, id, null, events);

    // Named apart: as an overload of the one above, a call with one event bound that event to keyId (more declared parameters win).
    private static async Task<Webhook> CreateKeyedWebhookAsync(IWebhookStore webhooks, string id, string? keyId, params string[] events)
    {
        var webhook = new Webhook(id, $"http://127.0.0.1:1/{id}", events, "whsec_test", Now, "carol", keyId);
        await webhooks.CreateWebhookAsync(webhook, new AuditEntry(0, Now, "carol", AuditActions.WebhookCreated, null, id, null, null), Cancel);
        return webhook;
    }

    /// <summary>Saves versions 1.0.<paramref name="first"/> to 1.0.<paramref name="last"/> of <paramref name="prompt"/>, each audited (so queued).</summary>
    private static async Task SaveVersionsAsync(IPromptStore store, Core.Prompts.Prompt prompt, int first, int last)
    {
        for (var i = first; i <= last; i++)
            await store.SaveAsync(new PromptChanges { NewVersion = Version(prompt, i), Audit = [VersionCreated(prompt.Name, $"1.0.{i}")] }, Cancel);
    }

    private static string VersionIn(string payload) =>
        System.Text.Json.JsonDocument.Parse(payload).RootElement.GetProperty("version").GetString()!;

    private static AuditEntry VersionCreated(string prompt, string version) =>
        new(0, Now, "carol", AuditActions.VersionCreated, prompt, version, null, new Dictionary<string, string?> { ["version"] = version });
}
