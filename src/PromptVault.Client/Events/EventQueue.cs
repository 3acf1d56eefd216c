using System.Net;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using PromptVault.Core;
using PromptVault.Core.Auth;
using PromptVault.Core.Contracts;

namespace PromptVault.Client.Events;

/// <summary>
/// An exposure (no <see cref="Outcome"/>) or a metric event waiting to be sent, copied into the queue's ring. The request the
/// server takes is made by the sender, so the caller allocates nothing to record.
/// </summary>
internal readonly record struct QueuedEvent(string? VersionId, string? ExperimentId, string? VariantId, string? UnitId, DateTimeOffset Timestamp,
    PromptOutcome? Outcome)
{
    public static QueuedEvent Exposure(string experimentId, string variantId, string unitId, DateTimeOffset timestamp) =>
        new(null, experimentId, variantId, unitId, timestamp, null);
}

/// <summary>
/// A bounded queue of events with one sender: batches by size or by <see cref="PromptVaultOptions.EventFlushInterval"/>, retries
/// a batch the server could not take with exponential backoff until it is taken (metric events carry their id and exposures are
/// idempotent, so a batch sent twice counts once). When full, the oldest event is dropped and counted; writers never wait.
/// </summary>
internal sealed class EventQueue : IAsyncDisposable
{
    private readonly DropOldestQueue<QueuedEvent> _queue;
    private readonly Func<PromptVaultClient> _client;
    private PromptVaultClient _lastClient;
    private readonly PromptVaultOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _sender;
    private TaskCompletionSource _flushNow = NewSignal();
    private TaskCompletionSource _progress = NewSignal();
    private long _sent;
    private long _rejected;
    private int _flushing;

    public EventQueue(Func<PromptVaultClient> client, PromptVaultOptions options, TimeProvider time, ILogger logger)
    {
        _client = client;
        _lastClient = client();
        _options = options;
        _time = time;
        _logger = logger;
        _queue = new DropOldestQueue<QueuedEvent>(options.EventQueueCapacity);
        _sender = Task.Run(() => RunAsync(_stopping.Token));
    }

    /// <summary>Events waiting to be sent.</summary>
    public int Depth => _queue.Count;

    /// <summary>Events dropped because the queue was full.</summary>
    public long Dropped => _queue.Dropped;

    /// <summary>Events the server refused (a 4xx other than 408 and 429): not retried, logged.</summary>
    public long Rejected => Interlocked.Read(ref _rejected);

    /// <summary>Queues the event; after disposal, or with <see cref="PromptVaultOptions.RecordEvents"/> off, it is ignored.</summary>
    public void Enqueue(in QueuedEvent queued)
    {
        if (!_options.RecordEvents) return;
        // A drop finishes an event as a send does: a flush waiting for it must look again.
        if (_queue.TryWrite(queued, out var droppedOne) && droppedOne && Volatile.Read(ref _flushing) > 0) Progressed();
    }

    /// <summary>Done: sent, refused or dropped.</summary>
    private long Done => Interlocked.Read(ref _sent) + _queue.Dropped;

    /// <summary>Waits until every event queued before the call is done.</summary>
    /// <exception cref="InvalidOperationException">The SDK stopped (the host stopping, the provider disposed) before they were;
    /// the message says how many were not sent.</exception>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        var target = _queue.Written;
        Interlocked.Increment(ref _flushing);
        try
        {
            while (Done < target && !_sender.IsCompleted)
            {
                var progress = Volatile.Read(ref _progress).Task;
                Volatile.Read(ref _flushNow).TrySetResult();
                if (Done >= target) break;
                await progress.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            Interlocked.Decrement(ref _flushing);
        }
        // The sender ended with events of this flush unsent: a caller awaiting it at shutdown must not believe they went.
        if (Done < target)
            throw new InvalidOperationException(
                $"The PromptVault SDK stopped before {target - Done} of the events queued before this flush were sent; they are lost (see event 2104).");
    }

    /// <summary>
    /// Fails the start when <see cref="PromptVaultOptions.RecordEvents"/> is on and the key's role may not record (a reader
    /// key): otherwise every exposure and event would be refused and dropped at run time. Asks the server for the key's role.
    /// </summary>
    public async Task EnsureKeyMayRecordAsync(CancellationToken cancellationToken)
    {
        if (!_options.RecordEvents) return;
        ApiKey key;
        try
        {
            key = await Client().GetCurrentKeyAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (IsTransient(e) && !cancellationToken.IsCancellationRequested)
        {
            // A failure that may pass (the server gone since the snapshot) leaves the role unknown; refusals are logged when
            // events are sent.
            return;
        }
        const ApiKeyRole mayRecord = ApiKeyRole.Writer; // POST /api/exposures and /api/metrics
        if (key.Role < mayRecord)
            throw new PromptVaultUnavailableException(
                $"PromptVault:RecordEvents is on, but this API key's role ({Names.Of(key.Role)}) may not record exposures and metric events " +
                $"at {_options.ServerUrl}: that needs a key whose role is {ApiKeyRoles.AtLeast(mayRecord)}. " +
                $"Set PromptVault:ApiKey to a {ApiKeyRoles.AtLeast(mayRecord)} key, or PromptVault:RecordEvents to false to serve prompts without recording.");
    }

    /// <summary>Sends what is queued, for at most <paramref name="timeout"/>, then stops the sender.</summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        if (!_queue.Complete()) return; // stopped already (the host, then the container)
        using var limit = new CancellationTokenSource(timeout, _time);
        try
        {
            await FlushAsync(limit.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Log.EventsAbandoned(_logger, _queue.Count, timeout);
        }
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _sender.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(_options.RequestTimeout).ConfigureAwait(false);
        await _sender.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private async Task RunAsync(CancellationToken stopping)
    {
        var batch = new List<QueuedEvent>(_options.EventBatchSize);
        try
        {
            while (true)
            {
                await _queue.WaitForAsync(1).WaitAsync(stopping).ConfigureAwait(false);
                if (_queue.Count == 0) break; // completed and empty
                // Wait up to one interval for a full batch; a flush or the end sends what there is at once. Writers wake this
                // sender only when a batch fills, not per event.
                var flush = Volatile.Read(ref _flushNow);
                var full = _queue.WaitForAsync(_options.EventBatchSize);
                if (!full.IsCompleted && !flush.Task.IsCompleted)
                    await Task.WhenAny(full, flush.Task, Task.Delay(_options.EventFlushInterval, _time, stopping)).ConfigureAwait(false);
                stopping.ThrowIfCancellationRequested();
                if (flush.Task.IsCompleted) Interlocked.CompareExchange(ref _flushNow, NewSignal(), flush);
                _queue.ReadInto(batch, _options.EventBatchSize);
                try
                {
                    await SendAsync(batch, stopping).ConfigureAwait(false);
                }
                catch (Exception e) when (!stopping.IsCancellationRequested)
                {
                    // A batch that cannot be sent at all (a bug, not an outage) is dropped: the sender must outlive it, or every
                    // later event would wait in a queue nobody reads while recording still succeeds.
                    Interlocked.Add(ref _rejected, batch.Count);
                    Log.EventsNotSendable(_logger, batch.Count, e);
                }
                Interlocked.Add(ref _sent, batch.Count);
                Progressed();
                batch.Clear();
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        finally
        {
            Volatile.Read(ref _progress).TrySetResult();
        }
    }

    private async Task SendAsync(List<QueuedEvent> batch, CancellationToken stopping)
    {
        var exposures = batch.Where(e => e.Outcome is null).Select(e => new ExposureRequest(e.ExperimentId!, e.VariantId!, e.UnitId!, e.Timestamp)).ToList();
        var metrics = batch.Where(e => e.Outcome is not null).Select(ToRequest).ToList();
        if (exposures.Count > 0)
            await SendWithRetryAsync("exposures", exposures, (c, items, key) => c.RecordExposuresAsync(new ExposureBatchRequest(items), key, stopping), stopping).ConfigureAwait(false);
        if (metrics.Count > 0)
            await SendWithRetryAsync("metric events", metrics, (c, items, key) => c.RecordMetricsAsync(new MetricBatchRequest(items), key, stopping), stopping).ConfigureAwait(false);
    }

    /// <summary>
    /// Sends <paramref name="items"/> until the server takes them. A refusal naming one item (<c>exposures[3].experimentId</c>:
    /// a draft or cancelled experiment) drops that item and sends the rest; a 413 (too large) sends each half on its own; any
    /// other 4xx but 408 and 429 drops the batch. Every resend of the same items carries the same <c>Idempotency-Key</c>, so
    /// the server answers a batch it stored already (its answer lost) with the first answer; items changed get a new key.
    /// </summary>
    private async Task SendWithRetryAsync<T>(string what, List<T> items, Func<PromptVaultClient, List<T>, string, Task> send, CancellationToken stopping)
    {
        var delay = PromptVaultDefaults.FirstRetryDelay;
        var key = PromptVaultClient.NewIdempotencyKey();
        var refusedBefore = 0;
        for (var attempt = 1; items.Count > 0; attempt++)
        {
            TimeSpan wait;
            try
            {
                await send(Client(), items, key).ConfigureAwait(false);
                if (refusedBefore > 0) Log.EventsSentWithoutRefused(_logger, items.Count, what, refusedBefore);
                else if (attempt > 1) Log.EventsSentAfterRetry(_logger, items.Count, what, attempt);
                return;
            }
            catch (PromptVaultApiException e) when (e.StatusCode == HttpStatusCode.RequestEntityTooLarge && items.Count > 1)
            {
                // Larger than the server (or a proxy before it) takes in one body: each half goes on its own, halved again as needed.
                var half = items.Count / 2;
                Log.EventsSplit(_logger, items.Count, what);
                await SendWithRetryAsync(what, items.GetRange(0, half), send, stopping).ConfigureAwait(false);
                await SendWithRetryAsync(what, items.GetRange(half, items.Count - half), send, stopping).ConfigureAwait(false);
                return;
            }
            catch (PromptVaultApiException e) when ((int)e.StatusCode is >= 400 and < 500 && e.StatusCode is not (HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests))
            {
                var index = ItemIndex(e.Field);
                var refused = index is { } i && i < items.Count ? 1 : items.Count;
                Interlocked.Add(ref _rejected, refused);
                Log.EventsRejected(_logger, refused, what, (int)e.StatusCode, e.Code, e.Detail);
                if (refused == items.Count) return;
                items.RemoveAt(index!.Value);
                refusedBefore++;
                key = PromptVaultClient.NewIdempotencyKey(); // another request: the server refuses a key sent with another body
                continue;
            }
            catch (Exception e) when (!stopping.IsCancellationRequested && IsTransient(e))
            {
                wait = Wait(delay, (e as PromptVaultApiException)?.RetryAfter);
                Log.EventsNotSent(_logger, items.Count, what, attempt, wait, e.Message);
            }
            await Task.Delay(wait, _time, stopping).ConfigureAwait(false);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.EventRetryMaxDelay.Ticks));
        }
    }

    /// <summary>
    /// A client from the factory, or, once the service provider is being disposed (a provider without a host disposes the SDK,
    /// and so sends the queued events, after it refuses to make anything), the one made last, whose handlers it disposes later.
    /// </summary>
    private PromptVaultClient Client()
    {
        try
        {
            return _lastClient = _client();
        }
        catch (ObjectDisposedException)
        {
            return _lastClient;
        }
    }

    /// <summary>
    /// Whether trying again may succeed: the server unreachable, slow or failing. A server slower than the request timeout, or
    /// failing often enough to open the circuit, surfaces as the resilience handler's <see cref="Polly.ExecutionRejectedException"/>.
    /// Anything else (the batch cannot be written as JSON, say) fails every attempt alike, so it is not retried.
    /// </summary>
    private static bool IsTransient(Exception e) =>
        e is HttpRequestException or IOException or TimeoutException or OperationCanceledException or Polly.ExecutionRejectedException
            or PromptVaultUnavailableException or PromptVaultApiException;

    /// <summary>
    /// The metric event as sent, with its id: the caller's, or one assigned here once, before the first attempt, so every retry
    /// carries the same id (a new id's random bytes cost a system call, which the caller should not pay).
    /// </summary>
    private static MetricEventRequest ToRequest(QueuedEvent queued)
    {
        var outcome = queued.Outcome!;
        var timestamp = outcome.Timestamp ?? queued.Timestamp;
        // A version 7 id orders by time from 1970 on; an older timestamp (a default copied from an unset field) takes the time now.
        var id = outcome.Id ?? (timestamp >= DateTimeOffset.UnixEpoch ? Guid.CreateVersion7(timestamp) : Guid.CreateVersion7()).ToString("N");
        return new MetricEventRequest(id, queued.VersionId!, queued.ExperimentId, queued.VariantId,
            queued.UnitId, timestamp, outcome.Latency?.TotalMilliseconds, outcome.InputTokens, outcome.OutputTokens, outcome.Cost, outcome.QualityScore,
            outcome.UserFeedback, outcome.Converted, outcome.Error, outcome.Metadata);
    }

    /// <summary>The item a refusal names in its field, <c>events[3].latencyMs</c> → 3.</summary>
    private static int? ItemIndex(string? field)
    {
        if (field is null) return null;
        var open = field.IndexOf('[', StringComparison.Ordinal);
        var close = open < 0 ? -1 : field.IndexOf(']', open);
        return close > open + 1 && int.TryParse(field.AsSpan(open + 1, close - open - 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var index)
            ? index : null;
    }

    /// <summary>
    /// The wait before the next attempt: the backoff, jittered, or the server's <c>Retry-After</c> (a 429 or 503 that outlasted
    /// the resilience handler's own retries) when longer, but never more than <see cref="PromptVaultOptions.EventRetryMaxDelay"/>,
    /// so a server asking for hours does not hold the queue for hours.
    /// </summary>
    private TimeSpan Wait(TimeSpan delay, TimeSpan? retryAfter)
    {
        var backoff = Jittered(delay);
        return retryAfter is { } asked && asked > backoff ? TimeSpan.FromTicks(Math.Min(asked.Ticks, _options.EventRetryMaxDelay.Ticks)) : backoff;
    }

    // Full jitter between half and all of the delay, so many clients coming back together do not retry in step.
    private static TimeSpan Jittered(TimeSpan delay) => delay / 2 + TimeSpan.FromTicks(RandomNumberGenerator.GetInt32((int)Math.Min(int.MaxValue, delay.Ticks / 2 + 1)));

    /// <summary>Wakes a flush waiting for events to be done; only a flush waits, so without one nothing is allocated.</summary>
    private void Progressed()
    {
        if (Volatile.Read(ref _flushing) > 0) Interlocked.Exchange(ref _progress, NewSignal()).TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
