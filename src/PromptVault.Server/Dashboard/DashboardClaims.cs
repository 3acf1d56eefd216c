using System.Security.Claims;
using PromptVault.Core;
using PromptVault.Core.Auth;

namespace PromptVault.Server.Dashboard;

internal static class DashboardClaims
{
    /// <summary>The signed-in key's role; pages offer only what it allows (the route policies refuse the rest).</summary>
    public static ApiKeyRole Role(this ClaimsPrincipal user) =>
        Names.TryParse<ApiKeyRole>(user.FindFirstValue(ClaimTypes.Role), out var role) ? role : ApiKeyRole.Reader;
}
