using System.Security.Claims;
using Microsoft.AspNetCore.Components.Authorization;
using PromptVault.Core.Auth;
using PromptVault.Core.Registry;
using PromptVault.Server.Auth;

namespace PromptVault.Server.Dashboard;

/// <summary>
/// The dashboard's sign-in inside a request or an interactive circuit, given by the host from the cookie. A circuit keeps the
/// principal it opened with, so its key is checked again on every API key change on the <see cref="RegistryChangeFeed"/>
/// (a revocation through any server on PostgreSQL included): once the key is no longer active the circuit is signed out,
/// so its pages show "not authorized" and their handlers see no role.
/// </summary>
internal sealed class DashboardAuthenticationState : AuthenticationStateProvider, IHostEnvironmentAuthenticationStateProvider, IDisposable
{
    private static readonly AuthenticationState SignedOut = new(new ClaimsPrincipal(new ClaimsIdentity()));

    private readonly ApiKeyService _keys;
    private readonly IDisposable _subscription;
    private Task<AuthenticationState>? _state;

    public DashboardAuthenticationState(RegistryChangeFeed changes, ApiKeyService keys)
    {
        _keys = keys;
        _subscription = changes.Subscribe(change =>
        {
            if (change.Kind == RegistryChangeKind.ApiKeys && Volatile.Read(ref _state) is { } current)
                // Set on the writer's thread, before its request is answered: the circuit's next event awaits this check.
                SetAuthenticationState(RecheckAsync(current));
        });
    }

    public override Task<AuthenticationState> GetAuthenticationStateAsync() =>
        Volatile.Read(ref _state) ?? throw new InvalidOperationException("The dashboard's sign-in is read before the host set it.");

    public void SetAuthenticationState(Task<AuthenticationState> authenticationStateTask)
    {
        Volatile.Write(ref _state, authenticationStateTask);
        NotifyAuthenticationStateChanged(authenticationStateTask);
    }

    public void Dispose() => _subscription.Dispose();

    private async Task<AuthenticationState> RecheckAsync(Task<AuthenticationState> current)
    {
        await Task.Yield(); // not on the writer's thread
        var state = await current;
        return state.User.FindFirstValue(ApiKeyAuthenticationHandler.KeyIdClaim) is not { } keyId || await _keys.IsActiveAsync(keyId)
            ? state
            : SignedOut;
    }
}
