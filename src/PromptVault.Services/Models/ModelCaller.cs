using PromptVault.Core;
using System.ClientModel;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using PromptVault.Core.Contracts;
using PromptVault.Core.Metrics;
using PromptVault.Core.Prompts;

namespace PromptVault.Core.Models;

/// <summary>A model's answer to one rendered version, with what it took and cost.</summary>
/// <param name="ModelId">The model id asked for (the version's <c>metadata.model</c>, else the configured model's).</param>
/// <param name="Cost">From the <see cref="PriceTable"/>; null when the model has no price or the provider reported no usage.</param>
public sealed record ModelAnswer(string Output, string ModelId, double LatencyMs, long? InputTokens, long? OutputTokens, double? Cost);

/// <summary>
/// Sends a rendered version to a configured model with the version's settings as <see cref="ChatOptions"/>, and measures the
/// answer: the one model call that the playground and evaluations share. Thread-safe.
/// </summary>
public sealed class ModelCaller(PriceTable prices, TimeProvider time, ILogger<ModelCaller> logger)
{
    /// <summary>Asks <paramref name="model"/> to answer <paramref name="render"/>, with the rendered version's settings.</summary>
    /// <exception cref="UpstreamFailedException">The provider answered with an error, could not be reached, or did not answer in time.</exception>
    public Task<ModelAnswer> AnswerAsync(ConfiguredModel model, RenderResponse render, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(render);
        return AnswerAsync(model, MessagesOf(render), render.Metadata.ToChatOptions(), cancellationToken);
    }

    /// <summary>
    /// Asks <paramref name="model"/> to answer <paramref name="messages"/> (e.g. a judge's rubric and the answer to grade);
    /// <paramref name="options"/> without a model id get the configured one (on a copy).
    /// </summary>
    /// <exception cref="UpstreamFailedException">The provider answered with an error, could not be reached, or did not answer in time.</exception>
    public async Task<ModelAnswer> AnswerAsync(ConfiguredModel model, IList<ChatMessage> messages, ChatOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(messages);
        ArgumentNullException.ThrowIfNull(options);
        options = options.Clone(); // the caller's stay as they were
        options.ModelId ??= model.DefaultModelId;
        var started = time.GetTimestamp();
        ChatResponse response;
        try
        {
            response = await model.Client.GetResponseAsync(messages, options, cancellationToken);
        }
        catch (Exception e) when (Describe(e) is { } error)
        {
            Log.ModelCallFailed(logger, model.Name, options.ModelId, error);
            throw new UpstreamFailedException("model_error", $"model '{model.Name}' ({options.ModelId}) failed: {error}");
        }
        var latency = time.GetElapsedTime(started).TotalMilliseconds;
        var input = response.Usage?.InputTokenCount;
        var output = response.Usage?.OutputTokenCount;
        return new ModelAnswer(response.Text, options.ModelId, latency, input, output, CostOf(model, options.ModelId, response.ModelId, input, output));
    }

    /// <summary>The answer's cost, held to <see cref="MetricEventRules.MaxCost"/> as a cost a metric event sends is; null when the model has no price or no usage came.</summary>
    /// <exception cref="UpstreamFailedException">The usage prices above that: the provider's token counts or the model's configured price are wrong.</exception>
    private double? CostOf(ConfiguredModel model, string? askedFor, string? answeredBy, long? input, long? output)
    {
        // Priced by the id asked for: providers often answer with a dated id (gpt-4o-mini-2024-07-18) that no price table lists.
        if ((prices.Find(askedFor) ?? prices.Find(answeredBy)) is not { } price || (input is null && output is null))
            return null;
        try
        {
            return MetricEventRules.PricedCost(price, input, output, $"model '{model.Name}' ({askedFor}) answered, and its usage priced",
                "Check the model's price (PromptVault:Prices) and the provider's token counts.");
        }
        catch (InvalidInputException e)
        {
            throw new UpstreamFailedException("model_error", e.Message);
        }
    }

    /// <summary>
    /// The one place a render becomes the messages sent to a model: a text render is one user message, a chat render's
    /// messages go role by role.
    /// </summary>
    internal static List<ChatMessage> MessagesOf(RenderResponse render) => render.Messages is { } messages
        ? messages.Select(m => new ChatMessage(new ChatRole(Names.Of(m.Role)), m.Content)).ToList()
        : [new(ChatRole.User, render.Content)];

    /// <summary>What went wrong with the provider, for the caller; null for anything else (a bug, or the caller giving up), which is not caught.</summary>
    internal static string? Describe(Exception e) => e switch
    {
        ClientResultException { Status: > 0 } failed => $"the provider answered HTTP {failed.Status}{ErrorOf(failed)}",
        UnreadableAnswerException => $"{e.Message}{Detail(e.InnerException!.Message)}",
        ClientResultException or HttpRequestException => $"the provider could not be reached{Detail((e.InnerException ?? e).Message)}",
        TimeoutException or AnswerTooLargeException => e.Message,
        _ => null,
    };

    /// <summary>": " and the text on one line, its runs of white space single spaces, shortened; nothing when there is no text.</summary>
    private static string Detail(string text) =>
        string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)) is { Length: > 0 } line ? $": {PromptRules.Shorten(line)}" : "";

    /// <summary>
    /// What a provider's error answer says: an OpenAI-style <c>{ "error": { "message", "type", "code" } }</c> as " (type, code): message"
    /// with the empty parts left out, else the body as it came (a proxy's page). Not the SDK's message, which keeps the empty parts
    /// ("HTTP 503 (server_error: )") and repeats the status.
    /// </summary>
    private static string ErrorOf(ClientResultException failed)
    {
        var body = failed.GetRawResponse()?.Content?.ToString() ?? "";
        JsonNode? error;
        try
        {
            error = JsonNode.Parse(body) is JsonObject answer ? answer["error"] : null;
        }
        catch (JsonException)
        {
            return Detail(body);
        }
        if (error is not JsonObject fields)
            return Detail(error is JsonValue ? Text(error) : body);
        var kinds = string.Join(", ", new[] { fields["type"], fields["code"] }.Select(Text).Where(t => t.Length > 0));
        return (kinds.Length == 0 ? "" : $" ({kinds})") + Detail(Text(fields["message"]));

        static string Text(JsonNode? node) => node is JsonValue value ? value.ToString().Trim() : "";
    }
}
