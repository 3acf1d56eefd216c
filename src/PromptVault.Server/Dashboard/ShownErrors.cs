using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Http;
using PromptVault.Core;

namespace PromptVault.Server.Dashboard;

/// <summary>
/// The failures a page shows next to the action instead of letting them end its circuit (a frozen page that loses what was
/// typed): the registry's refusals, and the store's trouble (busy, unreachable, full: the API's 503s).
/// </summary>
internal static class ShownErrors
{
    public static bool Shown(Exception e) => e is PromptVaultException || Api.ProblemExceptionHandler.StoreTrouble(e) is not null;

    /// <summary>Sets the status a page answers with when it is rendered statically; an interactive render has no response to set.</summary>
    public static void Answer(this HttpContext? http, int status)
    {
        if (http is { Response.HasStarted: false }) http.Response.StatusCode = status;
    }

    /// <summary>
    /// Runs a page's load of what its address names: a missing prompt, version or experiment answers 404 with the dashboard's
    /// not-found page; another shown failure is returned as the message the page shows instead.
    /// </summary>
    public static async Task<string?> LoadAsync(this NavigationManager navigation, Func<Task> load)
    {
        try
        {
            await load();
            return null;
        }
        catch (NotFoundException)
        {
            navigation.NotFound();
            return null;
        }
        catch (Exception e) when (Shown(e))
        {
            return e.Message;
        }
    }
}
