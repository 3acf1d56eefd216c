using PromptVault.Core;

namespace PromptVault.Server.Dashboard;

/// <summary>
/// The failures a page shows next to the action instead of letting them end its circuit (a frozen page that loses what was
/// typed): the registry's refusals, and the store's transient "busy, retry" (<see cref="TimeoutException"/>, the API's 503 store_busy).
/// </summary>
internal static class ShownErrors
{
    public static bool Shown(Exception e) => e is PromptVaultException or TimeoutException;
}
