using System.Net;
using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Polly.Timeout;
using PromptVault.Core;
using PromptVault.Core.Contracts;
using PromptVault.Core.Templates;

namespace PromptVault.Client.Snapshots;

/// <summary>
/// Holds the snapshot the SDK serves and keeps it fresh: the first from the server (or the fallback file), then on each
/// stream event and every refresh interval (with the ETag). A snapshot older than one seen is never taken.
/// </summary>
internal sealed class SnapshotSource
{
    private readonly Func<PromptVaultClient> _client;
    private readonly Func<HttpClient> _streamClient; // no resilience handler, no timeout of its own
    private readonly PromptVaultOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly TemplateEngine _templates;
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _keyRefused = new(); // ends the stream loop once the refresh loop stopped
    private TaskCompletionSource _refreshNow = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _serverBack = new(TaskCreationOptions.RunContinuationsAsynchronously); // set when a refresh finds the server answering again
    private SnapshotView? _current;
    private string? _etag;
    private DateTimeOffset _confirmedAt;
    private Task? _initial;

    public SnapshotSource(Func<PromptVaultClient> client, Func<HttpClient> streamClient, PromptVaultOptions options, TimeProvider time, ILogger logger)
    {
        _client = client;
        _streamClient = streamClient;
        _options = options;
        _time = time;
        _logger = logger;
        _templates = new TemplateEngine(time);
    }

    /// <summary>The snapshot served now; null before the first is loaded.</summary>
    public SnapshotView? Current => Volatile.Read(ref _current);

    /// <summary>How long ago the server last confirmed the snapshot served (for a fallback file: since it was generated).</summary>
    public TimeSpan? Age => Current is null ? null : _time.GetUtcNow() - _confirmedAt;

    /// <summary>Whether the server answered the last refresh.</summary>
    public bool ServerReachable { get; private set; }

    /// <summary>Why the server refused the API key at a refresh (revoked while the application ran), after which refreshing stopped; null while it takes it.</summary>
    public string? KeyRefusal { get; private set; }

    /// <summary>Loads the first snapshot once (again after a failure), waiting at most the request timeout.</summary>
    /// <exception cref="PromptVaultUnavailableException">Neither the server nor the fallback file gave a snapshot.</exception>
    public async ValueTask<SnapshotView> EnsureLoadedAsync(CancellationToken cancellationToken)
    {
        if (Current is { } current) return current;
        Task initial;
        lock (_gate)
        {
            if (_initial is null || _initial.IsFaulted) _initial = LoadInitialAsync();
            initial = _initial;
        }
        // The load bounds itself by the request timeout (and says so when it runs out): a second timer of the same length here
        // raced it and, when it lost, the caller got the transport's words instead of what to do about a slow server.
        await initial.WaitAsync(cancellationToken).ConfigureAwait(false);
        return Current!;
    }

    private async Task LoadInitialAsync()
    {
        // One timer for the server attempt, the same length as the resilience handler's own total timeout: whichever of the
        // two ends the attempt, it ran out of time.
        using var limit = new CancellationTokenSource(_options.RequestTimeout, _time);
        try
        {
            // With a fallback file, one attempt: a server that refuses the connection is down, and the file serves at once
            // instead of after the resilience handler's retries. Without one, the retries give a blip at start its chance.
            var client = _options.FallbackSnapshotPath is null ? _client() : new PromptVaultClient(_streamClient(), _options.ApiKey);
            await RefreshAsync(client, limit.Token).ConfigureAwait(false);
            if (Current is null) throw new InvalidDataException("the server answered without a snapshot.");
        }
        catch (PromptVaultApiException e) when (e.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
        {
            // The server answered: it is up and refuses the key. A fallback file would serve, for good, what that key may no
            // longer read, and no file mends a wrong key.
            throw new PromptVaultUnavailableException(
                $"The PromptVault server at {_options.ServerUrl} refused the API key ({(int)e.StatusCode} {e.Code}: {e.Detail}); check PromptVault:ApiKey.", e);
        }
        catch (PromptVaultApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            // The snapshot route is never missing on a PromptVault server: PromptVault answering that it has no such route, or
            // something else (a proxy) answering 404, says the URL is wrong (a path such as /api), which no fallback file mends either.
            throw new PromptVaultUnavailableException(
                $"The PromptVault server at {_options.ServerUrl} has no route for the SDK ({(int)e.StatusCode} {e.Code}: {e.Detail}); " +
                ServerUrls.RootUrlHint("PromptVault:ServerUrl"), e);
        }
        catch (Exception e) when (e is not PromptVaultUnavailableException)
        {
            var timedOut = limit.IsCancellationRequested || e is TimeoutRejectedException;
            if (_options.FallbackSnapshotPath is not { } path)
                throw new PromptVaultUnavailableException(timedOut
                    ? $"No PromptVault snapshot from {_options.ServerUrl} within PromptVault:RequestTimeout ({_options.RequestTimeout}): the server did not answer in time. Raise PromptVault:RequestTimeout for a server slow to answer, or set PromptVault:FallbackSnapshotPath to start from a saved snapshot."
                    : $"Could not load the PromptVault snapshot from {_options.ServerUrl} ({e.Message}) and no PromptVault:FallbackSnapshotPath is configured; set it to start from a saved snapshot.", e);
            SdkSnapshot snapshot;
            try
            {
                await using var file = File.OpenRead(path);
                snapshot = await JsonSerializer.DeserializeAsync<SdkSnapshot>(file, PromptVaultJson.Options).ConfigureAwait(false)
                    ?? throw new InvalidDataException("the file holds null.");
            }
            catch (Exception fileError) when (fileError is IOException or UnauthorizedAccessException or JsonException or InvalidDataException)
            {
                throw new PromptVaultUnavailableException(
                    $"Could not load the PromptVault snapshot from {_options.ServerUrl} ({e.Message}) nor from the fallback file {path} ({fileError.Message}).", e);
            }
            if (!Accept(snapshot, null, "file " + path, snapshot.GeneratedAt))
                throw new PromptVaultUnavailableException($"The fallback snapshot file {path} could not be used; see the log.", e);
            // The reason, not the exception: a server down at start is expected where a fallback file is set, and its stack says nothing.
            Log.StartedFromFallback(_logger, timedOut ? $"no answer within PromptVault:RequestTimeout ({_options.RequestTimeout})" : e.Message,
                snapshot.Sequence, path, Age ?? TimeSpan.Zero);
        }
    }

    /// <summary>Reads the snapshot from the server (sending the ETag) and takes it unless it is older than the one served.</summary>
    public Task RefreshAsync(CancellationToken cancellationToken) => RefreshAsync(_client(), cancellationToken);

    private async Task RefreshAsync(PromptVaultClient client, CancellationToken cancellationToken)
    {
        var result = await client.GetSnapshotAsync(Current is null ? null : _etag, cancellationToken).ConfigureAwait(false);
        var now = _time.GetUtcNow();
        if (!ServerReachable)
        {
            ServerReachable = true;
            Interlocked.Exchange(ref _serverBack, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        }
        if (result.NotModified || result.Snapshot is null)
        {
            lock (_gate) _confirmedAt = now;
            return;
        }
        Accept(result.Snapshot, result.ETag, "server", now);
    }

    /// <summary>Asks the refresh loop to read the snapshot now (a stream event said it changed).</summary>
    public void RequestRefresh() => Volatile.Read(ref _refreshNow).TrySetResult();

    /// <summary>Takes a snapshot from elsewhere (a test's stale replica) under the same rule as the server's: never an older one.</summary>
    internal bool Offer(SdkSnapshot snapshot, string source) => Accept(snapshot, null, source, _time.GetUtcNow());

    private bool Accept(SdkSnapshot snapshot, string? etag, string source, DateTimeOffset confirmedAt)
    {
        lock (_gate)
        {
            if (_current is { } current && snapshot.Sequence <= current.Sequence)
            {
                if (snapshot.Sequence < current.Sequence) Log.OlderSnapshotIgnored(_logger, snapshot.Sequence, current.Sequence);
                else
                {
                    _confirmedAt = confirmedAt;
                    _etag ??= etag; // the snapshot served came from a file: the server's tag for it lets the next refresh ask "changed?"
                }
                return snapshot.Sequence == current.Sequence;
            }
            SnapshotView view;
            try
            {
                view = SnapshotView.Build(snapshot, _templates);
            }
            catch (Exception e) when (e is InvalidDataException or Core.InvalidInputException or ArgumentException) // ArgumentException: a key twice
            {
                Log.SnapshotRefused(_logger, snapshot.Sequence, e.Message);
                return false;
            }
            Volatile.Write(ref _current, view);
            _etag = etag;
            _confirmedAt = confirmedAt;
        }
        Log.SnapshotLoaded(_logger, snapshot.Sequence, source, snapshot.Prompts?.Count ?? 0, snapshot.Experiments?.Count ?? 0);
        return true;
    }

    /// <summary>Refreshes every interval, or at once when asked, until stopped; failures keep the last good snapshot and are logged with its age.</summary>
    public async Task RunRefreshLoopAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            var asked = Volatile.Read(ref _refreshNow);
            await WaitAsync(_options.RefreshInterval, asked.Task, stopping).ConfigureAwait(false);
            if (stopping.IsCancellationRequested) return;
            // A request made while this refresh runs asks for another one.
            if (asked.Task.IsCompleted) Interlocked.CompareExchange(ref _refreshNow, new(TaskCreationOptions.RunContinuationsAsynchronously), asked);
            try
            {
                using var limit = CancellationTokenSource.CreateLinkedTokenSource(stopping);
                limit.CancelAfter(_options.RequestTimeout);
                await RefreshAsync(limit.Token).ConfigureAwait(false);
            }
            catch (PromptVaultApiException e) when (e.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden && !stopping.IsCancellationRequested)
            {
                // The key was revoked (or lost its role): every later refresh would be refused alike. The last snapshot keeps
                // serving, as through an outage; a restart with the same key fails at start (LoadInitialAsync).
                KeyRefusal = $"{(int)e.StatusCode} {e.Code}: {e.Detail}";
                if (Current is { } current) Log.KeyRefused(_logger, KeyRefusal, current.Sequence, Age ?? TimeSpan.Zero);
                await _keyRefused.CancelAsync().ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (!stopping.IsCancellationRequested)
            {
                ServerReachable = false;
                if (Current is { } current) Log.RefreshFailed(_logger, e.Message, current.Sequence, Age ?? TimeSpan.Zero);
            }
        }
    }

    /// <summary>Listens to <c>GET /api/sdk/stream</c> and refreshes on each event, reconnecting with backoff until stopped.</summary>
    public async Task RunStreamLoopAsync(CancellationToken stopping)
    {
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(stopping, _keyRefused.Token);
        await StreamLoopAsync(ended.Token).ConfigureAwait(false);
    }

    private async Task StreamLoopAsync(CancellationToken stopping)
    {
        var delay = PromptVaultDefaults.FirstRetryDelay;
        var connected = false;
        while (!stopping.IsCancellationRequested)
        {
            // Read before connecting: a refresh that finds the server back while this attempt fails still ends its backoff,
            // which after a long outage has grown to RefreshInterval; a change would otherwise wait that long to arrive.
            var serverBack = Volatile.Read(ref _serverBack).Task;
            try
            {
                await ListenAsync(stopping, () => (delay, connected) = (PromptVaultDefaults.FirstRetryDelay, true)).ConfigureAwait(false);
                Log.StreamDisconnected(_logger, "the server ended the stream", delay);
            }
            catch (HttpRequestException e) when (e.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden && !stopping.IsCancellationRequested)
            {
                // The key refused (revoked meanwhile): the refresh loop finds it too and decides; the stream waits for it.
                Log.StreamDisconnected(_logger, e.Message, delay);
                RequestRefresh();
            }
            catch (Exception e) when (!stopping.IsCancellationRequested)
            {
                Log.StreamDisconnected(_logger, e.Message, delay);
                // The first reconnection refused after the stream was up: the server may be gone, so refresh now rather than at
                // the next interval (up to RefreshInterval later), for the health check and the log to say so when it is.
                if (connected) RequestRefresh();
                connected = false;
            }
            catch (Exception) when (stopping.IsCancellationRequested)
            {
                return; // stopping: whatever the connection's end threw
            }
            await WaitAsync(delay, serverBack, stopping).ConfigureAwait(false);
            if (stopping.IsCancellationRequested) return;
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.RefreshInterval.Ticks));
        }
    }

    /// <summary>Waits for <paramref name="delay"/>, or less when <paramref name="sooner"/> completes or stopping is asked.</summary>
    private async Task WaitAsync(TimeSpan delay, Task sooner, CancellationToken stopping)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        await Task.WhenAny(sooner, Task.Delay(delay, _time, wait.Token)).ConfigureAwait(false);
        await wait.CancelAsync().ConfigureAwait(false); // sooner first: the delay's timer (up to a day) would otherwise stay behind
    }

    private async Task ListenAsync(CancellationToken stopping, Action connected)
    {
        var http = _streamClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_client().BaseAddress, "api/sdk/stream"));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        if (_options.ApiKey is { Length: > 0 } key) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        HttpResponseMessage response;
        using (var connect = CancellationTokenSource.CreateLinkedTokenSource(stopping))
        {
            connect.CancelAfter(_options.RequestTimeout);
            response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, connect.Token).ConfigureAwait(false);
        }
        using (response)
        {
            if (!response.IsSuccessStatusCode)
                throw new HttpRequestException($"the stream answered {(int)response.StatusCode}", null, response.StatusCode);
            await using var body = await response.Content.ReadAsStreamAsync(stopping).ConfigureAwait(false);
            await foreach (var item in SseParser.Create(body).EnumerateAsync(stopping).ConfigureAwait(false))
            {
                // Up once an event arrives (the server sends the current snapshot's at once): a 200 that ends without one (a proxy
                // that does not pass streams through) keeps backing off instead of reconnecting ten times a second.
                connected();
                if (item.EventType == "snapshot" && IsNewer(item.Data)) RequestRefresh();
            }
        }
    }

    /// <summary>Whether a <c>snapshot</c> event (data <c>{"sequence": …, "etag": …}</c>) names a snapshot newer than the one served.</summary>
    private bool IsNewer(string data)
    {
        try
        {
            using var json = JsonDocument.Parse(data);
            return !(json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("sequence", out var sequence)
                && sequence.TryGetInt64(out var value) && Current is { } current && value <= current.Sequence);
        }
        catch (JsonException)
        {
            return true; // unreadable: read the snapshot to be sure
        }
    }
}
