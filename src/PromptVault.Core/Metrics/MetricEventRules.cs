using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using PromptVault.Core.Contracts;
using PromptVault.Core.Prompts;

namespace PromptVault.Core.Metrics;

/// <summary>
/// Checks metric events as sent (SPEC §4) and turns them into <see cref="MetricEvent"/>s. The first problem throws an
/// <see cref="InvalidInputException"/> whose field is the JSON path (<c>events[3].latencyMs</c>), so a refused batch
/// stores nothing. An event that carries tokens but no cost is priced as it is made, at the caller's price of its version's
/// model, and recorded without a cost when that comes to more than <see cref="MaxCost"/> (<see cref="PricedEventCost"/>).
/// </summary>
/// <remarks>
/// Upper bounds keep one mistaken event (a unit error, a runaway counter) from swamping a version's means and sums for good.
/// Scores are any non-negative scale: negative numbers are refused everywhere (SPEC §4), and a relative difference
/// between variants only means something on a scale whose zero is "none".
/// </remarks>
public static class MetricEventRules
{
    public const int MaxBatchSize = 1_000;

    /// <summary>The longest <c>id</c>, <c>versionId</c>, <c>experimentId</c>, <c>variantId</c> or <c>unitId</c>.</summary>
    public const int MaxIdLength = 256;

    /// <summary>The longest <c>error</c>: a short error kind such as <c>timeout</c>, not a stack trace.</summary>
    public const int MaxErrorLength = 200;

    /// <summary>The most characters of JSON text in <c>metadata</c>.</summary>
    public const int MaxMetadataLength = 8_192;

    /// <summary>One week: within the latency histogram's range, so percentiles stay within 1%.</summary>
    public const double MaxLatencyMs = 604_800_000;

    /// <summary>Ten times the largest context windows offered.</summary>
    public const long MaxTokens = 100_000_000;

    public const double MaxCost = 100_000;

    /// <summary>The largest <c>qualityScore</c> or <c>userFeedback</c>.</summary>
    public const double MaxScore = 1_000_000;

    /// <summary>
    /// The largest value a unit can have on <paramref name="metric"/>, a mean over its events of values these rules cap
    /// (1 for a rate; <see cref="MaxCost"/> for a cost, sent or priced from tokens).
    /// </summary>
    public static double MaxOf(MetricName metric) => metric switch
    {
        MetricName.ConversionRate or MetricName.ErrorRate => 1,
        MetricName.AvgLatencyMs => MaxLatencyMs,
        MetricName.AvgQualityScore or MetricName.AvgUserFeedback => MaxScore,
        MetricName.AvgCost => MaxCost,
        _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, "not a metric of an experiment"),
    };

    /// <summary>How far ahead of the server's clock a timestamp may be (the sender's clock running fast).</summary>
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromMinutes(5);

    /// <summary>Checks a batch, all or nothing: 1 to <see cref="MaxBatchSize"/> events, each as in <see cref="Validate"/>.</summary>
    /// <param name="receivedAt">The time of receipt: the timestamp of events that carry none.</param>
    /// <param name="priceOf">As in <see cref="Validate"/>.</param>
    /// <exception cref="InvalidInputException">The first problem found, naming <c>events[i].field</c>.</exception>
    public static IReadOnlyList<MetricEvent> ValidateBatch(MetricBatchRequest request, DateTimeOffset receivedAt,
        TokenPrice? priceOf = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        var requests = RequireBatch(request.Events, "events", "metric events");
        var events = new MetricEvent[requests.Count];
        for (var i = 0; i < requests.Count; i++)
        {
            events[i] = requests[i] is { } one
                ? ToEvent(one, receivedAt, priceOf, BatchItemPath.InBatch("events", i))
                : throw new InvalidInputException("missing_event", $"events[{i}] is null; each entry is a metric event object.", $"events[{i}]");
        }
        return events;
    }

    /// <summary>Checks one event sent on its own; errors name the bare field (<c>latencyMs</c>).</summary>
    /// <param name="receivedAt">The time of receipt: the timestamp when the event carries none, and the limit of a future one.</param>
    /// <param name="priceOf">
    /// The price of tokens on a version's model, for an event that carries tokens but no cost; asked once such an event's
    /// fields are all valid. A cost that was sent is kept. Without it (the default) or a price, such an event has no cost.
    /// </param>
    /// <exception cref="InvalidInputException">The first problem found.</exception>
    public static MetricEvent Validate(MetricEventRequest request, DateTimeOffset receivedAt, TokenPrice? priceOf = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        return ToEvent(request, receivedAt, priceOf, BatchItemPath.Alone);
    }

    /// <summary>Checks that a batch's list (a request's <paramref name="field"/>) holds 1 to <see cref="MaxBatchSize"/> entries.</summary>
    /// <param name="entries">What the entries are, in words: <c>metric events</c>.</param>
    /// <exception cref="InvalidInputException"><c>missing_{field}</c>, <c>empty_batch</c> or <c>too_many</c>.</exception>
    public static IReadOnlyList<T> RequireBatch<T>(IReadOnlyList<T>? list, string field, string entries)
    {
        if (list is null)
            throw new InvalidInputException($"missing_{field}", $"{field} is required: a list of 1 to {MaxBatchSize:N0} {entries}.", field);
        if (list.Count == 0)
            throw new InvalidInputException("empty_batch", $"{field} is empty; send 1 to {MaxBatchSize:N0} {entries}.", field);
        if (list.Count > MaxBatchSize)
            throw new InvalidInputException("too_many",
                $"{field} has {list.Count:N0} entries; the limit is {MaxBatchSize:N0} a batch, so split it.", field);
        return list;
    }

    /// <summary>Checks text that must be sent: present, not blank, at most <paramref name="maxLength"/> characters.</summary>
    /// <exception cref="InvalidInputException"><c>missing_field</c>, <c>blank_field</c> or <c>too_long</c>, naming the field.</exception>
    internal static string RequiredText(string? value, int maxLength, BatchItemPath path, string name)
    {
        if (value is null)
            throw new InvalidInputException("missing_field", $"{path.Of(name)} is required.", path.Of(name));
        if (string.IsNullOrWhiteSpace(value))
            throw new InvalidInputException("blank_field", $"{path.Of(name)} is blank; send a value.", path.Of(name));
        if (value.Length > maxLength)
            PromptRules.ValidateLength(value, maxLength, path.Of(name));
        return value;
    }

    private static MetricEvent ToEvent(MetricEventRequest request, DateTimeOffset receivedAt, TokenPrice? priceOf,
        BatchItemPath path)
    {
        var id = OptionalText(request.Id, MaxIdLength, path, "id");
        var versionId = OptionalText(request.VersionId, MaxIdLength, path, "versionId")
            ?? throw new InvalidInputException("missing_version_id", $"{path.Of("versionId")} is required: the id of the version that was called.", path.Of("versionId"));
        var experimentId = OptionalText(request.ExperimentId, MaxIdLength, path, "experimentId");
        var variantId = OptionalText(request.VariantId, MaxIdLength, path, "variantId");
        if (variantId is not null && experimentId is null)
            throw Unpaired("missing_experiment_id", path, "variantId", "experimentId");
        if (experimentId is not null && variantId is null)
            throw Unpaired("missing_variant_id", path, "experimentId", "variantId");
        var unitId = OptionalText(UnitId(request.UnitId, path), Experiments.Assignment.MaxUnitIdLength, path, "unitId");
        var timestamp = Timestamp(request.Timestamp, receivedAt, path, "timestamp");
        var values = Values(request.LatencyMs, request.InputTokens, request.OutputTokens, request.Cost, request.QualityScore,
            request.UserFeedback, request.Error, request.Metadata, path);
        var (cost, priced) = (values.Cost, (double?)null);
        if (cost is null && (values.InputTokens is not null || values.OutputTokens is not null) && priceOf?.Invoke(versionId) is { } price)
            cost = PricedEventCost(priced = price.CostOf(values.InputTokens, values.OutputTokens));
        return new MetricEvent(id, versionId, experimentId, variantId, unitId, timestamp, values.LatencyMs, values.InputTokens, values.OutputTokens, cost,
            values.QualityScore, values.UserFeedback, request.Converted, values.Error, values.Metadata)
        {
            CostAboveMax = cost is null ? priced : null,
        };
    }

    /// <summary>
    /// Checks what an event says of its call, as <see cref="Validate"/> does (the same rule), for a sender that checks it before
    /// queuing the event (the SDK), so a value the server would refuse is refused to its caller rather than dropped later.
    /// </summary>
    /// <exception cref="InvalidInputException">The first problem found, naming the bare field (<c>userFeedback</c>).</exception>
    public static void ValidateValues(string? id, double? latencyMs, long? inputTokens, long? outputTokens, double? cost, double? qualityScore,
        double? userFeedback, string? error, JsonElement? metadata)
    {
        OptionalText(id, MaxIdLength, BatchItemPath.Alone, "id");
        Values(latencyMs, inputTokens, outputTokens, cost, qualityScore, userFeedback, error, metadata, BatchItemPath.Alone);
    }

    private readonly record struct EventValues(double? LatencyMs, long? InputTokens, long? OutputTokens, double? Cost, double? QualityScore,
        double? UserFeedback, string? Error, JsonElement? Metadata);

    private static EventValues Values(double? latencyMs, long? inputTokens, long? outputTokens, double? cost, double? qualityScore,
        double? userFeedback, string? error, JsonElement? metadata, BatchItemPath path) =>
        new(Amount(latencyMs, MaxLatencyMs, path, "latencyMs"),
            WholeAmount(inputTokens, path, "inputTokens"),
            WholeAmount(outputTokens, path, "outputTokens"),
            Amount(cost, MaxCost, path, "cost"),
            Amount(qualityScore, MaxScore, path, "qualityScore"),
            Amount(userFeedback, MaxScore, path, "userFeedback"),
            OptionalText(error, MaxErrorLength, path, "error"),
            Metadata(metadata, path, "metadata"));

    /// <summary>
    /// The cost an event records for what its tokens were priced at (by the server's price table, or the SDK's for a chat
    /// call): that cost, or null above <see cref="MaxCost"/>. A cost sent above it is refused, as the sender's mistake; a
    /// priced one is the price table's, and refusing it would lose the event's latency, tokens and outcome (and its batch's
    /// other events), so the event is recorded without a cost, as one whose model has no price is.
    /// </summary>
    public static double? PricedEventCost(double? pricedCost) => pricedCost <= MaxCost ? pricedCost : null;

    /// <summary>
    /// What the tokens cost at <paramref name="price"/>, held to <see cref="MaxCost"/> like a cost sent: token counts and
    /// prices each within their limits can still come to more. A model's answer's cost (the playground, evaluations); a
    /// metric event's is <see cref="PricedEventCost"/>.
    /// </summary>
    /// <param name="priced">What was priced, opening the refusal; the tokens, prices and cost follow it.</param>
    /// <param name="remedy">What to check, closing the refusal.</param>
    /// <exception cref="InvalidInputException"><c>out_of_range</c>, naming the tokens and prices the cost was priced from.</exception>
    public static double PricedCost(ModelPrice price, long? inputTokens, long? outputTokens, string priced, string remedy, string? field = null)
    {
        ArgumentNullException.ThrowIfNull(price);
        var cost = price.CostOf(inputTokens, outputTokens);
        if (cost <= MaxCost)
            return cost;
        throw new InvalidInputException("out_of_range",
            $"{priced} ({inputTokens ?? 0:N0} input tokens at {price.InputPerMillion:G} and {outputTokens ?? 0:N0} output tokens at "
            + $"{price.OutputPerMillion:G} per million) cost {cost:G6}; a cost must be at most {MaxCost:N0}. {remedy}", field);
    }

    private static InvalidInputException Unpaired(string code, BatchItemPath path, string present, string missing) =>
        new(code, $"{path.Of(present)} needs {path.Of(missing)}: send both, as a render returned them, or neither.", path.Of(missing));

    /// <summary>A unit id as sent, refused when blank (<see cref="Serving.IsBlankUnitId"/>) with <c>invalid_unit_id</c> naming it.</summary>
    internal static string? UnitId(string? unitId, BatchItemPath path) =>
        Serving.IsBlankUnitId(unitId) ? throw Serving.BlankUnitId(path.Of("unitId")) : unitId;

    /// <summary>Null stays null; blank text is refused rather than guessed at (is <c>error: ""</c> an error?).</summary>
    private static string? OptionalText(string? value, int maxLength, BatchItemPath path, string name)
    {
        if (value is null)
            return null;
        if (string.IsNullOrWhiteSpace(value))
            throw new InvalidInputException("blank_field", $"{path.Of(name)} is blank; leave it out or send a value.", path.Of(name));
        if (value.Length > maxLength)
            PromptRules.ValidateLength(value, maxLength, path.Of(name));
        return value;
    }

    /// <summary>A timestamp slightly ahead (within <see cref="MaxClockSkew"/>) is the sender's clock running fast: it becomes
    /// the time of receipt, so the event is counted in the hour it arrived rather than in one that has not begun.</summary>
    /// <param name="receivedAt">The time of receipt: the timestamp when none was sent, and the limit of a future one.</param>
    /// <exception cref="InvalidInputException"><c>timestamp_in_future</c>, naming the field.</exception>
    internal static DateTimeOffset Timestamp(DateTimeOffset? timestamp, DateTimeOffset receivedAt, BatchItemPath path, string name) =>
        AtOrBefore(timestamp, receivedAt) ?? throw InFuture(timestamp!.Value, receivedAt, path.Of(name));

    /// <summary>The timestamp in UTC, no later than <paramref name="receivedAt"/>; null when it is too far ahead.</summary>
    private static DateTimeOffset? AtOrBefore(DateTimeOffset? timestamp, DateTimeOffset receivedAt)
    {
        var time = timestamp ?? receivedAt;
        if (time - receivedAt > MaxClockSkew)
            return null;
        return (time > receivedAt ? receivedAt : time).ToUniversalTime();
    }

    private static InvalidInputException InFuture(DateTimeOffset time, DateTimeOffset receivedAt, string field) =>
        new("timestamp_in_future",
            $"{field} {time:O} is {(time - receivedAt).TotalMinutes:0.#} minutes ahead of the server's clock ({receivedAt:O}); "
            + $"at most {MaxClockSkew.TotalMinutes:0} minutes is allowed.", field);

    private static double? Amount(double? value, double max, BatchItemPath path, string name, string kind = "a finite number")
    {
        if (value is not { } v)
            return null;
        if (!double.IsFinite(v) || v < 0)
            throw new InvalidInputException("out_of_range", $"{path.Of(name)} must be {kind} ≥ 0, got {v}.", path.Of(name));
        if (v > max)
            throw new InvalidInputException("out_of_range", $"{path.Of(name)} must be at most {max:N0}, got {v}.", path.Of(name));
        return v;
    }

    private static long? WholeAmount(long? value, BatchItemPath path, string name) =>
        (long?)Amount(value, MaxTokens, path, name, "a whole number");

    private static JsonElement? Metadata(JsonElement? metadata, BatchItemPath path, string name)
    {
        if (metadata is not { ValueKind: not (JsonValueKind.Null or JsonValueKind.Undefined) } value)
            return null;
        if (value.ValueKind != JsonValueKind.Object)
            throw new InvalidInputException("invalid_metadata",
                $"{path.Of(name)} must be a JSON object, got {value.ValueKind.ToString().ToLowerInvariant()}.", path.Of(name));
        // Its length in characters, counted from its UTF-8: no string of it for every event that carries metadata.
        var length = Encoding.UTF8.GetCharCount(JsonMarshal.GetRawUtf8Value(value));
        if (length > MaxMetadataLength)
            throw new InvalidInputException("too_long",
                $"{path.Of(name)} is {length:N0} characters of JSON; the limit is {MaxMetadataLength:N0}.", path.Of(name));
        return value;
    }
}
