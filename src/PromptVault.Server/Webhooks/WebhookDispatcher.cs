using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Options;
using PromptVault.Core.Registry;
using PromptVault.Core.Storage;
using PromptVault.Core.Webhooks;
using PromptVault.Storage;

namespace PromptVault.Server.Webhooks;

/// <summary>
/// Sends the outbox: claims due deliveries with a lease (so with several servers each attempt is made once), posts each signed,
/// and records the attempt with the next retry's time. It wakes on every registry change (this server's or, on PostgreSQL,
/// another's) and otherwise polls, so retries and deliveries left by a stopped server are picked up.
/// </summary>
internal sealed class WebhookDispatcher(IWebhookStore store, IHttpClientFactory clients, IOptions<WebhookOptions> options, RegistryChangeFeed changes,
    TimeProvider time, ILogger<WebhookDispatcher> logger) : BackgroundService
{
    public const string HttpClientName = "PromptVault.Webhooks";

    private readonly string _owner = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.CreateVersion7(time.GetUtcNow()):N}";
    private readonly SemaphoreSlim _wake = new(0, 1);

    /// <summary>
    /// Each delivery is sent on its own, at most <see cref="WebhookOptions.BatchSize"/> at once and
    /// <see cref="WebhookOptions.MaxInFlightPerWebhook"/> per webhook, and a freed slot is filled at once: a receiver that hangs holds
    /// at most its own share of the slots up to <see cref="WebhookOptions.Timeout"/>, never every other webhook's.
    /// </summary>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        using var subscription = changes.Subscribe(_ => Wake());
        using var slots = new SemaphoreSlim(settings.BatchSize, settings.BatchSize);
        var sending = new List<Task>();
        var outage = new StoreOutage(logger, "Webhook dispatch", settings.PollInterval);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                sending.RemoveAll(send => send.IsCompleted);
                await slots.WaitAsync(stoppingToken);
                var free = 1;
                while (free < settings.BatchSize && slots.Wait(0)) free++;
                IReadOnlyList<ClaimedDelivery> claimed = [];
                TimeSpan? backoff = null;
                try
                {
                    var now = time.GetUtcNow();
                    claimed = await store.ClaimDeliveriesAsync(_owner, now, now + settings.LeaseDuration, free, settings.MaxInFlightPerWebhook,
                        stoppingToken);
                    outage.Succeeded();
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    backoff = outage.Failed(e);
                }
                finally
                {
                    if (free > claimed.Count) slots.Release(free - claimed.Count);
                }
                sending.AddRange(claimed.Select(delivery => SendThenFreeSlotAsync(delivery, settings, slots, stoppingToken)));
                // After a failure, registry changes do not wake the loop: the listener's own reconnecting raises them every second.
                if (backoff is { } wait)
                    await Task.Delay(wait, time, stoppingToken);
                else if (claimed.Count == 0)
                    await _wake.WaitAsync(settings.PollInterval, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            // However the loop ends, the sends in flight (cancelled when stopping) give their leases back before the host goes on.
            await Task.WhenAll(sending);
        }
    }

    private async Task SendThenFreeSlotAsync(ClaimedDelivery delivery, WebhookOptions settings, SemaphoreSlim slots, CancellationToken stoppingToken)
    {
        try
        {
            await SendAsync(delivery, settings, stoppingToken);
        }
        catch (Exception e)
        {
            Log.WebhookDispatchFailed(logger, e);
        }
        finally
        {
            slots.Release();
            Wake(); // claim more now that a slot is free
        }
    }

    private void Wake()
    {
        try { _wake.Release(); }
        catch (SemaphoreFullException) { /* already awake */ }
    }

    /// <summary>The URL's user info (<c>https://user:password@host/hook</c>) as Basic credentials, which HttpClient does not send by itself.</summary>
    private static AuthenticationHeaderValue? BasicAuthorization(Uri url) =>
        url is { IsAbsoluteUri: true, UserInfo.Length: > 0 }
            ? new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(Uri.UnescapeDataString(url.UserInfo))))
            : null;

    private async Task SendAsync(ClaimedDelivery delivery, WebhookOptions settings, CancellationToken stoppingToken)
    {
        var attempt = delivery.Attempts + 1;
        var at = time.GetUtcNow();
        var started = Stopwatch.GetTimestamp();
        int? status = null;
        string? error = null;
        try
        {
            var timestamp = at.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
            using var request = new HttpRequestMessage(HttpMethod.Post, delivery.Url)
            {
                Content = new StringContent(delivery.Payload, Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = BasicAuthorization(request.RequestUri!);
            request.Headers.Add(WebhookSignature.EventHeader, delivery.Event);
            request.Headers.Add(WebhookSignature.TimestampHeader, timestamp);
            request.Headers.Add(WebhookSignature.SignatureHeader, WebhookSignature.Compute(delivery.Secret, timestamp, delivery.Payload));
            request.Headers.Add(WebhookSignature.DeliveryHeader, delivery.Id.ToString(CultureInfo.InvariantCulture));
            using var response = await clients.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, stoppingToken);
            status = (int)response.StatusCode;
        }
        catch (TaskCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
            error = $"no answer within {settings.Timeout.TotalSeconds:0.###} s";
        }
        catch (OperationCanceledException)
        {
            // Shutting down: the attempt is not recorded, and the lease is given back so a restarted (or another) server sends it
            // at once rather than after LeaseDuration.
            await ReleaseAsync(delivery);
            return;
        }
        catch (Exception e)
        {
            // The receiver unreachable, or a stored delivery that cannot be sent at all (a URL edited into the database by
            // hand): either way a failed attempt, counted, so the delivery ends as failed instead of being retried forever.
            // HttpClient says only "An error occurred while sending the request." for a connection reset: its cause says why.
            error = e.InnerException is { } cause && !e.Message.Contains(cause.Message, StringComparison.Ordinal) ? $"{e.Message} ({cause.Message})" : e.Message;
        }

        var elapsed = (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        var outcome = status is >= 200 and < 300
            ? new AttemptOutcome(new WebhookAttempt(attempt, at, status, null, elapsed), DeliveryStatus.Delivered, null)
            : attempt >= settings.MaxAttempts
                ? new AttemptOutcome(new WebhookAttempt(attempt, at, status, error, elapsed), DeliveryStatus.Failed, null)
                : new AttemptOutcome(new WebhookAttempt(attempt, at, status, error, elapsed), DeliveryStatus.Pending, time.GetUtcNow() + settings.BackoffAfter(attempt));
        if (outcome.Status != DeliveryStatus.Delivered)
            Log.WebhookAttemptFailed(logger, delivery.WebhookId, delivery.Id, delivery.Event, attempt, settings.MaxAttempts,
                status is { } answered ? $"the receiver answered HTTP {answered}" : error ?? "no answer",
                outcome.NextAttemptAt is { } next ? $"next attempt at {next:O}"
                    : $"no attempt left, the delivery failed (POST /api/webhooks/{delivery.WebhookId}/deliveries/{delivery.Id}/redeliver sends it again)");
        try
        {
            if (!await store.RecordAttemptAsync(delivery.Id, _owner, outcome, CancellationToken.None))
                Log.WebhookLeaseLost(logger, delivery.Id);
        }
        catch (Exception e) when (StoreOutage.IsStoreTrouble(e))
        {
            // The store's trouble, not a fault of the dispatcher: a warning without a stack.
            Log.WebhookAttemptNotRecorded(logger, delivery.Id, attempt, StoreOutage.Causes(e));
        }
    }

    /// <summary>Gives back a claimed delivery not attempted; if that fails too, its lease still expires.</summary>
    private async Task ReleaseAsync(ClaimedDelivery delivery)
    {
        try
        {
            await store.ReleaseLeaseAsync(delivery.Id, _owner, CancellationToken.None);
        }
        catch (Exception e) when (StoreOutage.IsStoreTrouble(e))
        {
            Log.WebhookLeaseNotReleased(logger, delivery.Id, StoreOutage.Causes(e));
        }
        catch (Exception e)
        {
            Log.WebhookDispatchFailed(logger, e);
        }
    }
}
