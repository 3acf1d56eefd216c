using System.Reflection;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using ModelContextProtocol;
using ModelContextProtocol.AspNetCore;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using PromptVault.Core;
using PromptVault.Core.Contracts;
using PromptVault.Core.Storage;
using PromptVault.Server.Api;
using PromptVault.Server.Auth;

namespace PromptVault.Server.Mcp;

/// <summary>
/// The Model Context Protocol endpoint of SPEC §11: Streamable HTTP at <c>/mcp</c>, behind the same API keys and roles as the REST API.
/// Prompts and tools call the same services as the REST routes; this file only wires them to the MCP SDK.
/// </summary>
internal static class McpEndpoint
{
    public const string Path = "/mcp";

    public static IServiceCollection AddPromptVaultMcp(this IServiceCollection services)
    {
        services.AddMcpServer(options => options.ServerInfo = new Implementation { Name = "PromptVault", Version = ProductVersion })
            // Stateless: every request stands alone (no session to pin to one server instance), as the REST API does.
            .WithHttpTransport(transport => transport.SessionMode = HttpServerSessionMode.Stateless)
            .WithListPromptsHandler(McpPrompts.ListAsync)
            .WithGetPromptHandler(McpPrompts.GetAsync)
            .WithCompleteHandler(McpPrompts.CompleteAsync)
            .WithPromptVaultTools()
            .WithMessageFilters(filters => filters.AddIncomingFilter(next => async (context, cancellationToken) =>
            {
                if (context.JsonRpcMessage is not JsonRpcRequest request)
                {
                    await next(context, cancellationToken);
                    return;
                }
                try
                {
                    RefuseWithoutRole(context, request);
                    await next(context, cancellationToken);
                }
                catch (McpProtocolException refusal) when (refusal.Data.Contains(RoleRefusal))
                {
                    refusal.Data.Remove(RoleRefusal);
                    LogRefused(context.Services, request.Method, NameIn(request.Params), refusal);
                    throw;
                }
                catch (System.Text.Json.JsonException e) when (!e.Data.Contains(LoggedFault))
                {
                    // The SDK reads params into its own types before any request filter runs (a request filter answers its handler's
                    // JsonException itself), and would answer its failure -32603: the params do not have the method's shape.
                    var refusal = new McpProtocolException(DescribeParamsError(e, request.Method, request.Params), McpErrorCode.InvalidParams);
                    LogRefused(context.Services, request.Method, NameIn(request.Params), refusal);
                    throw refusal;
                }
                catch (Exception e) when (e is not (McpException or OperationCanceledException) && !e.Data.Contains(LoggedFault))
                {
                    // A fault the SDK met outside our request filters: it answers -32603 and logs nothing.
                    Log.McpFailed(Logger(context.Services), Described(request.Method, NameIn(request.Params)), e);
                    throw;
                }
            }))
            .WithRequestFilters(filters => filters
                .AddCallToolFilter(next => async (request, cancellationToken) =>
                {
                    try
                    {
                        McpTools.RefuseUnknownArguments(request.Params?.Name, request.Params?.Arguments);
                        return await next(request, cancellationToken);
                    }
                    catch (Exception e) when (Answer(e) is { } answer)
                    {
                        // A tool error the caller (often a model) reads and can correct or retry; answered, not logged as a server fault,
                        // and logged in the words the caller got (System.Text.Json's own name .NET types).
                        var message = (e is System.Text.Json.JsonException or ArgumentException ? McpTools.DescribeBindingError(request.Params?.Name, request.Params?.Arguments) : null) ?? answer.Message;
                        LogRefused(request.Services, "tools/call", request.Params?.Name, e, message);
                        return ToolError(message);
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        LogUnexpected(request.Services, "tools/call", request.Params?.Name, e);
                        throw;
                    }
                })
                .AddListPromptsFilter(Refusing<ListPromptsRequestParams, ListPromptsResult>("prompts/list", _ => null))
                .AddGetPromptFilter(Refusing<GetPromptRequestParams, GetPromptResult>("prompts/get", p => p?.Name))
                .AddCompleteFilter(Refusing<CompleteRequestParams, CompleteResult>("completion/complete", p => (p?.Ref as PromptReference)?.Name)))
            // Honours [Authorize] on tools: a reader neither sees nor calls create_version.
            .AddAuthorizationFilters();
        services.Configure<LoggerFilterOptions>(options => options.AddFilter(SdkServerCategory, LogLevel.Critical));
        return services;
    }

    /// <summary>
    /// The product's version, as <c>promptvault --version</c> prints it (System.CommandLine's rule): the informational version
    /// without its <c>+commit</c>; the assembly version (<c>1.0.0.0</c>) is no release's.
    /// </summary>
    internal static string ProductVersion { get; } =
        typeof(McpEndpoint).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion.Split('+')[0];

    /// <summary>
    /// <see cref="McpTools"/>' tools, as the SDK's <c>WithTools</c> makes them but with input schemas that give the arguments
    /// <see cref="PromptVaultJson.Requests"/> reads with converters of their own their JSON type (<c>limit</c> an integer):
    /// the schema generator describes such a type with none.
    /// </summary>
    private static IMcpServerBuilder WithPromptVaultTools(this IMcpServerBuilder builder)
    {
        var schemas = new AIJsonSchemaCreateOptions { TransformSchemaNode = TypeCheckedValues };
        foreach (var method in typeof(McpTools).GetMethods().Where(m => m.GetCustomAttribute<McpServerToolAttribute>() is not null))
            builder.Services.AddSingleton(services => WithArgumentRules(McpServerTool.Create(method, request => ActivatorUtilities.CreateInstance<McpTools>(request.Services!),
                new McpServerToolCreateOptions { Services = services, SerializerOptions = PromptVaultJson.Requests, SchemaCreateOptions = schemas }), method));
        return builder;
    }

    /// <summary>
    /// Gives the arguments what the REST query checks of the same parameters and the schema generator cannot see: a paging
    /// argument (<c>limit</c>, <c>offset</c>) its range (<see cref="PageRequest.Range"/>) as <c>minimum</c>/<c>maximum</c>, and one
    /// that takes an enum's wire names (<see cref="Api.NamesOfAttribute"/>) those names as its <c>enum</c>, with null when it may be
    /// null (an enum is the whole of what a value may be).
    /// </summary>
    private static McpServerTool WithArgumentRules(McpServerTool tool, MethodInfo method)
    {
        var schema = JsonNode.Parse(tool.ProtocolTool.InputSchema.GetRawText())!;
        foreach (var (name, argument) in schema["properties"]?.AsObject() ?? [])
        {
            if (argument is not JsonObject described) continue;
            if (PageRequest.Range(name) is var (min, max))
            {
                described["minimum"] = min;
                described["maximum"] = max;
            }
            if (method.GetParameters().SingleOrDefault(p => p.Name == name)?.GetCustomAttribute<Api.NamesOfAttribute>() is { } names)
            {
                var values = Names.ListOf(names.EnumType).Select(value => (JsonNode?)value);
                var nullable = described["type"] is JsonArray types && types.Any(type => type?.GetValue<string>() == "null");
                described["enum"] = new JsonArray([.. nullable ? values.Append(null) : values]);
            }
        }
        tool.ProtocolTool.InputSchema = System.Text.Json.JsonSerializer.SerializeToElement(schema, McpJsonUtilities.DefaultOptions);
        return tool;
    }

    private static JsonNode TypeCheckedValues(AIJsonSchemaCreateContext context, JsonNode schema)
    {
        if (schema is not JsonObject described || described.ContainsKey("type") || PromptVaultJson.CheckedValueSchema(context.TypeInfo.Type) is not var (type, format))
            return schema;
        described["type"] = Nullable.GetUnderlyingType(context.TypeInfo.Type) is null ? type : new JsonArray(type, "null");
        described["format"] = format;
        return described;
    }

    public static IEndpointRouteBuilder MapPromptVaultMcp(this IEndpointRouteBuilder routes)
    {
        // JSON-RPC over one route: not described in the OpenAPI document.
        routes.MapMcp(Path).RequireAuthorization(RolePolicies.Reader).ExcludeFromDescription()
            .Add(endpoint => endpoint.RequestDelegate = RefusingInvalidText(endpoint.RequestDelegate!));
        return routes;
    }

    /// <summary>
    /// Answers a message holding text that is not valid (a lone surrogate, U+0000) before the SDK reads it: the SDK reads the
    /// message's own property names, <c>method</c> and <c>id</c> (an invalid request, -32600), and params' own property names (and
    /// <c>_meta</c>'s; invalid params, -32602, <see cref="RefuseInvalidText"/>) before any of its filters run, and answers a lone
    /// surrogate there with its own -32600 or -32603, logged nowhere. The refusal has HTTP 400, as the SDK answers what it refuses
    /// before a request reaches a session, and is logged as the other refusals are.
    /// </summary>
    private static RequestDelegate RefusingInvalidText(RequestDelegate next) => async context =>
    {
        if (HttpMethods.IsPost(context.Request.Method))
        {
            JsonObject? message = null;
            try
            {
                if (await ReadMessageAsync(context) is { } read)
                {
                    message = RefuseNotAnObject(context.RequestServices, read);
                    RefuseInvalidMessageText(context.RequestServices, message);
                    RefuseMalformedMessage(context.RequestServices, message);
                    if (message.TryGetPropertyValue("id", out _) && message["params"] is { } parameters)
                        RefuseInvalidText(context.RequestServices, MethodIn(message) ?? "", parameters);
                    if (MethodIn(message) == RequestMethods.Initialize && message["params"] is { } initialize)
                        RefuseUnreadableInitialize(context.RequestServices, initialize);
                }
            }
            catch (McpProtocolException refusal)
            {
                context.Response.StatusCode = StatusCodes.Status400BadRequest;
                var answer = new JsonObject
                {
                    ["jsonrpc"] = "2.0",
                    ["id"] = refusal.ErrorCode == McpErrorCode.InvalidRequest ? null : message?["id"]?.DeepClone(),
                    ["error"] = new JsonObject { ["code"] = (int)refusal.ErrorCode, ["message"] = refusal.Message },
                };
                await context.Response.WriteAsJsonAsync(answer, McpJsonUtilities.DefaultOptions, context.RequestAborted);
                return;
            }
        }
        await next(context);
    };

    /// <summary>
    /// The JSON a POST to <c>/mcp</c> holds (which the SDK then reads again); null for anything else, which the SDK answers. A
    /// message that gives a property name twice at one level (<c>"id": 1, "id": 2</c>) says two things at once and is refused as an
    /// invalid request (-32600): read as nodes, as both this check and the SDK read it, it threw, a 500.
    /// </summary>
    private static async Task<JsonNode?> ReadMessageAsync(HttpContext context)
    {
        context.Request.EnableBuffering();
        try
        {
            try
            {
                return await JsonNode.ParseAsync(context.Request.Body, documentOptions: Unambiguous, cancellationToken: context.RequestAborted);
            }
            catch (InvalidOperationException)
            {
                // A property name that is not valid text, which the duplicate check cannot compare: read it as it is, and the
                // check of the message's text refuses it, naming where.
                context.Request.Body.Position = 0;
                return await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
            }
        }
        catch (System.Text.Json.JsonException e)
        {
            // Valid JSON once duplicates are allowed: the only thing wrong is a name given twice.
            if (!await IsJsonAsync(context.Request.Body, context.RequestAborted)) return null;
            var where = e.Path is { Length: > 1 } path ? $" (at '{path.TrimStart('$').TrimStart('.')}')" : "";
            var refusal = new InvalidInputException("duplicate_property", $"The message gives a property name twice in one object{where}; give each once.");
            LogRefused(context.RequestServices, "(unreadable method)", null, refusal);
            throw new McpProtocolException(refusal.Message, McpErrorCode.InvalidRequest);
        }
        finally
        {
            context.Request.Body.Position = 0;
        }
    }

    private static readonly System.Text.Json.JsonDocumentOptions Unambiguous = new() { AllowDuplicateProperties = false };

    private static async Task<bool> IsJsonAsync(Stream body, CancellationToken cancellationToken)
    {
        body.Position = 0;
        try
        {
            using var _ = await System.Text.Json.JsonDocument.ParseAsync(body, cancellationToken: cancellationToken);
            return true;
        }
        catch (System.Text.Json.JsonException)
        {
            return false;
        }
    }

    /// <summary>
    /// Refuses a message whose own property names, or a value other than params (<c>method</c>, <c>id</c>), hold text that is not
    /// valid, naming where, as an invalid request (-32600): the message cannot be read, so its id is not answered.
    /// </summary>
    private static void RefuseInvalidMessageText(IServiceProvider services, JsonObject message)
    {
        const string Names = "A property name of the message";
        (string Where, TextFault Fault)? found = null;
        try
        {
            foreach (var (name, value) in message)
            {
                if (InvalidJsonTextException.FaultIn(name) is { } fault) found = (Names, fault);
                else if (name != "params" && TextCheckedJsonElementConverter.FindInvalidText(value, refuseNul: true) is var (at, inValue)) found = ($"'{name}{at}'", inValue);
                if (found is not null) break;
            }
        }
        catch (InvalidOperationException)
        {
            found = (Names, TextFault.NotUtf16); // a property name that cannot be read as a string
        }
        if (found is not var (where, what)) return;
        var refusal = new InvalidInputException("invalid_text", InvalidJsonTextException.Describe(where, what) + ".");
        LogRefused(services, where == "'method'" || where == Names ? "(unreadable method)" : MethodIn(message) ?? "", null, refusal);
        throw new McpProtocolException(refusal.Message, McpErrorCode.InvalidRequest);
    }

    /// <summary>
    /// Refuses JSON that is not one JSON-RPC message object (a batch, a number) as an invalid request (-32600), saying what it is:
    /// the SDK reads it into its message type, and answers its failure with the reader's own words (<c>Expected StartObject token</c>).
    /// </summary>
    private static JsonObject RefuseNotAnObject(IServiceProvider services, JsonNode read)
    {
        if (read is JsonObject message) return message;
        throw Refusal(services, "(unreadable method)", read is JsonArray
            ? "The message is a JSON array (a JSON-RPC batch); MCP takes one JSON-RPC message, a JSON object, per request."
            : $"The message is {PromptVault.Core.Templates.VariableContract.Describe(read.GetValueKind())}; a JSON-RPC message is a JSON object with jsonrpc, method and id.");
    }

    /// <summary>
    /// Refuses a message object that is no JSON-RPC message as an invalid request (-32600), naming the member: the SDK's reader
    /// answers these with the generic "did not contain a valid JSON-RPC message", followed by its own words, which name .NET types
    /// (<c>"method": 5</c>, <c>"id": 1.5</c>) or mislead (a message without a method is "a response without result or error"), and the SDK
    /// has no hook for its read failure (StreamableHttpHandler answers it itself).
    /// </summary>
    private static void RefuseMalformedMessage(IServiceProvider services, JsonObject message)
    {
        var method = MethodIn(message);
        var problem = message["jsonrpc"] switch
        {
            null when !message.ContainsKey("jsonrpc") => "'jsonrpc' is required: a JSON-RPC message has \"jsonrpc\": \"2.0\".",
            JsonValue version when version.TryGetValue<string>(out var text) && text == "2.0" => null,
            _ => "'jsonrpc' must be \"2.0\", a string.",
        };
        problem ??= message.ContainsKey("method")
            ? method is null ? "'method' must be a string, such as \"tools/list\"." : null
            : message.ContainsKey("result") || message.ContainsKey("error") ? null
            : "'method' is required: the message is neither a request (method and id), a notification (method) nor a response (result or error).";
        problem ??= message.TryGetPropertyValue("id", out var id) && !(id is JsonValue value && (value.GetValueKind() == System.Text.Json.JsonValueKind.String || value.TryGetValue<long>(out _)))
            ? "'id' must be a string or a whole number; leave it out for a notification."
            : null;
        if (problem is not null) throw Refusal(services, method ?? "(unreadable method)", problem);
    }

    /// <summary>
    /// Refuses initialize params that are not of its shape (<c>"params": 0</c>, <c>"clientInfo": {"version": true}</c>) as invalid
    /// params (-32602) naming the field: the SDK's HTTP transport reads them for the protocol version before any filter runs, and
    /// its failure there was an unhandled exception, a 500.
    /// </summary>
    private static void RefuseUnreadableInitialize(IServiceProvider services, JsonNode parameters)
    {
        try
        {
            System.Text.Json.JsonSerializer.Deserialize(parameters, McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(InitializeRequestParams)));
        }
        catch (System.Text.Json.JsonException e)
        {
            var message = DescribeParamsError(e, RequestMethods.Initialize, parameters);
            LogRefused(services, RequestMethods.Initialize, null, new InvalidInputException("invalid_params", message));
            throw new McpProtocolException(message, McpErrorCode.InvalidParams);
        }
    }

    /// <summary>An invalid request (-32600) saying <paramref name="message"/>, logged as a refusal.</summary>
    private static McpProtocolException Refusal(IServiceProvider services, string method, string message)
    {
        LogRefused(services, method, null, new InvalidInputException("invalid_request", message));
        return new McpProtocolException(message, McpErrorCode.InvalidRequest);
    }

    private static string? MethodIn(JsonObject message) =>
        message["method"] is JsonValue method && method.TryGetValue<string>(out var text) ? text : null;

    /// <summary>
    /// The MCP SDK logs every exception a handler throws with its stack trace, as a fault; its server category is kept at
    /// Critical, and the filters above log instead: a refusal as one line with its reason, anything else (also what the SDK meets
    /// before our request filters) as an error.
    /// </summary>
    public const string SdkServerCategory = "ModelContextProtocol.Server.McpServer";

    /// <summary>
    /// Refuses params holding text that is not valid (a lone surrogate such as <c>\ud800</c>, U+0000) as the REST API does, naming
    /// where (<c>'arguments.name'</c>, <c>'params'</c> for one of its own property names): before the SDK binds them, where reading
    /// such a string fails as an unlogged internal error.
    /// </summary>
    private static void RefuseInvalidText(IServiceProvider? services, string method, JsonNode parameters)
    {
        try
        {
            InvalidJsonTextException.ThrowIfIn(parameters);
        }
        catch (InvalidJsonTextException e)
        {
            var refusal = e.Refusal(e.Location.Length == 0 ? "params" : null);
            LogRefused(services, method, e.Location is not ("" or "name") ? NameIn(parameters) : null, refusal);
            throw new McpProtocolException(refusal.Message, McpErrorCode.InvalidParams);
        }
    }

    /// <summary>
    /// What is wrong with params the SDK could not read into its type for the method, naming the field as the REST API does
    /// (<c>'arguments' has a value of the wrong JSON type.</c>); System.Text.Json's own message names .NET types. A failure at
    /// params itself is a required member they lack (read from the type's contract), else params that are not an object.
    /// </summary>
    private static string DescribeParamsError(System.Text.Json.JsonException e, string method, System.Text.Json.Nodes.JsonNode? parameters)
    {
        Type? type = method switch
        {
            RequestMethods.PromptsGet => typeof(GetPromptRequestParams),
            RequestMethods.ToolsCall => typeof(CallToolRequestParams),
            RequestMethods.CompletionComplete => typeof(CompleteRequestParams),
            RequestMethods.Initialize => typeof(InitializeRequestParams),
#pragma warning disable MCP9005 // logging/setLevel is deprecated on 2026-07-28, yet answered on the revisions before it
            RequestMethods.LoggingSetLevel => typeof(SetLevelRequestParams),
#pragma warning restore MCP9005
            _ => null,
        };
        if (ProblemExceptionHandler.JsonField(e) is { } field)
            return ProblemExceptionHandler.DescribeJsonError(e, field, type, field, McpJsonUtilities.DefaultOptions,
                parameters is null ? null : System.Text.Json.JsonSerializer.SerializeToElement(parameters, McpJsonUtilities.DefaultOptions));
        if (type is null || parameters is not JsonObject given)
            return "params must be a JSON object.";
        var missing = McpJsonUtilities.DefaultOptions.GetTypeInfo(type).Properties
            .Where(p => p.IsRequired && !given.ContainsKey(p.Name)).Select(p => $"'{p.Name}'").ToList();
        return missing.Count switch
        {
            0 => $"params could not be read: {e.Message}",
            1 => $"{missing[0]} is required.",
            _ => $"{string.Join(", ", missing[..^1])} and {missing[^1]} are required.",
        };
    }

    /// <summary>
    /// A request filter answering what <see cref="Answer"/> maps as the MCP error it maps to, logged as a refusal, and logging
    /// anything else as a fault: the handler's exception would otherwise reach the SDK, answered <c>An error occurred.</c>
    /// </summary>
    private static McpRequestFilter<TParams, TResult> Refusing<TParams, TResult>(string method, Func<TParams?, string?> nameOf) =>
        next => async (request, cancellationToken) =>
        {
            try { return await next(request, cancellationToken); }
            catch (Exception e) when (Answer(e) is { } answer)
            {
                LogRefused(request.Services, method, nameOf(request.Params), e);
                throw answer;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogUnexpected(request.Services, method, nameOf(request.Params), e);
                throw;
            }
        };

    /// <summary>
    /// Refuses a tool the key's role may not call, saying the role it has and the roles that may, as the REST API's 403 does: the
    /// SDK's authorization filter (still there, and what hides the tool from tools/list) says only "Access forbidden".
    /// </summary>
    private static void RefuseWithoutRole(MessageContext context, JsonRpcRequest request)
    {
        if (request.Method != RequestMethods.ToolsCall || NameIn(request.Params) is not { } name || context.User is not { } user
            || context.Server.ServerOptions.ToolCollection?.TryGetPrimitive(name, out var tool) != true
            || RolePolicies.NeededRole(tool!.Metadata.OfType<Microsoft.AspNetCore.Authorization.IAuthorizeData>()) is not { } needed
            || user.HasRole(needed)) return;
        var refusal = new McpProtocolException(RolePolicies.Refusal(user, $"call {name}", needed), McpErrorCode.InvalidRequest);
        refusal.Data[RoleRefusal] = true;
        throw refusal;
    }

    /// <summary>Marks <see cref="RefuseWithoutRole"/>'s refusal for its log line (removed before the SDK sends its Data to the client).</summary>
    private const string RoleRefusal = "PromptVault.Mcp.RoleRefusal";

    /// <summary>The prompt or tool a request's params name, for its log line.</summary>
    private static string? NameIn(JsonNode? parameters) =>
        (parameters as JsonObject)?["name"] is JsonValue name && name.TryGetValue<string>(out var text) ? text : null;

    private static CallToolResult ToolError(string message) => new() { IsError = true, Content = [new TextContentBlock { Text = message }] };

    private static void LogRefused(IServiceProvider? services, string method, string? name, Exception e, string? answered = null) =>
        Log.McpRefused(Logger(services), Described(method, name), e switch
        {
            PromptVaultException refused => refused.Code,
            McpProtocolException => "refused",
            _ when ProblemExceptionHandler.StoreTrouble(e) is { } trouble => trouble.Code,
            _ => "invalid_arguments",
        }, answered ?? e.Message);

    /// <summary>A request as its log line names it: <c>prompts/get of 'support'</c>, or the method alone (<c>prompts/list</c>) when it names nothing.</summary>
    private static string Described(string method, string? name) => name is null ? method : $"{method} of '{name}'";

    /// <summary>A refusal of the SDK's own (such as a role's) as one line; anything else as an error with its stack trace.</summary>
    private static void LogUnexpected(IServiceProvider? services, string method, string? name, Exception e)
    {
        if (e is McpProtocolException)
        {
            // Not marked: the SDK sends an McpProtocolException's Data to the client, and the incoming filter never logs an McpException.
            LogRefused(services, method, name, e);
            return;
        }
        Log.McpFailed(Logger(services), Described(method, name), e);
        e.Data[LoggedFault] = true;
    }

    /// <summary>Marks a fault a request filter logged, so the incoming message filter around it does not log it again.</summary>
    private const string LoggedFault = "PromptVault.Mcp.Logged";

    private static ILogger Logger(IServiceProvider? services) =>
        services!.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(McpEndpoint).FullName!);

    /// <summary>
    /// The one map from the errors a request meets to MCP's answers (a tool answers the message as a tool error): a refusal the caller
    /// can act on, ours (naming the field) or the SDK's binding of tool arguments, is invalid params; the store's trouble (busy,
    /// unreachable, full), as the HTTP API's 503, says so. Anything else (null) is a fault.
    /// </summary>
    private static McpException? Answer(Exception e) => e switch
    {
        PromptVaultException or ArgumentException or System.Text.Json.JsonException => new McpProtocolException(e.Message, McpErrorCode.InvalidParams),
        _ when ProblemExceptionHandler.StoreTrouble(e) is { } trouble => new McpException(trouble.Message),
        _ => null,
    };
}
