using System.Globalization;
using System.Reflection;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Infrastructure;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using PromptVault.Core;
using PromptVault.Core.Contracts;
using PromptVault.Core.Storage;
using PromptVault.Server.Auth;

namespace PromptVault.Server.Hosting;

/// <summary>
/// Describes what the route metadata cannot: the document's identity, the bearer API key, and the 401/403 answers a route
/// can give, derived from its authorization metadata so that every route (present or future) declares them.
/// </summary>
internal static class OpenApiSetup
{
    /// <summary>Relative, so the document names whichever server serves it.</summary>
    private const string ServerUrl = "/";

    private static readonly Dictionary<string, string> TagDescriptions = new()
    {
        ["Prompts"] = "Prompts, their versions, labels and rendering.",
        ["Experiments"] = "A/B tests between versions of a prompt, their lifecycle and analysis.",
        ["Metrics"] = "Metric events and per-version aggregates.",
        ["SDK"] = "What an SDK that resolves prompts in process reads (the snapshot and its change stream) and sends (exposures).",
        ["Audit"] = "Who changed what, newest first.",
        ["API keys"] = "Keys and their roles: managing them is for admin keys; any key may read its own (/api/keys/current).",
        ["Export"] = "The whole registry as one document, out and in (admin only; docs/export-format.md).",
        ["Playground"] = "Versions rendered with the same variables and answered by a configured model, side by side (writer; docs/playground.md).",
        ["Evaluations"] = "A version's test cases and the runs that check them; the requireTests gate reads the latest (docs/evaluations.md).",
        ["Webhooks"] = "Receivers of signed change events, and each delivery's attempts (admin only; docs/webhooks.md).",
        ["Health"] = "Liveness of the server.",
    };

    public static void Configure(OpenApiOptions options)
    {
        options.AddDocumentTransformer(DescribeDocument);
        options.AddOperationTransformer(DescribeAuthorization);
        options.AddOperationTransformer(DescribeMetricsBody);
        options.AddSchemaTransformer(TypeEnumsAsStrings);
        options.AddSchemaTransformer(TypeCheckedValues);
        options.AddSchemaTransformer(PagingRanges);
        options.AddSchemaTransformer(QueryTexts);
        options.AddSchemaTransformer(RenderVariablesAsObject);
        options.AddSchemaTransformer(DescribeJsonElement);
    }

    private static Task DescribeDocument(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info.Title = "PromptVault API";
        document.Info.Version = "v1";
        document.Info.Description = "Prompts as versioned software. Send 'Authorization: Bearer pv_…'; roles: reader < writer < admin.";
        document.Info.License = new OpenApiLicense { Name = "MIT", Identifier = "MIT" };
        document.Servers = [new OpenApiServer { Url = ServerUrl, Description = "The server that serves this document." }];
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes["apiKey"] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            Description = "A PromptVault API key (pv_…).",
        };
        document.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("apiKey", document)] = [] }];
        foreach (var tag in document.Tags ?? Enumerable.Empty<OpenApiTag>())
            tag.Description = TagDescriptions.GetValueOrDefault(tag.Name ?? "");
        return Task.CompletedTask;
    }

    /// <summary>An authorized route answers 401 without a valid key, and 403 when it needs more than the reader role.</summary>
    private static async Task DescribeAuthorization(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        if (metadata.OfType<IAllowAnonymous>().Any())
        {
            operation.Security = [];
            return;
        }
        var policies = metadata.OfType<IAuthorizeData>().Select(a => a.Policy).ToList();
        if (policies.Count == 0) return;
        operation.Responses ??= [];
        operation.Responses.TryAdd("401", await ProblemAsync("Unauthorized: no API key, or one that is unknown or revoked.", context, cancellationToken));
        if (policies.Any(p => p is not (null or RolePolicies.Reader)))
            operation.Responses.TryAdd("403", await ProblemAsync("Forbidden: the API key's role is too low for this route.", context, cancellationToken));
    }

    /// <summary>
    /// <c>POST /api/metrics</c> reads its body by hand (one event or a batch), so say which two shapes it takes. The batch
    /// comes first: generators that support only one shape (NSwag takes the first) then get the one that does both jobs.
    /// </summary>
    private static async Task DescribeMetricsBody(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        if (operation.OperationId != "RecordMetrics") return;
        var single = await ComponentAsync<MetricEventRequest>(context, cancellationToken);
        var batch = await ComponentAsync<MetricBatchRequest>(context, cancellationToken);
        // The generator inlines the batch's event schema; point it at the component instead, so both shapes share one type.
        if (context.Document!.Components!.Schemas![nameof(MetricBatchRequest)] is OpenApiSchema { Properties: { } properties }
            && properties.TryGetValue("events", out var events) && events is OpenApiSchema array)
            array.Items = single;
        var body = new OpenApiSchema { OneOf = [batch, single] };
        operation.RequestBody = new OpenApiRequestBody
        {
            Required = true,
            Description = "One metric event, or { \"events\": [...] }: a batch.",
            Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = new() { Schema = body } },
        };
    }

    /// <summary>Render variables are read by a converter of their own (<c>TextCheckedVariablesConverter</c>), which hides their shape from the generator.</summary>
    private static Task RenderVariablesAsObject(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        if (context.JsonTypeInfo.Type == typeof(IReadOnlyDictionary<string, System.Text.Json.JsonElement>))
            schema.Type = JsonSchemaType.Object | JsonSchemaType.Null;
        return Task.CompletedTask;
    }

    /// <summary>A raw JSON value of the caller's (metric metadata, a default value, a tool's parameters, a response format).</summary>
    private static Task DescribeJsonElement(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        var type = context.JsonTypeInfo.Type;
        if ((Nullable.GetUnderlyingType(type) ?? type) == typeof(System.Text.Json.JsonElement))
            schema.Description = "Any JSON value.";
        return Task.CompletedTask;
    }

    /// <summary>
    /// The framework lists an enum's names (from <c>[JsonStringEnumMemberName]</c>) but leaves out their type, without which
    /// generators such as NSwag send numbers; and it puts <c>null</c> among the names of an enum first met as nullable,
    /// although every use of the shared schema already says <c>oneOf: [null, enum]</c>.
    /// </summary>
    private static Task TypeEnumsAsStrings(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        var type = context.JsonTypeInfo.Type;
        if ((Nullable.GetUnderlyingType(type) ?? type).IsEnum && schema.Enum is { Count: > 0 })
        {
            schema.Type = JsonSchemaType.String;
            schema.Enum = schema.Enum.Where(value => value is not null).ToList();
        }
        return Task.CompletedTask;
    }

    /// <summary>
    /// Integers, numbers and dates and times of requests are read by converters of our own (PromptVaultJson.Configure), which the
    /// generator describes with no JSON type: they get back the type and format it gives the framework's own converters
    /// (null too for a nullable member) and the range the member documents, which the generator reads only from what it can
    /// describe itself; as do the values of a dictionary of them and the items of a list of them (which
    /// the generator leaves out altogether: a confidence interval's numbers).
    /// </summary>
    private static Task TypeCheckedValues(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        if (CheckedValueSchema(context.JsonTypeInfo.Type) is { } described)
        {
            // A nullable member allows null, as the generator says of the framework's own; a nullable query parameter does not.
            var allowsNull = context.JsonPropertyInfo is { PropertyType: var member } && Nullable.GetUnderlyingType(member) is not null;
            schema.Type = allowsNull ? described.Type | JsonSchemaType.Null : described.Type;
            schema.Format = described.Format;
            if (PromptVaultJson.RangeOf(context.JsonPropertyInfo) is { } range)
                Bound(schema, range.Minimum, range.Maximum);
        }
        else if (context.JsonTypeInfo.Kind == JsonTypeInfoKind.Dictionary && schema.AdditionalProperties is null
            && CheckedValueSchema(context.JsonTypeInfo.ElementType!) is { } values)
        {
            schema.AdditionalProperties = values;
        }
        else if (context.JsonTypeInfo.Kind == JsonTypeInfoKind.Enumerable && schema.Items is null
            && CheckedValueSchema(context.JsonTypeInfo.ElementType!) is { } items)
        {
            schema.Items = items;
        }
        return Task.CompletedTask;
    }

    /// <summary>A list route's <c>limit</c> and <c>offset</c> publish the range the route checks (PageRequest.Range), as the MCP tools' do.</summary>
    private static Task PagingRanges(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        if (context.ParameterDescription is { Source.Id: "Query", Name: var name } && PageRequest.Range(name) is var (min, max))
            Bound(schema, min, max);
        return Task.CompletedTask;
    }

    private static void Bound(OpenApiSchema schema, object min, object max)
    {
        schema.Minimum = Convert.ToString(min, CultureInfo.InvariantCulture);
        schema.Maximum = Convert.ToString(max, CultureInfo.InvariantCulture);
    }

    /// <summary>A query parameter parsed by hand: the names it takes (<see cref="Api.NamesOfAttribute"/>) or its date-time format (<see cref="Api.DateTimeTextAttribute"/>).</summary>
    private static Task QueryTexts(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        if (context.ParameterDescription?.ParameterDescriptor is not IParameterInfoParameterDescriptor { ParameterInfo: var parameter })
            return Task.CompletedTask;
        if (parameter.GetCustomAttribute<Api.NamesOfAttribute>() is { } names)
            schema.Enum = [.. Names.ListOf(names.EnumType).Select(name => (JsonNode)JsonValue.Create(name))];
        if (parameter.GetCustomAttribute<Api.DateTimeTextAttribute>() is not null)
            schema.Format = "date-time";
        return Task.CompletedTask;
    }

    private static OpenApiSchema? CheckedValueSchema(Type type) => PromptVaultJson.CheckedValueSchema(type) is var (kind, format)
        ? new OpenApiSchema { Type = kind switch { "integer" => JsonSchemaType.Integer, "number" => JsonSchemaType.Number, _ => JsonSchemaType.String }, Format = format }
        : null;

    private static async Task<OpenApiResponse> ProblemAsync(string description, OpenApiOperationTransformerContext context, CancellationToken cancellationToken) => new()
    {
        Description = description,
        Content = new Dictionary<string, OpenApiMediaType>
        {
            ["application/problem+json"] = new() { Schema = await ComponentAsync<ProblemDetails>(context, cancellationToken) },
        },
    };

    /// <summary>A reference to the component schema of <typeparamref name="T"/>, adding it when no route has yet.</summary>
    private static async Task<IOpenApiSchema> ComponentAsync<T>(OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var document = context.Document!;
        var id = typeof(T).Name;
        if (document.Components?.Schemas?.ContainsKey(id) != true)
            document.AddComponent(id, await context.GetOrCreateSchemaAsync(typeof(T), null, cancellationToken));
        return new OpenApiSchemaReference(id, document);
    }
}
