using ModelContextProtocol;
using ModelContextProtocol.AspNetCore;
using ModelContextProtocol.Protocol;
using PromptVault.Core;
using PromptVault.Core.Contracts;
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
        services.AddMcpServer(options => options.ServerInfo = new Implementation { Name = "PromptVault", Version = typeof(McpEndpoint).Assembly.GetName().Version?.ToString() ?? "1.0.0" })
            // Stateless: every request stands alone (no session to pin to one server instance), as the REST API does.
            .WithHttpTransport(transport => transport.SessionMode = HttpServerSessionMode.Stateless)
            .WithListPromptsHandler(McpPrompts.ListAsync)
            .WithGetPromptHandler(McpPrompts.GetAsync)
            .WithTools<McpTools>(PromptVaultJson.Options)
            .WithRequestFilters(filters => filters
                .AddCallToolFilter(next => async (request, cancellationToken) =>
                {
                    try { return await next(request, cancellationToken); }
                    catch (Exception e) when (IsCallersMistake(e))
                    {
                        // A tool error the caller (often a model) reads and can correct; answered, not logged as a server fault.
                        return new CallToolResult { IsError = true, Content = [new TextContentBlock { Text = e.Message }] };
                    }
                })
                .AddGetPromptFilter(next => async (request, cancellationToken) =>
                {
                    try { return await next(request, cancellationToken); }
                    catch (Exception e) when (IsCallersMistake(e))
                    {
                        // The caller's mistake, not a server fault: one line with the reason, and the client gets it as the MCP error.
                        Log.McpPromptRefused(request.Services!.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(McpEndpoint).FullName!),
                            request.Params?.Name, (e as PromptVaultException)?.Code ?? "invalid_arguments", e.Message);
                        throw new McpProtocolException(e.Message, McpErrorCode.InvalidParams);
                    }
                }))
            // Honours [Authorize] on tools: a reader neither sees nor calls create_version.
            .AddAuthorizationFilters();
        return services;
    }

    public static IEndpointRouteBuilder MapPromptVaultMcp(this IEndpointRouteBuilder routes)
    {
        // JSON-RPC over one route: not described in the OpenAPI document.
        routes.MapMcp(Path).RequireAuthorization(RolePolicies.Reader).ExcludeFromDescription();
        return routes;
    }

    /// <summary>A refusal the caller can act on: ours (naming the field) or the SDK's binding of tool arguments.</summary>
    private static bool IsCallersMistake(Exception e) => e is PromptVaultException or ArgumentException or System.Text.Json.JsonException;
}
