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

    /// <summary>The author recorded in versions and the audit log: the key's name.</summary>
    public static string Actor(this ClaimsPrincipal user) => user.Identity?.Name ?? ApiKeyService.AnonymousActor;
}
