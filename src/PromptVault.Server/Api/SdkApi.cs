using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Security.Claims;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using PromptVault.Core.Auth;
using PromptVault.Core.Contracts;
using PromptVault.Core.Experiments;
using PromptVault.Core.Registry;
using PromptVault.Server.Auth;

namespace PromptVault.Server.Api;

/// <summary>The routes an SDK that resolves in process uses (SPEC §5, §8): the snapshot, its change stream, and exposures.</summary>
internal static class SdkApi
{
    public const string SnapshotEventType = "snapshot";

    public static IEndpointRouteBuilder MapSdkApi(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/api/sdk/snapshot", Snapshot).WithName("GetSdkSnapshot").WithSummary("Get everything an SDK needs to resolve prompts locally").WithTags("SDK")
            .RequireAuthorization(RolePolicies.Reader)
            .Produces<SdkSnapshot>(StatusCodes.Status200OK, "application/json")
            .Produces(StatusCodes.Status304NotModified);
        routes.MapGet("/api/sdk/stream", Stream).WithName("StreamSdkSnapshot").WithSummary("Server-sent events: a snapshot event whenever the SDK snapshot changes").WithTags("SDK")
            .WithDescription("On connect, and then whenever the snapshot changes: `event: snapshot`, `data: {\"sequence\":…,\"etag\":\"\\\"…\\\"\"}`, `id: <sequence>`. "
                + "A `: keep-alive` comment every 15 s of quiet. Fetch GET /api/sdk/snapshot with If-None-Match when the etag is not the one you hold.")
            .RequireAuthorization(RolePolicies.Reader)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .RequireRateLimiting(RateLimits.SdkStreamPolicy);
        routes.MapPost("/api/exposures", RecordExposures).WithName("RecordExposures").WithSummary("Record exposures an SDK resolved locally").WithTags("SDK")
            .RequireToChange(RolePolicies.Writer)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .AcceptsIdempotencyKeyWithoutReplay();
        return routes;
    }

    /// <summary>The shared snapshot's bytes; the file result answers <c>If-None-Match</c> with 304 from the strong ETag.</summary>
    private static async Task<FileContentHttpResult> Snapshot(SdkSnapshots snapshots, HttpResponse response, CancellationToken cancellationToken)
    {
        var built = await snapshots.GetAsync(cancellationToken);
        // Revalidate every time: the ETag is cheap to check and a label move must be seen at once.
        response.Headers.CacheControl = "no-cache";
        return TypedResults.Bytes(built.Json, "application/json", entityTag: new EntityTagHeaderValue(built.ETag));
    }

    private static ServerSentEventsResult<SdkSnapshotEvent> Stream(SdkSnapshots snapshots, RegistryChangeFeed changes, ApiKeyService keys,
        IOptions<SdkStreamOptions> options, IHostApplicationLifetime lifetime, HttpContext http) =>
        TypedResults.ServerSentEvents(SnapshotEvents(snapshots, changes, keys, http.Response, options.Value.KeepAliveInterval,
            lifetime.ApplicationStopping, http.RequestAborted));

    /// <summary>
    /// The current snapshot's event, then one each time it changes; changes that arrive while one is being sent are coalesced
    /// into the next. Ends (completing the response) when the client goes away, when the server stops, so it never holds up
    /// a graceful stop, and when its API key is revoked (on any server sharing the database): the reconnection is refused.
    /// </summary>
    private static async IAsyncEnumerable<SseItem<SdkSnapshotEvent>> SnapshotEvents(SdkSnapshots snapshots, RegistryChangeFeed changes,
        ApiKeyService keys, HttpResponse response, TimeSpan keepAliveInterval, CancellationToken stopping,
        [EnumeratorCancellation] CancellationToken requestAborted)
    {
        if (HttpMethods.IsHead(response.HttpContext.Request.Method))
            yield break; // the stream's headers, without its events: it would otherwise never end, its events all dropped
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(stopping, requestAborted);
        var changed = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
        var keyChanged = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
        Action onChange = () => changed.Writer.TryWrite(true);
        snapshots.Changed += onChange;
        var keyId = response.HttpContext.User.FindFirstValue(ApiKeyAuthenticationHandler.KeyIdClaim);
        using var keySubscription = changes.Subscribe(change =>
        {
            if (change.Kind != RegistryChangeKind.ApiKeys) return;
            keyChanged.Writer.TryWrite(true);
            onChange();
        });
        // A revocation between this request's authentication and the subscription above would otherwise go unseen: check once.
        keyChanged.Writer.TryWrite(true);
        try
        {
            long sent = 0;
            while (true)
            {
                if (keyId is not null && keyChanged.Reader.TryRead(out _))
                {
                    // A key that cannot be checked (the database unreachable) ends the stream too: the reconnection decides.
                    var active = keys.IsActiveAsync(keyId, ended.Token);
                    await ((Task)active).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                    if (!active.IsCompletedSuccessfully || !active.Result)
                        yield break;
                }
                var get = snapshots.GetAsync(ended.Token).AsTask();
                await ((Task)get).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                if (ended.IsCancellationRequested)
                    yield break;
                var built = await get;
                if (built.Snapshot.Sequence != sent)
                {
                    sent = built.Snapshot.Sequence;
                    yield return new SseItem<SdkSnapshotEvent>(new SdkSnapshotEvent(sent, built.ETag), SnapshotEventType) { EventId = built.ETag.Trim('"') };
                }

                using var quiet = CancellationTokenSource.CreateLinkedTokenSource(ended.Token);
                quiet.CancelAfter(keepAliveInterval);
                var wait = changed.Reader.WaitToReadAsync(quiet.Token).AsTask();
                await ((Task)wait).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                if (ended.IsCancellationRequested)
                    yield break;
                if (wait.IsCompletedSuccessfully)
                {
                    changed.Reader.TryRead(out _);
                    continue;
                }
                // SseItem has no comment form; a comment line is invisible to SSE parsers, and the formatter has flushed the last
                // event before asking for the next, so writing it here cannot interleave with one.
                var keepAlive = WriteKeepAliveAsync(response, ended.Token);
                await keepAlive.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                if (!keepAlive.IsCompletedSuccessfully)
                    yield break;
            }
        }
        finally
        {
            snapshots.Changed -= onChange;
        }
    }

    private static readonly ReadOnlyMemory<byte> KeepAliveComment = ": keep-alive\n\n"u8.ToArray();

    private static async Task WriteKeepAliveAsync(HttpResponse response, CancellationToken cancellationToken)
    {
        await response.Body.WriteAsync(KeepAliveComment, cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }

    private static async Task<Ok<ExposureRecordResponse>> RecordExposures(ExposureBatchRequest request, ExposureService exposures, HttpRequest http, CancellationToken cancellationToken)
    {
        // Accepted as on the other write routes. No answer is stored for it: a retry is harmless because a unit's exposure
        // counts once, and it answers with recorded 0.
        IdempotencyHeader.Read(http);
        return TypedResults.Ok(await exposures.RecordAsync(request, cancellationToken));
    }
}

/// <summary>Settings of <c>GET /api/sdk/stream</c> (configuration section <c>PromptVault:Sdk</c>).</summary>
internal sealed class SdkStreamOptions
{
    /// <summary>How long a quiet stream waits before a keep-alive comment, so proxies and clients see it is alive.</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>The longest interval taken: a quiet stream's wait is a timer, which refuses one of more than 49 days on every stream.</summary>
    public static readonly TimeSpan MaxKeepAliveInterval = TimeSpan.FromHours(1);
}
