using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using PromptVault.Server.Tests;

namespace PromptVault.Client.Tests;

/// <summary>
/// A reverse proxy on loopback Kestrel in front of a real server. Every request is forwarded and the server's answer read
/// in full; when <see cref="LoseAnswer"/> says so, the proxy then drops the connection instead of answering, as a network
/// that loses the answer after the server has acted on the request.
/// </summary>
public sealed class LossyProxy : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly HttpClient _server;

    private LossyProxy(WebApplication app, HttpClient server)
    {
        _app = app;
        _server = server;
    }

    public Uri BaseAddress => new(_app.Urls.First());

    /// <summary>Decides, for a request the server has answered, whether the caller never gets that answer.</summary>
    public Func<ForwardedRequest, bool> LoseAnswer { get; set; } = _ => false;

    /// <summary>Runs while the proxy holds a request's answer, once the server has given it, before passing it on.</summary>
    public Action<ForwardedRequest> WhileHoldingAnswer { get; set; } = _ => { };

    /// <summary>
    /// Answers <c>GET /api/sdk/stream</c> itself with a 200 and no event, ending at once, as a proxy that does not pass streams
    /// through; otherwise the stream is forwarded, and being read in full, never answers.
    /// </summary>
    public bool EndStreamsAtOnce { get; set; }

    /// <summary>Answers a request (and the length of its body) itself, without forwarding it, when this gives a status (and <c>Retry-After</c> seconds, if any).</summary>
    public Func<HttpRequest, long, (int Status, int? RetryAfterSeconds)?> AnswerInstead { get; set; } = (_, _) => null;

    /// <summary>How many stream requests reached the proxy.</summary>
    public int StreamRequests => Volatile.Read(ref _streamRequests);

    private int _streamRequests;

    /// <summary>When each stream request reached the proxy, from its start.</summary>
    public ConcurrentQueue<TimeSpan> StreamRequestTimes { get; } = new();

    private readonly Stopwatch _clock = Stopwatch.StartNew();

    /// <summary>Every request forwarded (or answered by <see cref="AnswerInstead"/>), in order, and whether its answer was lost.</summary>
    public ConcurrentQueue<ForwardedRequest> Forwarded { get; } = new();

    public static async Task<LossyProxy> StartAsync(Uri server, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build();
        var proxy = new LossyProxy(app, new HttpClient { BaseAddress = server });
        app.Run(proxy.ForwardAsync);
        await app.StartOrDisposeAsync(cancellationToken);
        return proxy;
    }

    private async Task ForwardAsync(HttpContext context)
    {
        if (context.Request.Path == "/api/sdk/stream")
        {
            Interlocked.Increment(ref _streamRequests);
            StreamRequestTimes.Enqueue(_clock.Elapsed);
            if (EndStreamsAtOnce)
            {
                context.Response.ContentType = "text/event-stream";
                return;
            }
        }
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted);
        if (AnswerInstead(context.Request, body.Length) is var (status, retryAfter))
        {
            Forwarded.Enqueue(new ForwardedRequest(context.Request.Method, context.Request.Path, context.Request.Headers["Idempotency-Key"].ToString(),
                System.Text.Encoding.UTF8.GetString(body.ToArray()), status));
            context.Response.StatusCode = status;
            if (retryAfter is { } seconds) context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return;
        }
        using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), context.Request.Path + context.Request.QueryString);
        if (body.Length > 0) request.Content = new ByteArrayContent(body.ToArray());
        foreach (var (name, values) in context.Request.Headers)
        {
            if (name.Equals("Host", StringComparison.OrdinalIgnoreCase)) continue;
            if (!request.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values)) request.Content?.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
        }
        using var response = await _server.SendAsync(request, context.RequestAborted);
        var answer = await response.Content.ReadAsByteArrayAsync(context.RequestAborted);

        var forwarded = new ForwardedRequest(context.Request.Method, context.Request.Path, context.Request.Headers["Idempotency-Key"].ToString(),
            System.Text.Encoding.UTF8.GetString(body.ToArray()), (int)response.StatusCode);
        forwarded.AnswerLost = LoseAnswer(forwarded);
        Forwarded.Enqueue(forwarded);
        WhileHoldingAnswer(forwarded);
        if (forwarded.AnswerLost)
        {
            context.Abort();
            return;
        }
        context.Response.StatusCode = (int)response.StatusCode;
        foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
        {
            if (!name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase)) context.Response.Headers[name] = values.ToArray();
        }
        // Kestrel refuses any write, even of nothing, to a 304 (a snapshot not modified): it logged an unhandled exception.
        if (answer.Length > 0) await context.Response.Body.WriteAsync(answer, context.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAndDisposeAsync();
        _server.Dispose();
    }
}

/// <summary>A request the <see cref="LossyProxy"/> forwarded and the server answered with <see cref="Status"/>.</summary>
public sealed record ForwardedRequest(string Method, string Path, string IdempotencyKey, string Body, int Status)
{
    public bool AnswerLost { get; set; }

    /// <summary>When the request reached the proxy.</summary>
    public DateTimeOffset At { get; } = DateTimeOffset.UtcNow;
}
