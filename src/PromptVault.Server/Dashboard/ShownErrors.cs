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
}
