using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using PromptVault.Core;
using PromptVault.Core.Auth;

namespace PromptVault.Server.Auth;

/// <summary>One authorization policy per role; a role includes the ones below it (reader &lt; writer &lt; admin).</summary>
internal static class RolePolicies
{
    public const string Reader = "reader";
    public const string Writer = "writer";
    public const string Admin = "admin";

    public static AuthorizationBuilder AddRolePolicies(this AuthorizationBuilder builder) => builder
        .AddPolicy(Reader, policy => policy.RequireAssertion(c => HasRole(c.User, ApiKeyRole.Reader)))
        .AddPolicy(Writer, policy => policy.RequireAssertion(c => HasRole(c.User, ApiKeyRole.Writer)))
        .AddPolicy(Admin, policy => policy.RequireAssertion(c => HasRole(c.User, ApiKeyRole.Admin)));

    public static bool HasRole(this ClaimsPrincipal user, ApiKeyRole needed) =>
        Names.TryParse<ApiKeyRole>(user.FindFirstValue(ClaimTypes.Role), out var role) && role >= needed;

    /// <summary>The strongest role the policies ask for: a group's reader and its route's admin ask for admin.</summary>
    public static ApiKeyRole? NeededRole(IEnumerable<IAuthorizeData>? policies) =>
        policies?.Select(data => Names.TryParse<ApiKeyRole>(data.Policy, out var role) ? role : (ApiKeyRole?)null).Max();

    /// <summary>Why <paramref name="user"/>'s key may not do <paramref name="what"/>, and which roles may (REST's 403 and MCP's refusal).</summary>
    public static string Refusal(ClaimsPrincipal user, string what, ApiKeyRole? needed)
    {
        var refused = $"This API key's role ({user.FindFirstValue(ClaimTypes.Role)}) may not {what}";
        return needed is { } role
            ? $"{refused}; it needs a key whose role is {ApiKeyRoles.AtLeast(role)}."
            : $"{refused}.";
    }

    /// <summary>The author recorded in versions and the audit log: the key's name.</summary>
    public static string Actor(this ClaimsPrincipal user) => user.Identity?.Name ?? ApiKeyService.AnonymousActor;
}
