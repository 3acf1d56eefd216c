using System.Security.Cryptography;
using System.Text;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace PromptVault.Server.Tests.Webhooks;

/// <summary>A real webhook receiver on loopback Kestrel that checks each delivery's signature with the secret, independently of the server's code.</summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;

    private WebhookReceiver(WebApplication app, Channel<ReceivedDelivery> received)
    {
        _app = app;
        Url = new Uri(new Uri(app.Urls.First()), "/hook");
        Received = received.Reader;
    }

    public Uri Url { get; }

    public ChannelReader<ReceivedDelivery> Received { get; }

    /// <summary>The status code answered from now on (200 by default).</summary>
    public int Status { get; set; } = 200;

    public string? Secret { get; set; }

    /// <summary>Whether requests from now on are held open until the sender gives up (each still reported, answered with 0).</summary>
    public bool Hang { get; set; }

    /// <summary>What requests from now on wait for before they are answered (each reported at once); completed by default.</summary>
    public Task Gate { get; set; } = Task.CompletedTask;

    /// <summary>
    /// Whether the receiver is down: requests from now on get no answer, their connection reset before anything is read, and
    /// are not reported. The receiver keeps its port, so it comes back at the same URL: a receiver stopped and started again
    /// on the port it released would fail by chance whenever another process took that port in between.
    /// </summary>
    public bool Down { get; set; }

    /// <summary>Starts a receiver on a port of its own.</summary>
    public static async Task<WebhookReceiver> StartAsync(CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var received = Channel.CreateUnbounded<ReceivedDelivery>();
        WebhookReceiver? receiver = null;
        app.Use((context, next) =>
        {
            if (!receiver!.Down) return next(context);
            context.Abort();
            return Task.CompletedTask;
        });
        app.MapPost("/hook", async (HttpRequest request) =>
        {
            using var reader = new StreamReader(request.Body, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            var timestamp = request.Headers["X-PromptVault-Timestamp"].ToString();
            var signature = request.Headers["X-PromptVault-Signature"].ToString();
            var expected = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(receiver!.Secret ?? ""),
                Encoding.UTF8.GetBytes($"{timestamp}.{body}")));
            var status = receiver.Hang ? 0 : receiver.Status;
            var gate = receiver.Gate;
            await received.Writer.WriteAsync(new ReceivedDelivery(request.Headers["X-PromptVault-Event"].ToString(), timestamp,
                long.Parse(request.Headers["X-PromptVault-Delivery"].ToString()), body,
                CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(signature)), status)
            {
                Authorization = request.Headers.Authorization.ToString(),
            });
            if (status == 0)
            {
                try { await Task.Delay(Timeout.Infinite, request.HttpContext.RequestAborted); }
                catch (OperationCanceledException) { /* the sender gave up */ }
                return Results.Empty;
            }
            await gate;
            return Results.StatusCode(status);
        });
        await app.StartOrDisposeAsync(cancellationToken);
        receiver = new WebhookReceiver(app, received);
        return receiver;
    }

    /// <summary>The next delivery answered with 2xx, skipping refused ones; fails after <paramref name="timeout"/>.</summary>
    public async Task<ReceivedDelivery> NextAcceptedAsync(TimeSpan timeout)
    {
        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        waiting.CancelAfter(timeout);
        return await Received.ReadAllAsync(waiting.Token).FirstAsync(d => d.AnsweredWith is >= 200 and < 300, waiting.Token);
    }

    public async ValueTask DisposeAsync() => await _app.StopAndDisposeAsync();
}

public sealed record ReceivedDelivery(string Event, string Timestamp, long DeliveryId, string Body, bool SignatureValid, int AnsweredWith)
{
    /// <summary>The request's <c>Authorization</c> header; empty when none was sent.</summary>
    public string Authorization { get; init; } = "";
}
