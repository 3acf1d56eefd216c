using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace PromptVault.Server.Tests;

/// <summary>
/// The one fake the tests allow: a model provider. A real Kestrel server on loopback speaking the OpenAI chat-completions wire
/// format (<c>POST {Endpoint}/chat/completions</c>), answering canned completions with usage and recording every request body.
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

    public static async Task<FakeModelServer> StartAsync(CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new FakeModelServer(app);
        app.MapPost("/v1/chat/completions", server.CompleteAsync);
        await app.StartAsync(cancellationToken);
        return server;
    }

    private async Task<IResult> CompleteAsync(HttpRequest http)
    {
        var request = (await JsonNode.ParseAsync(http.Body, cancellationToken: http.HttpContext.RequestAborted))!.AsObject();
        LastAuthorization = http.Headers.Authorization;
        Requests.Enqueue(request);
        if (Delay > TimeSpan.Zero) await Task.Delay(Delay, http.HttpContext.RequestAborted);
        if (Status != StatusCodes.Status200OK)
            return Results.Json(new { error = new { message = "the fake provider is failing", type = "server_error" } }, statusCode: Status);
        return Results.Json(new
        {
            id = "chatcmpl-" + Requests.Count,
            @object = "chat.completion",
            created = 1_764_547_200,
            model = (string?)request["model"],
            choices = new[] { new { index = 0, message = new { role = "assistant", content = Answer(request) }, finish_reason = "stop" } },
            usage = new { prompt_tokens = PromptTokens, completion_tokens = CompletionTokens, total_tokens = PromptTokens + CompletionTokens },
        });
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
