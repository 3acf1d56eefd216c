using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace PromptVault.Server.Tests;

/// <summary>One scripted reply: the answer's text, or an error status; the wait before it; the usage it reports; or, when
/// <paramref name="Body"/> is set, that body verbatim (a provider or proxy answering something that is not a completion); a
/// <c>Retry-After</c> header, as a rate-limited provider sends with a 429; a <paramref name="Gate"/> the reply waits for after its
/// request is recorded, which a test opens (completes) when it has done what must happen while the model is answering; and
/// <paramref name="Asked"/>, completed when its request is recorded, for the test to wait for.</summary>
public sealed record FakeReply(string Content, int Status = StatusCodes.Status200OK, TimeSpan Delay = default, int PromptTokens = 120, int CompletionTokens = 30,
    string? Body = null, TimeSpan? RetryAfter = null, Task? Gate = null, TaskCompletionSource? Asked = null);

/// <summary>
/// The one fake the tests allow: a model provider. A real Kestrel server on loopback speaking the OpenAI chat-completions wire
/// format (<c>POST {Endpoint}/chat/completions</c>), answering canned completions with usage and recording every request body.
/// A request with <c>"stream": true</c> is answered as server-sent events, one <c>chat.completion.chunk</c> per word.
/// </summary>
public sealed class FakeModelServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FakeModelServer(WebApplication app) => _app = app;

    /// <summary>The base URL to configure as <c>PromptVault:Models:{name}:Endpoint</c>.</summary>
    public string Endpoint => _app.Urls.First() + "/v1";

    /// <summary>Every chat-completions request body received, in order.</summary>
    public ConcurrentQueue<JsonObject> Requests { get; } = new();

    /// <summary>The <c>Authorization</c> header of the last request.</summary>
    public string? LastAuthorization { get; private set; }

    /// <summary>The answer to a request; by default "answer to: " and the last message's content.</summary>
    public Func<JsonObject, string> Answer { get; set; } = request => "answer to: " + request["messages"]!.AsArray().Last()!["content"];

    /// <summary>The status to answer with; anything but 200 answers an OpenAI-style error body.</summary>
    public int Status { get; set; } = StatusCodes.Status200OK;

    /// <summary>How long to wait before answering.</summary>
    public TimeSpan Delay { get; set; }

    public int PromptTokens { get; set; } = 120;

    public int CompletionTokens { get; set; } = 30;

    /// <summary>The most requests this server has been answering at once.</summary>
    public int MaxInFlight => _maxInFlight;

    public void ResetMaxInFlight() => Interlocked.Exchange(ref _maxInFlight, 0);

    private int _inFlight;
    private int _maxInFlight;

    /// <summary>When set, the reply to each request (by its body); overrides <see cref="Answer"/>, <see cref="Status"/>, <see cref="Delay"/> and the token counts.</summary>
    public Func<JsonObject, FakeReply>? Script { get; set; }

    public static async Task<FakeModelServer> StartAsync(CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new FakeModelServer(app);
        app.MapPost("/v1/chat/completions", server.CompleteAsync);
        await app.StartOrDisposeAsync(cancellationToken);
        return server;
    }

    private async Task<IResult> CompleteAsync(HttpRequest http)
    {
        var request = (await JsonNode.ParseAsync(http.Body, cancellationToken: http.HttpContext.RequestAborted))!.AsObject();
        LastAuthorization = http.Headers.Authorization;
        Requests.Enqueue(request);
        var reply = Script?.Invoke(request) ?? new FakeReply(Answer(request), Status, Delay, PromptTokens, CompletionTokens);
        reply.Asked?.TrySetResult();
        var inFlight = Interlocked.Increment(ref _inFlight);
        try
        {
            InterlockedMax(ref _maxInFlight, inFlight);
            if (reply.Delay > TimeSpan.Zero) await Task.Delay(reply.Delay, http.HttpContext.RequestAborted);
            if (reply.Gate is { } gate) await gate.WaitAsync(http.HttpContext.RequestAborted);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
        if (reply.RetryAfter is { } retryAfter)
            http.HttpContext.Response.Headers.RetryAfter = ((int)retryAfter.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (reply.Body is not null)
            return Results.Content(reply.Body, "application/json", statusCode: reply.Status);
        if (reply.Status != StatusCodes.Status200OK)
            return Results.Json(new { error = new { message = "the fake provider is failing", type = "server_error" } }, statusCode: reply.Status);
        var id = "chatcmpl-" + Requests.Count;
        var model = (string?)request["model"];
        var usage = new { prompt_tokens = reply.PromptTokens, completion_tokens = reply.CompletionTokens, total_tokens = reply.PromptTokens + reply.CompletionTokens };
        if ((bool?)request["stream"] == true)
            return Results.ServerSentEvents(StreamAsync(id, model, reply.Content, usage, http.HttpContext.RequestAborted));
        return Results.Json(new
        {
            id,
            @object = "chat.completion",
            created = Created,
            model,
            choices = new[] { new { index = 0, message = new { role = "assistant", content = reply.Content }, finish_reason = "stop" } },
            usage,
        });
    }

    private static void InterlockedMax(ref int location, int value)
    {
        for (var seen = Volatile.Read(ref location); value > seen; seen = Volatile.Read(ref location))
            if (Interlocked.CompareExchange(ref location, value, seen) == seen) return;
    }

    private const long Created = 1_764_547_200;

    /// <summary>The chat-completions stream: a chunk per word, one with the finish reason, one with the usage, then <c>[DONE]</c>.</summary>
    private static async IAsyncEnumerable<string> StreamAsync(string id, string? model, string content, object usage,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string Chunk(object? delta, string? finishReason, object? usage = null) => JsonSerializer.Serialize(new
        {
            id,
            @object = "chat.completion.chunk",
            created = Created,
            model,
            choices = delta is null ? [] : new[] { new { index = 0, delta, finish_reason = finishReason } },
            usage,
        });

        yield return Chunk(new { role = "assistant", content = "" }, null);
        foreach (var word in System.Text.RegularExpressions.Regex.Split(content, @"(?<=\s)"))
        {
            await Task.Yield();
            cancellationToken.ThrowIfCancellationRequested();
            if (word.Length > 0) yield return Chunk(new { content = word }, null);
        }
        yield return Chunk(new { }, "stop");
        yield return Chunk(null, null, usage);
        yield return "[DONE]";
    }

    public async ValueTask DisposeAsync() => await _app.StopAndDisposeAsync();
}
