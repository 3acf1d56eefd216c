using System.Net;
using System.Security.Cryptography;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using PromptVault.Core.Contracts;

namespace PromptVault.Client.Events;

/// <summary>An exposure or a metric event waiting to be sent.</summary>
internal sealed record PendingEvent(ExposureRequest? Exposure, MetricEventRequest? Metric);

/// <summary>
/// A bounded queue of events with one sender: batches by size or by <see cref="PromptVaultOptions.EventFlushInterval"/>, retries
/// a batch the server could not take with exponential backoff until it is taken (metric events carry their id and exposures are
/// idempotent, so a batch sent twice counts once). When full, the oldest event is dropped and counted; writers never wait.
/// </summary>
internal sealed class EventQueue : IAsyncDisposable
{
    private readonly Channel<PendingEvent> _channel;
    private readonly Func<PromptVaultClient> _client;
    private readonly PromptVaultOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _sender;
    private TaskCompletionSource _flushNow = NewSignal();
    private TaskCompletionSource _progress = NewSignal();
    private long _enqueued;
    private long _done;
    private long _dropped;
    private long _rejected;
    private int _flushing;

    public EventQueue(Func<PromptVaultClient> client, PromptVaultOptions options, TimeProvider time, ILogger logger)
    {
        _client = client;
        _options = options;
        _time = time;
        _logger = logger;
        _channel = Channel.CreateBounded<PendingEvent>(
            new BoundedChannelOptions(options.EventQueueCapacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
            _ => { Interlocked.Increment(ref _dropped); Completed(1); });
        _sender = Task.Run(() => RunAsync(_stopping.Token));
    }

    /// <summary>Events waiting to be sent.</summary>
    public int Depth => _channel.Reader.Count;

    /// <summary>Events dropped because the queue was full.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Events the server refused (a 4xx other than 408 and 429): not retried, logged.</summary>
    public long Rejected => Interlocked.Read(ref _rejected);

    public void Enqueue(PendingEvent pending)
    {
        Interlocked.Increment(ref _enqueued);
        if (!_channel.Writer.TryWrite(pending)) Completed(1); // only after disposal
    }

    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        var target = Interlocked.Read(ref _enqueued);
        Interlocked.Increment(ref _flushing);
        try
        {
            while (Interlocked.Read(ref _done) < target && !_sender.IsCompleted)
            {
                var progress = Volatile.Read(ref _progress).Task;
                Volatile.Read(ref _flushNow).TrySetResult();
                if (Interlocked.Read(ref _done) >= target) break;
                await progress.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            Interlocked.Decrement(ref _flushing);
        }
    }

    /// <summary>Sends what is queued, for at most <paramref name="timeout"/>, then stops the sender.</summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        if (!_channel.Writer.TryComplete()) return; // stopped already (the host, then the container)
        using var limit = new CancellationTokenSource(timeout, _time);
        try
        {
            await FlushAsync(limit.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Log.EventsAbandoned(_logger, _channel.Reader.Count, timeout);
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
        var reader = _channel.Reader;
        var batch = new List<PendingEvent>(_options.EventBatchSize);
        try
        {
            while (await reader.WaitToReadAsync(stopping).ConfigureAwait(false))
            {
                var started = _time.GetTimestamp();
                while (true)
                {
                    while (batch.Count < _options.EventBatchSize && reader.TryRead(out var pending)) batch.Add(pending);
                    var flush = Volatile.Read(ref _flushNow);
                    var remaining = _options.EventFlushInterval - _time.GetElapsedTime(started);
                    if (batch.Count >= _options.EventBatchSize || flush.Task.IsCompleted || remaining <= TimeSpan.Zero || reader.Completion.IsCompleted)
                    {
                        if (flush.Task.IsCompleted) Interlocked.CompareExchange(ref _flushNow, NewSignal(), flush);
                        break;
                    }
                    await Task.WhenAny(reader.WaitToReadAsync(stopping).AsTask(), Task.Delay(remaining, _time, stopping), flush.Task).ConfigureAwait(false);
                    stopping.ThrowIfCancellationRequested();
                }
                await SendAsync(batch, stopping).ConfigureAwait(false);
                Completed(batch.Count);
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

    private async Task SendAsync(List<PendingEvent> batch, CancellationToken stopping)
    {
        var exposures = batch.Where(e => e.Exposure is not null).Select(e => e.Exposure!).ToList();
        var metrics = batch.Where(e => e.Metric is not null).Select(e => WithId(e.Metric!)).ToList();
        if (exposures.Count > 0)
            await SendWithRetryAsync("exposures", exposures, (c, items) => c.RecordExposuresAsync(new ExposureBatchRequest(items), stopping), stopping).ConfigureAwait(false);
        if (metrics.Count > 0)
            await SendWithRetryAsync("metric events", metrics, (c, items) => c.RecordMetricsAsync(new MetricBatchRequest(items), stopping), stopping).ConfigureAwait(false);
    }

    /// <summary>
    /// Sends <paramref name="items"/> until the server takes them. A refusal naming one item (<c>exposures[3].experimentId</c>:
    /// a draft or cancelled experiment) drops that item and sends the rest; any other 4xx but 408 and 429 drops the batch.
    /// </summary>
    private async Task SendWithRetryAsync<T>(string what, List<T> items, Func<PromptVaultClient, List<T>, Task> send, CancellationToken stopping)
    {
        var delay = PromptVaultDefaults.FirstRetryDelay;
        for (var attempt = 1; items.Count > 0; attempt++)
        {
            try
            {
                await send(_client(), items).ConfigureAwait(false);
                if (attempt > 1) Log.EventsSentAfterRetry(_logger, items.Count, what, attempt);
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
                continue;
            }
            catch (Exception e) when (!stopping.IsCancellationRequested)
            {
                Log.EventsNotSent(_logger, items.Count, what, attempt, delay, e.Message);
            }
            await Task.Delay(Jittered(delay), _time, stopping).ConfigureAwait(false);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.EventRetryMaxDelay.Ticks));
        }
    }

    /// <summary>The event with its id: assigned here once, before the first attempt, so every retry carries the same id.</summary>
    private MetricEventRequest WithId(MetricEventRequest metric) =>
        metric.Id is null ? metric with { Id = Guid.CreateVersion7(metric.Timestamp ?? _time.GetUtcNow()).ToString("N") } : metric;

    /// <summary>The item a refusal names in its field, <c>events[3].latencyMs</c> → 3.</summary>
    private static int? ItemIndex(string? field)
    {
        if (field is null) return null;
        var open = field.IndexOf('[', StringComparison.Ordinal);
        var close = open < 0 ? -1 : field.IndexOf(']', open);
        return close > open + 1 && int.TryParse(field.AsSpan(open + 1, close - open - 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var index)
            ? index : null;
    }

    // Full jitter between half and all of the delay, so many clients coming back together do not retry in step.
    private static TimeSpan Jittered(TimeSpan delay) => delay / 2 + TimeSpan.FromTicks(RandomNumberGenerator.GetInt32((int)Math.Min(int.MaxValue, delay.Ticks / 2 + 1)));

    private void Completed(int count)
    {
        Interlocked.Add(ref _done, count);
        // Only a flush waits for progress: without one, a drop (on the caller's path) allocates nothing more.
        if (Volatile.Read(ref _flushing) > 0) Interlocked.Exchange(ref _progress, NewSignal()).TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
