using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server.Circuits;

namespace PromptVault.Server.Dashboard;

/// <summary>
/// Sends an open interactive page to the sign-in page once its circuit is signed out (its key revoked, or no longer
/// checkable: <see cref="DashboardAuthenticationState"/>), so it stops showing what it loaded while the key was active.
/// </summary>
internal sealed class SignedOutCircuitHandler(AuthenticationStateProvider authentication, NavigationManager navigation) : CircuitHandler
{
    public override Task OnCircuitOpenedAsync(Circuit circuit, CancellationToken cancellationToken)
    {
        authentication.AuthenticationStateChanged += OnChanged;
        return Task.CompletedTask;
    }

    public override Task OnCircuitClosedAsync(Circuit circuit, CancellationToken cancellationToken)
    {
        authentication.AuthenticationStateChanged -= OnChanged;
        return Task.CompletedTask;
    }

    private void OnChanged(Task<AuthenticationState> state) => _ = LeaveIfSignedOutAsync(state);

    private async Task LeaveIfSignedOutAsync(Task<AuthenticationState> state)
    {
        if ((await state).User.Identity?.IsAuthenticated == true) return;
        var here = "/" + navigation.ToBaseRelativePath(navigation.Uri);
        // An enhanced navigation, not a page load, which an editor's unsaved draft would hold up (unsaved.js asks on unload):
        // the page must go whatever it holds.
        navigation.NavigateTo(Links.SignInEnded(here));
    }
}
