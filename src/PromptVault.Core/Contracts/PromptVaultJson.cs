using System.Buffers;
using System.ComponentModel.DataAnnotations;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace PromptVault.Core.Contracts;

/// <summary>The JSON settings of the API: camelCase names, enums as their <see cref="JsonStringEnumMemberNameAttribute"/> names (<c>few-shot</c>), numbers never as strings.</summary>
public static class PromptVaultJson
{
    public static JsonSerializerOptions Options { get; } = Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web));

    /// <summary>
    /// <see cref="Options"/> for what the server reads from a request, which also refuse text no store keeps (U+0000,
    /// <see cref="NulRefusal"/>) and a member given twice, and which say what is wrong with an integer or a date and time they cannot read
    /// (<see cref="WholeNumberConverter{T}"/>, <see cref="CheckedDateTimeOffsetConverter"/>): the bodies read by hand, and,
    /// through <see cref="Configure"/>, ASP.NET Core's options, so every route words these refusals alike. Stored values and
    /// answers are read with <see cref="Options"/>, so text stored before that rule still reads back.
    /// </summary>
    public static JsonSerializerOptions Requests { get; } = Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web), forRequests: true);

    /// <summary>
    /// Writes a render's answer in the API's settings, with the source generator's fast path and <see cref="AnswerEncoder"/>.
    /// <see cref="Options"/> add converters, and serializer options with an encoder of their own, which turn the fast path off
    /// (System.Text.Json then walks the answer's metadata: 7% of an experiment render's CPU in stop 41's profile); the render route is the hot path
    /// (issue 9), and its answer holds no type those converters change (RenderResponseJsonTests checks that both write the
    /// same JSON). So the encoder is the writer's, and the type information is the generated context's own.
    /// </summary>
    public static void WriteRenderResponse(IBufferWriter<byte> destination, RenderResponse response)
    {
        using var writer = new Utf8JsonWriter(destination, new JsonWriterOptions { Encoder = AnswerEncoder, SkipValidation = true });
        JsonSerializer.Serialize(writer, response, RenderResponseFastPath);
    }

    internal static JsonTypeInfo<RenderResponse> RenderResponseFastPath => PromptVaultFastPathJsonContext.Default.RenderResponse;

    /// <summary>
    /// How the server's answers escape text: ASP.NET Core's JSON answers escape only what JSON requires (its default,
    /// <see cref="JavaScriptEncoder.UnsafeRelaxedJsonEscaping"/>: an answer is read as JSON, never embedded in a page), and the
    /// render route's answer, written by <see cref="WriteRenderResponse"/>, escapes as they do. With no encoder set,
    /// System.Text.Json escaped the render's answer apart (an apostrophe as <c>\u0027</c>, every non-ASCII character), and
    /// character by character from its first character to escape on, which a rendered prompt has on its first line.
    /// </summary>
    public static JavaScriptEncoder AnswerEncoder => JavaScriptEncoder.UnsafeRelaxedJsonEscaping;

    /// <summary>
    /// The JSON Schema type and format of a value <see cref="Requests"/> reads with a converter of its own (an integer, a number, a
    /// date and time), which schema generators cannot see into and describe with no type: the ones the framework's converters get,
    /// as these read the same JSON and refuse more. Null for any other type; a nullable value is its underlying type's.
    /// </summary>
    public static (string Type, string Format)? CheckedValueSchema(Type type) => (Nullable.GetUnderlyingType(type) ?? type) switch
    {
        var value when value == typeof(int) => ("integer", "int32"),
        var value when value == typeof(long) => ("integer", "int64"),
        var value when value == typeof(double) => ("number", "double"),
        var value when value == typeof(decimal) => ("number", "double"),
        var value when value == typeof(DateTimeOffset) => ("string", "date-time"),
        _ => null,
    };

    /// <summary>The range a member documents (its <see cref="RangeAttribute"/>), if any.</summary>
    public static RangeAttribute? RangeOf(JsonPropertyInfo? member) =>
        member?.AttributeProvider?.GetCustomAttributes(typeof(RangeAttribute), inherit: true)
            .OfType<RangeAttribute>().FirstOrDefault();

    /// <summary>Applies the API's settings to <paramref name="options"/> (used for ASP.NET Core's own options, <paramref name="forRequests"/> as <see cref="Requests"/>).</summary>
    public static JsonSerializerOptions Configure(JsonSerializerOptions options, bool forRequests = false)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.NumberHandling = JsonNumberHandling.Strict;
        options.Converters.Add(new JsonStringEnumConverter(namingPolicy: null, allowIntegerValues: false));
        options.Converters.Add(new TextCheckedJsonElementConverter(refuseNul: forRequests));
        options.Converters.Add(new TextCheckedVariablesConverter(refuseNul: forRequests));
        if (forRequests)
        {
            // A member given twice means one thing to the server (the last) and maybe another to a proxy or an audit log
            // (the first): refused, as the free-form values' repeated names are (TextCheckedJsonElementConverter).
            options.AllowDuplicateProperties = false;
            // The OpenAPI document describes a type read by a converter of its own with no JSON type; the server's schema
            // transformer (OpenApiSetup.TypeCheckedValues) gives these theirs back.
            options.Converters.Add(new WholeNumberConverter<long>());
            options.Converters.Add(new WholeNumberConverter<int>());
            options.Converters.Add(new FiniteNumberConverter());
            options.Converters.Add(new FiniteDecimalConverter());
            options.Converters.Add(new CheckedDateTimeOffsetConverter());
        }
        options.TypeInfoResolverChain.Insert(0, forRequests
            ? PromptVaultJsonContext.Default.WithAddedModifier(NulRefusal.Modify).WithAddedModifier(RefuseUnknownMembers)
            : PromptVaultJsonContext.Default);
        if (!options.TypeInfoResolverChain.OfType<DefaultJsonTypeInfoResolver>().Any())
            options.TypeInfoResolverChain.Add(forRequests
                ? new DefaultJsonTypeInfoResolver { Modifiers = { NulRefusal.Modify, RefuseUnknownMembers } }
                : new DefaultJsonTypeInfoResolver());
        return options;
    }

    /// <summary>
    /// The request objects whose unknown members are refused, not dropped: a request's <c>metadata</c> with a member that is no
    /// model setting (<c>max_tokens</c> for <c>maxTokens</c>) would store the version without the setting its author meant; a
    /// playground entry with a misspelt <c>version</c> would run another version, a playground run with a misspelt <c>model</c> would
    /// answer renders alone, a draft with a misspelt <c>metadata</c> would run without its settings; a PATCH with <c>name</c> or <c>type</c> would
    /// answer 200 to a rename that never happened; a render with a misspelt <c>label</c> or <c>version</c> would serve production,
    /// a new version with a misspelt <c>variables</c> would keep the latest contract, an experiment with a misspelt
    /// <c>promoteWinner</c> would never promote, a variable with a misspelt <c>required</c> would be saved optional, a check with a misspelt <c>target</c> would check the render
    /// instead of the model's answer, a rollback with a misspelt <c>reason</c> would be audited without it. Only requests, and only those a person writes: stored metadata and answers
    /// (the SDK's too) still read members a later server adds, and so do the events and exposures an SDK sends.
    /// </summary>
    public static IReadOnlyList<Type> StrictRequestTypes { get; } =
    [
        typeof(Prompts.PromptMetadata), typeof(PlaygroundRequest), typeof(PlaygroundVersion), typeof(PlaygroundDraft), typeof(UpdatePromptRequest), typeof(CreatePromptRequest),
        typeof(CreateVersionRequest), typeof(RenderRequest), typeof(CreateExperimentRequest), typeof(VariantRequest), typeof(GuardrailRequest),
        typeof(Prompts.VariableDefinition), typeof(Evaluations.VersionTests), typeof(Evaluations.TestCase), typeof(Evaluations.TestExpectation),
        typeof(ChangeStatusRequest), typeof(MoveLabelRequest), typeof(RollbackRequest), typeof(CreateApiKeyRequest), typeof(CreateWebhookRequest),
    ];

    private static void RefuseUnknownMembers(JsonTypeInfo typeInfo)
    {
        if (StrictRequestTypes.Contains(typeInfo.Type))
            typeInfo.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
    }
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(CreatePromptRequest))]
[JsonSerializable(typeof(UpdatePromptRequest))]
[JsonSerializable(typeof(CreateVersionRequest))]
[JsonSerializable(typeof(ChangeStatusRequest))]
[JsonSerializable(typeof(MoveLabelRequest))]
[JsonSerializable(typeof(RollbackRequest))]
[JsonSerializable(typeof(RenderRequest))]
[JsonSerializable(typeof(CreateApiKeyRequest))]
[JsonSerializable(typeof(CreateExperimentRequest))]
[JsonSerializable(typeof(ExperimentResponse))]
[JsonSerializable(typeof(ExperimentListResponse))]
[JsonSerializable(typeof(AssignmentResponse))]
[JsonSerializable(typeof(Analysis.ExperimentResults))]
[JsonSerializable(typeof(MetricEventRequest))]
[JsonSerializable(typeof(MetricBatchRequest))]
[JsonSerializable(typeof(PromptResponse))]
[JsonSerializable(typeof(PromptListResponse))]
[JsonSerializable(typeof(VersionResponse))]
[JsonSerializable(typeof(VersionListResponse))]
[JsonSerializable(typeof(RenderResponse))]
[JsonSerializable(typeof(ComparisonResponse))]
[JsonSerializable(typeof(PlaygroundRequest))]
[JsonSerializable(typeof(PlaygroundResponse))]
[JsonSerializable(typeof(SdkSnapshot))]
[JsonSerializable(typeof(ExposureBatchRequest))]
[JsonSerializable(typeof(ExposureRecordResponse))]
[JsonSerializable(typeof(SdkSnapshotEvent))]
[JsonSerializable(typeof(AuditListResponse))]
[JsonSerializable(typeof(CreatedApiKeyResponse))]
[JsonSerializable(typeof(ApiKeyListResponse))]
[JsonSerializable(typeof(CreateWebhookRequest))]
[JsonSerializable(typeof(CreatedWebhookResponse))]
[JsonSerializable(typeof(WebhookResponse))]
[JsonSerializable(typeof(WebhookListResponse))]
[JsonSerializable(typeof(WebhookDeliveryListResponse))]
[JsonSerializable(typeof(Webhooks.WebhookDelivery))]
[JsonSerializable(typeof(MetricRecordResponse))]
[JsonSerializable(typeof(VersionMetricsResponse))]
[JsonSerializable(typeof(Evaluations.VersionTests))]
[JsonSerializable(typeof(List<Evaluations.TestCase>))]
[JsonSerializable(typeof(Evaluations.TestCase))]
[JsonSerializable(typeof(Evaluations.EvaluationRun))]
[JsonSerializable(typeof(Evaluations.EvaluationListResponse))]
[JsonSerializable(typeof(Prompts.VariableDefinition))]
[JsonSerializable(typeof(List<Prompts.VariableDefinition>))]
[JsonSerializable(typeof(Prompts.PromptMetadata))]
[JsonSerializable(typeof(List<Prompts.PromptMessage>))]
[JsonSerializable(typeof(Prompts.VersionBody))]
[JsonSerializable(typeof(Dictionary<string, string?>))]
[JsonSerializable(typeof(List<string>))]
public sealed partial class PromptVaultJsonContext : JsonSerializerContext;

/// <summary>The API's settings (<see cref="PromptVaultJson.Configure"/>) with no converter added, so the generated fast path serves.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, NumberHandling = JsonNumberHandling.Strict, UseStringEnumConverter = true)]
[JsonSerializable(typeof(RenderResponse))]
internal sealed partial class PromptVaultFastPathJsonContext : JsonSerializerContext;
