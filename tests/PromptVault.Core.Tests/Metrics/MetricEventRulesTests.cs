using System.Text.Json;
using PromptVault.Core.Contracts;
using PromptVault.Core.Metrics;
using static PromptVault.Core.Tests.Support.Values;

namespace PromptVault.Core.Tests.Metrics;

public sealed class MetricEventRulesTests
{
    private static readonly DateTimeOffset Now = new(2025, 6, 1, 12, 30, 0, TimeSpan.Zero);
    private static readonly MetricEventRequest Minimal = new(VersionId: "v1");

    private static InvalidInputException Refused(MetricEventRequest request) =>
        Assert.Throws<InvalidInputException>(() => MetricEventRules.Validate(request, Now));

    private static InvalidInputException RefusedInBatch(params MetricEventRequest[] requests) =>
        Assert.Throws<InvalidInputException>(() => MetricEventRules.ValidateBatch(new MetricBatchRequest(requests), Now));

    [Fact]
    public void Validate_OnlyVersionId_TimestampIsReceiptAndMeasuresAbsent()
    {
        var request = Minimal;

        var metricEvent = MetricEventRules.Validate(request, Now);

        Assert.Equal(new MetricEvent(null, "v1", null, null, null, Now, null, null, null, null, null, null, null, null, null), metricEvent);
    }

    [Fact]
    public void Validate_EveryField_CarriedOver()
    {
        var at = Now.AddHours(-2);
        var request = new MetricEventRequest("e-1", "v1", "x1", "b", "user-7", at, 812.5, 1_200, 300, 0.0042, 0.9, 1, true, "timeout",
            Json("""{"region":"eu"}"""));

        var metricEvent = MetricEventRules.Validate(request, Now);

        Assert.Equal(("e-1", "v1", "x1", "b", "user-7", at), (metricEvent.Id, metricEvent.VersionId, metricEvent.ExperimentId,
            metricEvent.VariantId, metricEvent.UnitId, metricEvent.Timestamp));
        Assert.Equal((812.5, 1_200L, 300L, 0.0042, 0.9, 1.0, true, "timeout"), (metricEvent.LatencyMs, metricEvent.InputTokens,
            metricEvent.OutputTokens, metricEvent.Cost, metricEvent.QualityScore, metricEvent.UserFeedback, metricEvent.Converted, metricEvent.Error));
        Assert.Equal("eu", metricEvent.Metadata!.Value.GetProperty("region").GetString());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  ")]
    public void Validate_NoVersionId_RefusedNamingIt(string? versionId)
    {
        var request = Minimal with { VersionId = versionId };

        var error = Refused(request);

        Assert.Equal("versionId", error.Field);
        Assert.Contains("versionId", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_NoVersionId_CodeIsMissingVersionId()
    {
        var request = Minimal with { VersionId = null };

        var error = Refused(request);

        Assert.Equal("missing_version_id", error.Code);
    }

    [Fact]
    public void ValidateBatch_NegativeLatencyInFourthEvent_NamesEventAndField()
    {
        var requests = new[] { Minimal, Minimal, Minimal, Minimal with { LatencyMs = -5 } };

        var error = RefusedInBatch(requests);

        Assert.Equal("out_of_range", error.Code);
        Assert.Equal("events[3].latencyMs", error.Field);
        Assert.Equal("events[3].latencyMs must be a finite number ≥ 0, got -5.", error.Message);
    }

    private static MetricEventRequest With(string field, double value) => field switch
    {
        "latencyMs" => Minimal with { LatencyMs = value },
        "cost" => Minimal with { Cost = value },
        "qualityScore" => Minimal with { QualityScore = value },
        "userFeedback" => Minimal with { UserFeedback = value },
        _ => throw new ArgumentOutOfRangeException(nameof(field)),
    };

    [Theory]
    [InlineData("latencyMs", -0.001)]
    [InlineData("latencyMs", double.NaN)]
    [InlineData("latencyMs", double.PositiveInfinity)]
    [InlineData("cost", -1)]
    [InlineData("cost", double.NaN)]
    [InlineData("qualityScore", -0.5)]
    [InlineData("qualityScore", double.NegativeInfinity)]
    [InlineData("userFeedback", -1)]
    [InlineData("userFeedback", double.NaN)]
    public void Validate_NegativeOrNotFinite_RefusedNamingField(string field, double value)
    {
        var request = With(field, value);

        var error = Refused(request);

        Assert.Equal("out_of_range", error.Code);
        Assert.Equal(field, error.Field);
        Assert.Equal($"{field} must be a finite number ≥ 0, got {value}.", error.Message);
    }

    [Theory]
    [InlineData("latencyMs", MetricEventRules.MaxLatencyMs)]
    [InlineData("cost", MetricEventRules.MaxCost)]
    [InlineData("qualityScore", MetricEventRules.MaxScore)]
    [InlineData("userFeedback", MetricEventRules.MaxScore)]
    public void Validate_AboveLimit_RefusedAndLimitAccepted(string field, double max)
    {
        var (atLimit, above) = (With(field, max), With(field, max * 1.01));

        var accepted = Record.Exception(() => MetricEventRules.Validate(atLimit, Now));
        var error = Refused(above);

        Assert.Null(accepted);
        Assert.Equal(field, error.Field);
        Assert.StartsWith($"{field} must be at most {max:N0}, got ", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("latencyMs")]
    [InlineData("cost")]
    [InlineData("qualityScore")]
    [InlineData("userFeedback")]
    public void Validate_Zero_Accepted(string field)
    {
        var request = With(field, 0);

        var error = Record.Exception(() => MetricEventRules.Validate(request, Now));

        Assert.Null(error);
    }

    [Fact]
    public void Validate_ScoresAboveOne_Accepted()
    {
        var request = Minimal with { QualityScore = 4.5, UserFeedback = 5 };

        var metricEvent = MetricEventRules.Validate(request, Now);

        Assert.Equal((4.5, 5.0), (metricEvent.QualityScore, metricEvent.UserFeedback));
    }

    [Theory]
    [InlineData(-5L, false, "inputTokens must be a whole number ≥ 0, got -5.")]
    [InlineData(-1L, true, "outputTokens must be a whole number ≥ 0, got -1.")]
    [InlineData(MetricEventRules.MaxTokens + 1, false, "inputTokens must be at most 100,000,000, got 100000001.")]
    public void Validate_BadTokenCount_RefusedNamingField(long tokens, bool output, string message)
    {
        var request = output ? Minimal with { OutputTokens = tokens } : Minimal with { InputTokens = tokens };

        var error = Refused(request);

        Assert.Equal(output ? "outputTokens" : "inputTokens", error.Field);
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void Validate_TokenLimits_Accepted()
    {
        var request = Minimal with { InputTokens = 0, OutputTokens = MetricEventRules.MaxTokens };

        var metricEvent = MetricEventRules.Validate(request, Now);

        Assert.Equal((0L, MetricEventRules.MaxTokens), (metricEvent.InputTokens, metricEvent.OutputTokens));
    }

    [Fact]
    public void Validate_VariantWithoutExperiment_RefusedNamingExperimentId()
    {
        var request = Minimal with { VariantId = "b" };

        var error = Refused(request);

        Assert.Equal(("missing_experiment_id", "experimentId"), (error.Code, error.Field));
        Assert.Contains("variantId needs experimentId", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_ExperimentWithoutVariant_RefusedNamingVariantId()
    {
        var request = Minimal with { ExperimentId = "x1" };

        var error = Refused(request);

        Assert.Equal(("missing_variant_id", "variantId"), (error.Code, error.Field));
    }

    [Fact]
    public void ValidateBatch_VariantWithoutExperiment_PathIncludesEvent()
    {
        var requests = new[] { Minimal, Minimal with { VariantId = "b" } };

        var error = RefusedInBatch(requests);

        Assert.Equal("events[1].experimentId", error.Field);
        Assert.Contains("events[1].variantId needs events[1].experimentId", error.Message, StringComparison.Ordinal);
    }

    private static MetricEventRequest WithText(string field, string value) => field switch
    {
        "id" => Minimal with { Id = value },
        "versionId" => Minimal with { VersionId = value },
        "experimentId" => Minimal with { ExperimentId = value, VariantId = "b" },
        "variantId" => Minimal with { ExperimentId = "x1", VariantId = value },
        "unitId" => Minimal with { UnitId = value },
        "error" => Minimal with { Error = value },
        _ => throw new ArgumentOutOfRangeException(nameof(field)),
    };

    [Theory]
    [InlineData("id", MetricEventRules.MaxIdLength)]
    [InlineData("versionId", MetricEventRules.MaxIdLength)]
    [InlineData("experimentId", MetricEventRules.MaxIdLength)]
    [InlineData("variantId", MetricEventRules.MaxIdLength)]
    [InlineData("unitId", MetricEventRules.MaxIdLength)]
    [InlineData("error", MetricEventRules.MaxErrorLength)]
    public void Validate_TextOverLimit_RefusedAndLimitAccepted(string field, int max)
    {
        var (atLimit, over) = (WithText(field, new string('a', max)), WithText(field, new string('a', max + 1)));

        var accepted = Record.Exception(() => MetricEventRules.Validate(atLimit, Now));
        var error = Refused(over);

        Assert.Null(accepted);
        Assert.Equal(("too_long", field), (error.Code, error.Field));
    }

    [Theory]
    [InlineData("id")]
    [InlineData("experimentId")]
    [InlineData("variantId")]
    [InlineData("unitId")]
    [InlineData("error")]
    public void Validate_BlankText_RefusedNamingField(string field)
    {
        var request = WithText(field, " ");

        var error = Refused(request);

        // A unit id follows the one rule for unit ids (Serving.IsBlankUnitId), route or not.
        Assert.Equal((field == "unitId" ? "invalid_unit_id" : "blank_field", field), (error.Code, error.Field));
    }

    [Theory]
    [InlineData("[1, 2]", "array")]
    [InlineData("\"note\"", "string")]
    [InlineData("42", "number")]
    [InlineData("true", "true")]
    public void Validate_MetadataNotAnObject_Refused(string json, string kind)
    {
        var request = Minimal with { Metadata = Json(json) };

        var error = Refused(request);

        Assert.Equal(("invalid_metadata", "metadata"), (error.Code, error.Field));
        Assert.Equal($"metadata must be a JSON object, got {kind}.", error.Message);
    }

    [Fact]
    public void Validate_MetadataJsonNull_TreatedAsAbsent()
    {
        var request = Minimal with { Metadata = Json("null") };

        var metricEvent = MetricEventRules.Validate(request, Now);

        Assert.Null(metricEvent.Metadata);
    }

    [Theory]
    [InlineData('x')]
    [InlineData('é')] // two bytes of UTF-8, one character: the limit counts characters
    public void Validate_MetadataTooLarge_Refused(char filler)
    {
        var atLimit = Json($$"""{"a":"{{new string(filler, MetricEventRules.MaxMetadataLength - 8)}}"}""");
        var over = Json($$"""{"a":"{{new string(filler, MetricEventRules.MaxMetadataLength - 7)}}"}""");

        var accepted = Record.Exception(() => MetricEventRules.Validate(Minimal with { Metadata = atLimit }, Now));
        var error = Refused(Minimal with { Metadata = over });

        Assert.Null(accepted);
        Assert.Equal(("too_long", "metadata"), (error.Code, error.Field));
        Assert.Equal("metadata is 8,193 characters of JSON; the limit is 8,192.", error.Message);
    }

    [Fact]
    public void Validate_TimestampMoreThanFiveMinutesAhead_Refused()
    {
        var request = Minimal with { Timestamp = Now.AddMinutes(5).AddSeconds(1) };

        var error = Refused(request);

        Assert.Equal(("timestamp_in_future", "timestamp"), (error.Code, error.Field));
        Assert.Contains("at most 5 minutes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_TimestampSlightlyAhead_TakenAsReceipt()
    {
        var request = Minimal with { Timestamp = Now.AddMinutes(5) };

        var metricEvent = MetricEventRules.Validate(request, Now);

        Assert.Equal(Now, metricEvent.Timestamp);
    }

    [Fact]
    public void Validate_TimestampWithOffset_KeptAsUtc()
    {
        var request = Minimal with { Timestamp = new DateTimeOffset(2025, 6, 1, 9, 15, 0, TimeSpan.FromHours(2)) };

        var metricEvent = MetricEventRules.Validate(request, Now);

        Assert.Equal(new DateTimeOffset(2025, 6, 1, 7, 15, 0, TimeSpan.Zero), metricEvent.Timestamp);
        Assert.Equal(TimeSpan.Zero, metricEvent.Timestamp.Offset);
    }

    [Fact]
    public void ValidateBatch_ValidEvents_AllReturnedInOrder()
    {
        var requests = new[] { Minimal with { Id = "a" }, Minimal with { Id = "b", Timestamp = Now.AddDays(-1) } };

        var events = MetricEventRules.ValidateBatch(new MetricBatchRequest(requests), Now);

        Assert.Equal(["a", "b"], events.Select(e => e.Id));
        Assert.Equal([Now, Now.AddDays(-1)], events.Select(e => e.Timestamp));
    }

    [Fact]
    public void ValidateBatch_TokensWithoutCost_PricedAndOnlyThoseAsked()
    {
        var requests = new[]
        {
            Minimal with { InputTokens = 1_000, OutputTokens = 500 },
            Minimal with { InputTokens = 1_000, OutputTokens = 500, Cost = 0.5 },
            Minimal with { InputTokens = 2_000 },
            Minimal with { VersionId = "v2", InputTokens = 1_000, OutputTokens = 500 },
            Minimal with { VersionId = "v3" },
        };
        var asked = new List<string>();
        ModelPrice? PriceOf(string versionId)
        {
            asked.Add(versionId);
            return PriceTable.Default.Find(versionId == "v1" ? "gpt-4o" : null);
        }

        var events = MetricEventRules.ValidateBatch(new MetricBatchRequest(requests), Now, PriceOf);

        // v1 is gpt-4o ($2.50/M in, $10/M out); v2 has no model; the second sent its cost and v3 no tokens, so neither is asked.
        Assert.Equal([0.0075, 0.5, 0.005, null, null], events.Select(e => e.Cost is { } c ? Math.Round(c, 12) : (double?)null));
        Assert.Equal(["v1", "v1", "v2"], asked);
    }

    /// <summary>
    /// Tokens (at most 100,000,000) at a configured price (no ceiling) can come to more than MaxCost. Such an event was
    /// refused, and its batch with it, though its sender sent nothing wrong: it is recorded without a cost, its other fields kept.
    /// </summary>
    [Fact]
    public void ValidateBatch_TokensPricedAboveMaxCost_RecordedWithoutACost_AndAtMaxCostPriced()
    {
        var price = new ModelPrice(InputPerMillion: 1, OutputPerMillion: 1_000);
        var atLimit = Minimal with { InputTokens = 0, OutputTokens = 100_000_000 }; // 100 × 1,000 = 100,000
        var above = Minimal with { InputTokens = 2_000_000, OutputTokens = 100_000_000, LatencyMs = 120 };

        var events = MetricEventRules.ValidateBatch(new MetricBatchRequest([atLimit, above]), Now, _ => price);

        Assert.Equal([MetricEventRules.MaxCost, null], events.Select(e => e.Cost));
        Assert.Equal([null, 100_002], events.Select(e => e.CostAboveMax)); // for the server to count and log
        Assert.Equal((2_000_000L, 100_000_000L, 120.0), (events[1].InputTokens!.Value, events[1].OutputTokens!.Value, events[1].LatencyMs!.Value));
    }

    [Fact]
    public void MaxOf_Cost_IsMaxCost()
    {
        Assert.Equal(MetricEventRules.MaxCost, MetricEventRules.MaxOf(MetricName.AvgCost));
    }

    [Fact]
    public void ValidateBatch_NoEventsField_Refused()
    {
        var request = new MetricBatchRequest(null);

        var error = Assert.Throws<InvalidInputException>(() => MetricEventRules.ValidateBatch(request, Now));

        Assert.Equal(("missing_events", "events"), (error.Code, error.Field));
    }

    [Fact]
    public void ValidateBatch_Empty_Refused()
    {
        var requests = Array.Empty<MetricEventRequest>();

        var error = RefusedInBatch(requests);

        Assert.Equal(("empty_batch", "events"), (error.Code, error.Field));
    }

    [Fact]
    public void ValidateBatch_OverMaxSize_RefusedAndMaxAccepted()
    {
        var full = Enumerable.Repeat(Minimal, MetricEventRules.MaxBatchSize).ToArray();
        var over = Enumerable.Repeat(Minimal, MetricEventRules.MaxBatchSize + 1).ToArray();

        var events = MetricEventRules.ValidateBatch(new MetricBatchRequest(full), Now);
        var error = RefusedInBatch(over);

        Assert.Equal(MetricEventRules.MaxBatchSize, events.Count);
        Assert.Equal(("too_many", "events"), (error.Code, error.Field));
        Assert.Equal("events has 1,001 entries; the limit is 1,000 a batch, so split it.", error.Message);
    }

    [Fact]
    public void ValidateBatch_NullEntry_RefusedNamingIt()
    {
        var requests = new[] { Minimal, null! };

        var error = RefusedInBatch(requests);

        Assert.Equal(("missing_event", "events[1]"), (error.Code, error.Field));
    }

    [Fact]
    public void ValidateBatch_FromJson_NamesEventAndField()
    {
        var json = """{ "events": [ { "versionId": "v1" }, { "versionId": "v1", "inputTokens": -3 } ] }""";
        var request = JsonSerializer.Deserialize<MetricBatchRequest>(json, PromptVaultJson.Options)!;

        var error = Assert.Throws<InvalidInputException>(() => MetricEventRules.ValidateBatch(request, Now));

        Assert.Equal("events[1].inputTokens", error.Field);
        Assert.Equal("events[1].inputTokens must be a whole number ≥ 0, got -3.", error.Message);
    }
}
