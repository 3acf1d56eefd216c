using System.Security.Claims;
using Microsoft.AspNetCore.Components.Authorization;
using PromptVault.Core.Auth;
using PromptVault.Core.Registry;
using PromptVault.Server.Auth;

namespace PromptVault.Server.Dashboard;

/// <summary>
/// The dashboard's sign-in inside a request or an interactive circuit, given by the host from the cookie. A circuit keeps the
/// principal it opened with, so its key is checked again on every API key change on the <see cref="RegistryChangeFeed"/>
/// (a revocation through any server on PostgreSQL included): once the key is no longer active the circuit is signed out, so
/// its pages' actions, which check the role, are refused, and <see cref="SignedOutCircuitHandler"/> sends it to the sign-in page.
/// </summary>
internal sealed class DashboardAuthenticationState : AuthenticationStateProvider, IHostEnvironmentAuthenticationStateProvider, IDisposable
{
    private static readonly AuthenticationState SignedOut = new(new ClaimsPrincipal(new ClaimsIdentity()));

    private readonly ApiKeyService _keys;
    private readonly IDisposable _subscription;
    private Task<AuthenticationState>? _signedIn; // as the host gave it
    private Task<AuthenticationState>? _state;

    public DashboardAuthenticationState(RegistryChangeFeed changes, ApiKeyService keys)
    {
        _keys = keys;
        _subscription = changes.Subscribe(change =>
        {
            // Set on the writer's thread, before its request is answered: the circuit's next event awaits this check.
            if (change.Kind == RegistryChangeKind.ApiKeys && Volatile.Read(ref _signedIn) is { } signedIn)
                Set(RecheckAsync(signedIn));
        });
    }

    public override Task<AuthenticationState> GetAuthenticationStateAsync() =>
        Volatile.Read(ref _state) ?? throw new InvalidOperationException("The dashboard's sign-in is read before the host set it.");

    public void SetAuthenticationState(Task<AuthenticationState> authenticationStateTask)
    {
        Volatile.Write(ref _signedIn, authenticationStateTask);
        Set(authenticationStateTask);
    }

    public void Dispose() => _subscription.Dispose();

    private void Set(Task<AuthenticationState> state)
    {
        Volatile.Write(ref _state, state);
        NotifyAuthenticationStateChanged(state);
    }

    /// <summary>The sign-in the host gave, while its key is active. A key that cannot be checked (the database unreachable)
    /// counts as signed out until the next check, which starts from the host's sign-in again.</summary>
    private async Task<AuthenticationState> RecheckAsync(Task<AuthenticationState> signedIn)
    {
        await Task.Yield(); // not on the writer's thread
        var state = await signedIn;
        if (state.User.FindFirstValue(ApiKeyAuthenticationHandler.KeyIdClaim) is not { } keyId)
            return state;
        try
        {
            return await _keys.IsActiveAsync(keyId) ? state : SignedOut;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return SignedOut;
        }
    }
}
