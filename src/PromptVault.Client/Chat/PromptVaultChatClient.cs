using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using PromptVault.Core.Metrics;
using PromptVault.Client.Snapshots;

namespace PromptVault.Client.Chat;

/// <summary>
/// An <see cref="IChatClient"/> middleware: for each call it resolves the prompt for the call's unit, sends the rendered prompt
/// before the caller's messages with the version's model settings, and records a metric event for the version and variant
/// (latency, tokens, cost, error; time to first token when streaming).
/// </summary>
/// <remarks>
/// The caller's messages and options are never changed: both are copied. The version's settings win over the caller's where the
/// version sets them, as they are part of what is versioned and tested. When no snapshot can be had, the call goes out without
/// the prompt (logged) rather than failing. Each response's <see cref="ChatResponse.AdditionalProperties"/> carry
/// <see cref="ResolutionIdProperty"/>, <see cref="VersionIdProperty"/> and <see cref="VariantIdProperty"/>. Thread-safe.
/// </remarks>
public sealed class PromptVaultChatClient : DelegatingChatClient
{
    /// <summary>The <see cref="ChatOptions.AdditionalProperties"/> key of the call's unit id: <c>promptvault.unit_id</c>.</summary>
    public const string UnitIdProperty = "promptvault.unit_id";

    /// <summary>The <see cref="ChatOptions.AdditionalProperties"/> key of the call's template variables: <c>promptvault.variables</c>.</summary>
    public const string VariablesProperty = "promptvault.variables";

    /// <summary>The response property holding the <see cref="ResolvedPrompt.ResolutionId"/>, for later feedback.</summary>
    public const string ResolutionIdProperty = "promptvault.resolution_id";

    /// <summary>The response property holding the id of the version used.</summary>
    public const string VersionIdProperty = "promptvault.version_id";

    /// <summary>The response property holding the experiment variant used, when an experiment chose the version.</summary>
    public const string VariantIdProperty = "promptvault.variant_id";

    private readonly IPromptVault _vault;
    private readonly PromptVaultChatOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    /// <summary>Wraps <paramref name="innerClient"/>.</summary>
    /// <exception cref="ArgumentException"><see cref="PromptVaultChatOptions.PromptName"/> is not set.</exception>
    public PromptVaultChatClient(IChatClient innerClient, IPromptVault vault, PromptVaultChatOptions options, TimeProvider? timeProvider = null, ILogger? logger = null)
        : base(innerClient)
    {
        ArgumentNullException.ThrowIfNull(vault);
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.PromptName))
            throw new ArgumentException("PromptVaultChatOptions.PromptName is required: the prompt to resolve for each call.", nameof(options));
        _vault = vault;
        _options = options;
        _time = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <inheritdoc />
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var resolved = await ResolveAsync(options, cancellationToken).ConfigureAwait(false);
        if (resolved is null) return await base.GetResponseAsync(messages, options, cancellationToken).ConfigureAwait(false);

        using var activity = StartChat(resolved);
        var started = _time.GetTimestamp();
        ChatResponse response;
        try
        {
            response = await base.GetResponseAsync(Messages(resolved, messages), Options(resolved, options), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            await RecordAsync(resolved, started, null, null, null, ErrorKind(e), activity).ConfigureAwait(false);
            throw;
        }
        await RecordAsync(resolved, started, null, response.Usage, response.ModelId, null, activity).ConfigureAwait(false);
        Stamp(response.AdditionalProperties ??= [], resolved);
        return response;
    }

    /// <inheritdoc />
    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var resolved = await ResolveAsync(options, cancellationToken).ConfigureAwait(false);
        if (resolved is null)
        {
            await foreach (var update in base.GetStreamingResponseAsync(messages, options, cancellationToken).ConfigureAwait(false))
                yield return update;
            yield break;
        }

        using var activity = StartChat(resolved);
        var started = _time.GetTimestamp();
        TimeSpan? firstToken = null;
        UsageDetails? usage = null;
        string? model = null;
        string? error = "cancelled"; // until the stream ends: a caller that stops reading early cancelled the rest
        var enumerator = base.GetStreamingResponseAsync(Messages(resolved, messages), Options(resolved, options), cancellationToken).GetAsyncEnumerator(cancellationToken);
        try
        {
            while (true)
            {
                ChatResponseUpdate update;
                try
                {
                    if (!await enumerator.MoveNextAsync().ConfigureAwait(false))
                    {
                        error = null;
                        break;
                    }
                    update = enumerator.Current;
                }
                catch (Exception e)
                {
                    error = ErrorKind(e);
                    throw;
                }
                firstToken ??= _time.GetElapsedTime(started);
                model ??= update.ModelId;
                foreach (var content in update.Contents)
                {
                    if (content is UsageContent { Details: var details })
                    {
                        usage ??= new UsageDetails();
                        usage.Add(details);
                    }
                }
                Stamp(update.AdditionalProperties ??= [], resolved);
                yield return update;
            }
        }
        finally
        {
            await enumerator.DisposeAsync().ConfigureAwait(false);
            await RecordAsync(resolved, started, firstToken, usage, model, error, activity).ConfigureAwait(false);
        }
    }

    /// <exception cref="ArgumentException">The entry is there but not a <typeparamref name="T"/>: it would otherwise count as absent,
    /// and a call meant for a unit or with variables would go out without them, its refusal naming a variable instead.</exception>
    internal static T? Property<T>(ChatOptions? options, string key) where T : class =>
        options?.AdditionalProperties is { } properties && properties.TryGetValue(key, out var value) && value is not null
            ? value as T ?? throw new ArgumentException(
                $"ChatOptions.AdditionalProperties[\"{key}\"] is a {value.GetType()}; it must be a {typeof(T)}.", nameof(options))
            : null;

    private async Task<ResolvedPrompt?> ResolveAsync(ChatOptions? options, CancellationToken cancellationToken)
    {
        try
        {
            return await _vault.GetPromptAsync(_options.PromptName!, _options.Variables(options), _options.UnitId(options), _options.Label, _options.Version,
                cancellationToken).ConfigureAwait(false);
        }
        catch (PromptVaultUnavailableException e)
        {
            Log.ChatWithoutPrompt(_logger, _options.PromptName!, e);
            return null;
        }
        catch (Core.InvalidInputException e) when (e.PromptName is null)
        {
            // The chat call does not name the prompt (the middleware's options do): the caller reading this error would not know which.
            // A render's refusal names it (and the version) already.
            throw new Core.InvalidInputException(e.Code, $"prompt '{_options.PromptName}' refused the call: {e.Message}", e.Field);
        }
    }

    private static List<ChatMessage> Messages(ResolvedPrompt resolved, IEnumerable<ChatMessage> messages) => [.. resolved.Messages, .. messages];

    private static ChatOptions Options(ResolvedPrompt resolved, ChatOptions? options)
    {
        var merged = options?.Clone() ?? new ChatOptions();
        var version = resolved.Options;
        merged.ModelId = version.ModelId ?? merged.ModelId;
        merged.Temperature = version.Temperature ?? merged.Temperature;
        merged.MaxOutputTokens = version.MaxOutputTokens ?? merged.MaxOutputTokens;
        merged.TopP = version.TopP ?? merged.TopP;
        merged.FrequencyPenalty = version.FrequencyPenalty ?? merged.FrequencyPenalty;
        merged.PresencePenalty = version.PresencePenalty ?? merged.PresencePenalty;
        merged.ResponseFormat = version.ResponseFormat ?? merged.ResponseFormat;
        merged.Tools = ToolOptions.Merge(merged.Tools, version.Tools);
        return merged;
    }

    private static Activity? StartChat(ResolvedPrompt resolved)
    {
        var activity = ClientTelemetry.Source.StartActivity(ClientTelemetry.ChatSpan, ActivityKind.Client);
        ClientTelemetry.Tag(activity, resolved);
        return activity;
    }

    private async ValueTask RecordAsync(ResolvedPrompt resolved, long started, TimeSpan? firstToken, UsageDetails? usage, string? model, string? error, Activity? activity)
    {
        var latency = _time.GetElapsedTime(started);
        if (error is not null) activity?.SetStatus(ActivityStatusCode.Error, error);
        model ??= resolved.Options.ModelId;
        var priced = _options.Prices?.CostOf(model, usage?.InputTokenCount, usage?.OutputTokenCount);
        var outcome = new PromptOutcome
        {
            Latency = latency,
            InputTokens = usage?.InputTokenCount,
            OutputTokens = usage?.OutputTokenCount,
            Cost = MetricEventRules.PricedEventCost(priced),
            Error = error,
            Metadata = firstToken is { } first
                ? JsonSerializer.SerializeToElement(new Dictionary<string, double> { ["timeToFirstTokenMs"] = first.TotalMilliseconds }, ChatJson.Default.DictionaryStringDouble)
                : null,
        };
        if (priced is not null && outcome.Cost is null)
            Log.ChatEventWithoutCost(_logger, _options.PromptName!, model, outcome.InputTokens, outcome.OutputTokens, priced,
                string.Create(CultureInfo.InvariantCulture, $"a cost must be at most {MetricEventRules.MaxCost:N0}"));
        try
        {
            await _vault.RecordAsync(resolved, outcome).ConfigureAwait(false);
        }
        catch (ArgumentException e)
        {
            // These values come from the model's answer, not from the caller: one the server would refuse drops the event,
            // never the answer the caller is waiting for.
            Log.ChatEventDropped(_logger, _options.PromptName!, model, outcome.InputTokens, outcome.OutputTokens, outcome.Cost, e.Message);
        }
    }

    private static void Stamp(AdditionalPropertiesDictionary properties, ResolvedPrompt resolved)
    {
        properties[ResolutionIdProperty] = resolved.ResolutionId;
        properties[VersionIdProperty] = resolved.VersionId;
        if (resolved.VariantId is not null) properties[VariantIdProperty] = resolved.VariantId;
    }

    /// <summary>A short error kind for the event: <c>timeout</c>, <c>cancelled</c>, or the exception's type name.</summary>
    private static string ErrorKind(Exception e) => e switch
    {
        TimeoutException => "timeout",
        OperationCanceledException => "cancelled",
        _ => e.GetType().Name,
    };
}

[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, double>))]
internal sealed partial class ChatJson : System.Text.Json.Serialization.JsonSerializerContext;
