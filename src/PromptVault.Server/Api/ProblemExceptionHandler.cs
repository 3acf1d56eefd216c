using System.ComponentModel.DataAnnotations;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Options;
using PromptVault.Core;
using PromptVault.Core.Contracts;
using PromptVault.Core.Prompts;
using PromptVault.Core.Storage;
using PromptVault.Server.Hosting;

namespace PromptVault.Server.Api;

/// <summary>The one map from expected exceptions to HTTP problems; anything else stays a 500.</summary>
internal sealed class ProblemExceptionHandler(StoreTroubleLog storeTroubleLog) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        var (status, code, detail, field) = exception switch
        {
            InvalidInputException e => (StatusCodes.Status400BadRequest, e.Code, e.Message, e.Field),
            NotFoundException e => (StatusCodes.Status404NotFound, e.Code, e.Message, e.Field),
            ConflictException e => (StatusCodes.Status409Conflict, e.Code, e.Message, e.Field),
            UnprocessableException e => (StatusCodes.Status422UnprocessableEntity, e.Code, e.Message, e.Field),
            PreconditionFailedException e => (StatusCodes.Status412PreconditionFailed, e.Code, e.Message, e.Field),
            ForbiddenException e => (StatusCodes.Status403Forbidden, e.Code, e.Message, e.Field),
            UpstreamFailedException e => (StatusCodes.Status502BadGateway, e.Code, e.Message, e.Field),
            NotConfiguredException e => (StatusCodes.Status503ServiceUnavailable, e.Code, e.Message, e.Field),
            BadHttpRequestException { InnerException: JsonException json } when IsInvalidText(json) =>
                (StatusCodes.Status400BadRequest, "invalid_text", DescribeInvalidText(json), TextField(json)),
            BadHttpRequestException { InnerException: JsonException json } when FrameworkWording.IsDuplicate(json) && JsonField(json) is { } repeated =>
                (StatusCodes.Status400BadRequest, "invalid_json", RepeatedMember(repeated), repeated),
            BadHttpRequestException { InnerException: JsonException json } when UnknownMember(context, json) is { } unknown =>
                (StatusCodes.Status400BadRequest, "unknown_field", DescribeUnknownMember(context, unknown.Member, unknown.Of), unknown.Member),
            BadHttpRequestException { InnerException: JsonException json } =>
                (StatusCodes.Status400BadRequest, "invalid_json", DescribeJsonError(context, json), JsonField(json)),
            BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } =>
                (StatusCodes.Status413PayloadTooLarge, "payload_too_large", TooLarge(context), null),
            BadHttpRequestException { StatusCode: StatusCodes.Status400BadRequest, InnerException: null } when UnparsableParameter(context) is var (parameter, type, value)
                && WrongParameterType(parameter, type, value) is var wrong =>
                (StatusCodes.Status400BadRequest, wrong.Code, wrong.Message, wrong.Field),
            // The framework refuses a body it bound to nothing the same way whether there was no body or a JSON null.
            BadHttpRequestException { StatusCode: StatusCodes.Status400BadRequest, InnerException: null } when ReadsBody(context) && JsonBody.IsAbsent(context.Request) =>
                (StatusCodes.Status400BadRequest, MissingBody.Code, MissingBody.Message, null),
            BadHttpRequestException { StatusCode: StatusCodes.Status400BadRequest, InnerException: null } when ReadsBody(context) =>
                (StatusCodes.Status400BadRequest, "invalid_json", BodyNotAnObject, null),
            // A body with no Content-Type at all, which the framework throws rather than answers as it does another media type.
            BadHttpRequestException { StatusCode: StatusCodes.Status415UnsupportedMediaType } =>
                (StatusCodes.Status415UnsupportedMediaType, "unsupported_media_type", Problems.NotJson(context.Request), null),
            BadHttpRequestException e => (e.StatusCode, "bad_request", e.Message, null),
            _ when StoreTrouble(exception) is { } trouble => (StatusCodes.Status503ServiceUnavailable, trouble.Code, trouble.Message, null),
            _ => (0, "", "", null),
        };
        if (status == 0) return false;
        // A busy store frees up within a second; an unreachable one is tried again at once on the next request; a full disk
        // waits for an operator; a missing setting needs a restart.
        if (StoreTrouble(exception) is not null)
        {
            context.Response.Headers.RetryAfter = exception is StoreFullException or StoreReadOnlyException ? "30" : "1";
            storeTroubleLog.Answered(code, context.Request.Method, RequestLogging.Route(context), exception);
        }
        await Problems.WriteAsync(context, status, code, detail, field,
            exception is PromptVaultException { PromptName: { } promptName, Version: { } version } ? (promptName, version) : null);
        return true;
    }

    /// <summary>Raises the request's body limit to a route's own <paramref name="setting"/>, which a 413 then names beside the size.</summary>
    internal static void RaiseBodyLimit(HttpContext context, long bytes, string setting)
    {
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is not { IsReadOnly: false } limit) return;
        limit.MaxRequestBodySize = bytes;
        context.Items[BodyLimitSetting] = setting;
    }

    private static readonly object BodyLimitSetting = new();

    /// <summary>
    /// The 413's detail, naming the limit: thrown to this handler by an import's document; for the JSON bodies (a prompt, a
    /// version) Kestrel sets the 413 itself and the exception does not reach here, so the status code page words it
    /// (<see cref="Problems.AddStatusCode"/>).
    /// </summary>
    internal static string TooLarge(HttpContext context) => $"The request body is larger than the server accepts here ({BodyLimit(context)}).";

    /// <summary>The limit the refused body went past: the server's, or the route's own and its setting (<see cref="RaiseBodyLimit"/>).</summary>
    private static string BodyLimit(HttpContext context)
    {
        var bytes = context.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize ?? ServerDefaults.MaxRequestBodyBytes;
        const long megabyte = 1024 * 1024;
        var size = bytes % megabyte == 0 ? $"{bytes / megabyte} MB" : $"{bytes} bytes";
        return context.Items.TryGetValue(BodyLimitSetting, out var setting) ? $"{size}, {setting}" : size;
    }

    /// <summary>
    /// The store's failures that are not the request's fault, as the caller is told them (the HTTP API's 503, an MCP tool's error,
    /// a dashboard page's message); null for anything else. Busy: SQLite still locked after its busy timeout, or a PostgreSQL
    /// write that kept losing races with other writers, or every pooled PostgreSQL connection in use past the pool's Timeout. Unavailable: PostgreSQL could not be reached (the message says neither
    /// "nothing was stored" nor the server's address: a write cut off at its commit may have committed). Full: the disk. Read-only:
    /// the database takes reads but no writes; its message names the database, which an operator must make writable.
    /// </summary>
    internal static (string Code, string Message)? StoreTrouble(Exception exception) => exception switch
    {
        TimeoutException => ("store_busy", "The database is busy; retry the request."),
        StoreUnavailableException => ("store_unavailable", "The database could not be reached; retry the request."),
        StoreFullException => ("store_full", "The database's disk is full: nothing was stored. Retry once space is freed."),
        StoreReadOnlyException e => ("store_read_only", e.Message),
        _ => null,
    };

    /// <summary>
    /// A string that is not valid text (a lone surrogate such as <c>"\ud800"</c>, bytes that are not UTF-8, or U+0000): found
    /// by <see cref="InvalidJsonTextException"/>'s converters, or by System.Text.Json as it reads a string field, which it
    /// reports as a conversion error wrapping the reader's own exception. Bytes that are not UTF-8 show in that exception's
    /// cause; a lone surrogate only in its wording, as reading a number as a string throws the same exception, with no cause
    /// (and a converter for strings, which would tell them apart, would hide every string's type from the OpenAPI document).
    /// </summary>
    private static bool IsInvalidText(JsonException json) =>
        json is InvalidJsonTextException || json.InnerException is InvalidOperationException { InnerException: DecoderFallbackException }
        || json.InnerException is InvalidOperationException reading && FrameworkWording.IsInvalidUtf16(reading);

    private static string DescribeInvalidText(JsonException json) =>
        InvalidJsonTextException.Describe(TextField(json) is { } field ? $"'{field}'" : "The request body", (json as InvalidJsonTextException)?.Fault ?? TextFault.NotUtf16) + ".";

    private static string? TextField(JsonException json) => json is InvalidJsonTextException text ? text.At(JsonField(json)) : JsonField(json);

    private static string DescribeJsonError(HttpContext context, JsonException json)
    {
        var field = JsonField(json);
        return DescribeJsonError(json, field, BodyType(context, json), field, BodyOptions(context));
    }

    /// <summary>
    /// The type the failed endpoint reads its body as: the one <see cref="JsonBody.Read{T}"/> was reading (one metric event,
    /// where the route accepts a batch too), else the endpoint's. The exception handler runs with the endpoint cleared; the
    /// feature keeps the one that failed.
    /// </summary>
    private static Type? BodyType(HttpContext context, JsonException? json = null) =>
        json?.Data[JsonBody.ReadAs] as Type ?? context.Features.Get<IExceptionHandlerFeature>()?.Endpoint?.Metadata.GetMetadata<IAcceptsMetadata>()?.RequestType;

    private static JsonSerializerOptions BodyOptions(HttpContext context) =>
        context.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;

    /// <summary>
    /// What is wrong with a value that failed to read as <paramref name="type"/>, where <paramref name="path"/> is the place in
    /// it (<c>variables[0].type</c>, null for the value itself) and <paramref name="field"/> the name the caller knows that place by.
    /// A misspelt enum's message quotes what was sent: found in <paramref name="value"/> when it is still at hand (an MCP tool's
    /// argument), else kept by the converter that refused it (<see cref="SentEnumValueConverter"/>: a body the framework bound).
    /// </summary>
    internal static string DescribeJsonError(JsonException json, string? field, Type? type, string? path, JsonSerializerOptions options, JsonElement? value = null)
    {
        // System.Text.Json's own messages name .NET types, which mean nothing to a caller.
        if (field is not null && path is not null && StrictTypeLacking(type, path, options) is { } strict)
            return DescribeUnknownMember(options, field, strict);
        if (IsConversionError(json))
            return field is not null && EnumAt(type, path, options) is { } enumType ? $"'{field}' must be one of {Names.AllOf(enumType)}, a string spelled exactly so{NotThe(value is { } sent ? SentAt(sent, path) : SentEnumValueConverter.SentIn(json))}." : WrongJsonType(field, TypeAt(type, path, options), options);
        if (field is not null && json is NotAWholeNumberException number && RangeAt(type, path, options) is { } range)
            return $"'{field}' is invalid: {NotAWholeNumberException.Describe(number.Sent, range.Minimum, range.Maximum)}";
        return field is null ? $"The request body is not valid JSON: {json.Message}" : $"'{field}' is invalid: {json.Message}";
    }

    /// <summary>The range the member at <paramref name="path"/> (<c>events[0].inputTokens</c>) of <paramref name="type"/> documents (its <see cref="RangeAttribute"/>), if any.</summary>
    private static RangeAttribute? RangeAt(Type? type, string? path, JsonSerializerOptions options)
    {
        if (path is null || LastMember(path) is not { } member || TypeAt(type, member.Parent, options) is not { } parent) return null;
        var comparison = options.PropertyNameCaseInsensitive ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        return PromptVaultJson.RangeOf(options.GetTypeInfo(parent).Properties.FirstOrDefault(p => string.Equals(p.Name, member.Name, comparison)));
    }

    /// <summary>
    /// The member a strict body object does not have (<c>metadata.max_tokens</c>) and that strict type
    /// (<see cref="PromptVaultJson.StrictRequestTypes"/>); null for any other error.
    /// </summary>
    private static (string Member, Type Of)? UnknownMember(HttpContext context, JsonException json) =>
        JsonField(json) is { } field && StrictTypeLacking(BodyType(context, json), field, BodyOptions(context)) is { } strict ? (field, strict) : null;

    /// <summary>
    /// The strict type (<see cref="PromptVaultJson.StrictRequestTypes"/>) of the object at <paramref name="path"/> of
    /// <paramref name="type"/> when it has no member of the name the path ends at: the member System.Text.Json refused
    /// (<c>variables[0].require</c>); null for any other path.
    /// </summary>
    private static Type? StrictTypeLacking(Type? type, string path, JsonSerializerOptions options)
    {
        if (LastMember(path) is not { } member) return null;
        if (TypeAt(type, member.Parent, options) is not { } parent || !PromptVaultJson.StrictRequestTypes.Contains(parent)) return null;
        var comparison = options.PropertyNameCaseInsensitive ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        return MembersOf(parent, options).Any(name => string.Equals(name, member.Name, comparison)) ? null : parent;
    }

    /// <summary>The members a body object of <paramref name="type"/> takes: not those only written (<c>isOptional</c>, <see cref="System.Text.Json.Serialization.JsonIgnoreAttribute"/>).</summary>
    private static IEnumerable<string> MembersOf(Type type, JsonSerializerOptions options) =>
        options.GetTypeInfo(type).Properties.Where(p => p.Set is not null || p.AssociatedParameter is not null).Select(p => p.Name);

    /// <summary>
    /// Splits a field (<c>metadata.max_tokens</c>, or <c>metadata['max tokens']</c> for a name System.Text.Json quotes) into
    /// the path of the object and the member's name; null when it ends at an array item.
    /// </summary>
    private static (string Parent, string Name)? LastMember(string field)
    {
        if (field.EndsWith("']", StringComparison.Ordinal) && field.LastIndexOf("['", StringComparison.Ordinal) is var open and >= 0)
            return (field[..open], field[(open + 2)..^2]);
        if (field.EndsWith(']')) return null;
        var dot = field.LastIndexOf('.');
        return (dot < 0 ? "" : field[..dot], field[(dot + 1)..]);
    }

    /// <summary>A member of a strict body read by hand (<see cref="PromptVaultJson.StrictRequestTypes"/>) that its type does not have: the 400 of a bound body.</summary>
    internal static InvalidInputException UnknownFieldAt<T>(string member) =>
        new("unknown_field", DescribeUnknownMember(PromptVaultJson.Requests, member, typeof(T)), member);

    private static string DescribeUnknownMember(HttpContext context, string member, Type type) =>
        DescribeUnknownMember(BodyOptions(context), member, type);

    private static string DescribeUnknownMember(JsonSerializerOptions options, string member, Type type)
    {
        var members = string.Join(", ", MembersOf(type, options));
        if (type == typeof(PromptMetadata)) return $"'{member}' is not a model setting; metadata takes {members}.";
        if (type == typeof(UpdatePromptRequest)) return $"'{member}' is not a field PATCH can change; it changes only {members}.";
        return $"'{member}' is not a field this object takes; it takes {members}.";
    }

    private const string BodyNotAnObject = "The request body must be a JSON object.";

    private static string RepeatedMember(string field) => $"'{field}' appears twice in the body.";

    /// <summary>A member of a body read by hand given twice (<c>version</c>, <c>variables.name</c>): the 400 of a bound body.</summary>
    internal static InvalidInputException RepeatedMemberAt(string field) => new("invalid_json", RepeatedMember(field), field);

    private static string WrongJsonType(string? field, Type? expected, JsonSerializerOptions options) =>
        field is null ? BodyNotAnObject
        : ExpectedJson(expected, options, plural: false) is { } what ? $"'{field}' has a value of the wrong JSON type: expected {what}."
        : $"'{field}' has a value of the wrong JSON type.";

    /// <summary>
    /// The JSON a value of <paramref name="type"/> is written as (<c>a number</c>, <c>an array of strings</c>), from its JSON
    /// contract; null when that cannot be told.
    /// </summary>
    private static string? ExpectedJson(Type? type, JsonSerializerOptions options, bool plural)
    {
        if (type is null) return null;
        type = Nullable.GetUnderlyingType(type) ?? type;
        string? Of(string one, string many) => plural ? many : one;
        if (type == typeof(string) || type == typeof(Guid) || type.IsEnum) return Of("a string", "strings");
        if (type == typeof(bool)) return Of("true or false", "true or false values");
        if (type == typeof(DateTimeOffset) || type == typeof(DateTime)) return Of("an ISO 8601 date and time string such as 2026-01-31T12:00:00Z", "ISO 8601 date and time strings");
        if (type == typeof(int) || type == typeof(long) || type == typeof(short) || type == typeof(byte)) return Of("a whole number", "whole numbers");
        if (type == typeof(double) || type == typeof(float) || type == typeof(decimal)) return Of("a number", "numbers");
        if (type == typeof(JsonElement) || type == typeof(object)) return null;
        // A dictionary read by a converter of its own (the variables) has no dictionary contract to tell it by.
        if (type.GetInterfaces().Append(type).Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>)))
            return Of("an object", "objects");
        return options.GetTypeInfo(type) switch
        {
            { Kind: JsonTypeInfoKind.Object or JsonTypeInfoKind.Dictionary } => Of("an object", "objects"),
            { Kind: JsonTypeInfoKind.Enumerable, ElementType: var element } =>
                ExpectedJson(element, options, plural: true) is { } items ? Of($"an array of {items}", $"arrays of {items}") : Of("an array", "arrays"),
            _ => null,
        };
    }

    /// <summary>
    /// A body field (or, when null, the body) of a <typeparamref name="T"/> read by hand has a JSON type its contract does
    /// not take: the 400 of a bound body.
    /// </summary>
    internal static InvalidInputException WrongJsonTypeAt<T>(string? field) =>
        new("invalid_json", WrongJsonType(field, TypeAt(typeof(T), field, PromptVaultJson.Requests), PromptVaultJson.Requests), field);

    /// <summary><c>, not "huge"</c>: the JSON <paramref name="sent"/>, shortened; empty when it is not known.</summary>
    private static string NotThe(string? sent) => sent is null ? "" : $", not {Core.Prompts.PromptRules.Shorten(sent)}";

    /// <summary>The JSON at <paramref name="path"/> (<c>variables[0].type</c>) of <paramref name="value"/> as it was written; null when it cannot be found.</summary>
    private static string? SentAt(JsonElement value, string? path)
    {
        var at = value;
        foreach (var part in path?.Split('.') ?? [])
        {
            var bracket = part.IndexOf('[', StringComparison.Ordinal);
            var name = bracket < 0 ? part : part[..bracket];
            if (name.Length > 0 && (at.ValueKind != JsonValueKind.Object || !at.TryGetProperty(name, out at))) return null;
            for (var i = bracket; i >= 0; i = part.IndexOf('[', i + 1))
            {
                var close = part.IndexOf(']', i);
                if (close < 0 || !int.TryParse(part.AsSpan(i + 1, close - i - 1), out var index) || at.ValueKind != JsonValueKind.Array || index >= at.GetArrayLength())
                    return null;
                at = at[index];
            }
        }
        return at.GetRawText();
    }

    /// <summary>The enum type at <paramref name="path"/> (<c>variables[0].type</c>) of <paramref name="type"/>.</summary>
    private static Type? EnumAt(Type? type, string? path, JsonSerializerOptions options) =>
        TypeAt(type, path, options) is { IsEnum: true } enumType ? enumType : null;

    /// <summary>The type at <paramref name="path"/> (<c>variables[0].type</c>) of <paramref name="type"/>, found by walking its JSON contract.</summary>
    private static Type? TypeAt(Type? type, string? path, JsonSerializerOptions options)
    {
        var comparison = options.PropertyNameCaseInsensitive ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        foreach (var part in path?.Split('.') ?? [])
        {
            var bracket = part.IndexOf('[', StringComparison.Ordinal);
            var name = bracket < 0 ? part : part[..bracket];
            if (name.Length > 0)
                type = type is null ? null : options.GetTypeInfo(type).Properties.FirstOrDefault(p => string.Equals(p.Name, name, comparison))?.PropertyType;
            for (var i = bracket; i >= 0 && type is not null; i = part.IndexOf('[', i + 1))
                type = options.GetTypeInfo(type).ElementType;
        }
        return type is null ? null : Nullable.GetUnderlyingType(type) ?? type;
    }

    /// <summary>
    /// A body the route reads is absent: the framework's 400 for a bound body, and <see cref="JsonBody"/>'s. A body that is there
    /// but is not a JSON object (<c>null</c> too) is <c>invalid_json</c> (<see cref="WrongJsonTypeAt{T}"/>), on every route.
    /// </summary>
    internal static InvalidInputException MissingBody => new("missing_body", "The request body is missing: send a JSON object.");

    /// <summary>The failed endpoint binds a JSON body (the framework's failures to bind one have no other 400 left to be).</summary>
    private static bool ReadsBody(HttpContext context) => BodyType(context) is not null;

    /// <summary>
    /// The query or route parameter the framework could not parse (<c>?limit=x</c> for an <c>int? limit</c>), found from the
    /// failed endpoint's parameters and the request's values, not from the framework's message: its failure carries no field.
    /// </summary>
    private static (string Name, Type Type, string Value)? UnparsableParameter(HttpContext context)
    {
        var parameters = context.Features.Get<IExceptionHandlerFeature>()?.Endpoint?.Metadata.GetOrderedMetadata<IParameterBindingMetadata>() ?? [];
        foreach (var parameter in parameters.Where(p => p.HasTryParse))
        {
            var raw = context.Request.RouteValues.TryGetValue(parameter.Name, out var route) ? route?.ToString()
                : context.Request.Query.TryGetValue(parameter.Name, out var query) ? query.ToString() : null;
            // Given empty (?limit=) is not left out: the framework refuses it too.
            if (raw is not null && !Parses(parameter.ParameterInfo.ParameterType, raw)) return (parameter.Name, parameter.ParameterInfo.ParameterType, raw);
        }
        return null;
    }

    /// <summary>Whether <paramref name="type"/>'s own <c>TryParse</c> takes <paramref name="raw"/>, as the framework binds it (invariantly, when it can be told so).</summary>
    private static bool Parses(Type type, string raw)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type == typeof(string)) return true;
        var invariant = type.GetMethod("TryParse", [typeof(string), typeof(IFormatProvider), type.MakeByRefType()]);
        var plain = type.GetMethod("TryParse", [typeof(string), type.MakeByRefType()]);
        if (invariant is not null) return (bool)invariant.Invoke(null, [raw, System.Globalization.CultureInfo.InvariantCulture, null])!;
        return plain is null || (bool)plain.Invoke(null, [raw, null])!;
    }

    /// <summary>The 400 of a query or route parameter whose value its type does not take (<c>?limit=x</c>).</summary>
    internal static InvalidInputException WrongParameterType(string parameter, Type type, string value) =>
        value.Length == 0 ? new("invalid_parameter", $"'{parameter}' is given with no value: give it one or leave it out.", parameter)
        : PageRequest.Unreadable(parameter, value) ?? new("invalid_parameter", $"'{parameter}' has a value of the wrong type: {DescribeUnparsable(type, value)}", parameter);

    /// <summary>What <paramref name="value"/> is not; an integer worded as a body's is.</summary>
    private static string DescribeUnparsable(Type type, string value) => (Nullable.GetUnderlyingType(type) ?? type) switch
    {
        var t when t == typeof(int) => WholeNumberConverter<int>.NotAWholeNumber(value),
        var t when t == typeof(long) => WholeNumberConverter<long>.NotAWholeNumber(value),
        var t when t == typeof(bool) => $"{Core.Prompts.PromptRules.Shorten(value)} is not true or false.",
        var t => $"{Core.Prompts.PromptRules.Shorten(value)} is not a {t.Name}.",
    };

    /// <summary>
    /// A value of another JSON type than the field's: a reader's getter refusing it (its exception is the cause), or a
    /// converter refusing the token, which System.Text.Json words with its own conversion message (only a message tells that
    /// from a converter's own refusal, such as <c>1e2 is not a whole number</c>).
    /// </summary>
    private static bool IsConversionError(JsonException json) =>
        json.InnerException is InvalidOperationException or FormatException or OverflowException || FrameworkWording.IsConversion(json);

    /// <summary>Turns System.Text.Json's path (<c>$.variables[0].type</c>) into the field name used in messages (<c>variables[0].type</c>).</summary>
    internal static string? JsonField(JsonException json) =>
        json.Path is null or "$" ? null : json.Path.StartsWith("$.", StringComparison.Ordinal) ? json.Path[2..] : json.Path.TrimStart('$');
}
