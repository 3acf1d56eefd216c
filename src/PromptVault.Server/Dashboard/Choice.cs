using Microsoft.AspNetCore.Http;
using PromptVault.Core;

namespace PromptVault.Server.Dashboard;

/// <summary>The one rule for a choice typed into a <see cref="Shared.ChoiceInput"/> (or linked): one that is invalid or not
/// found is a message for the input that names it, not the not-found page or a fault. An invalid one in the page's address
/// (<c>address</c> is the static render's context) makes the page answer 400, as the deploy page's bad parameters do.</summary>
internal static class Choice
{
    public static async Task<(T? Found, string? Error)> FindAsync<T>(Func<Task<T>> read, HttpContext? address = null) where T : class
    {
        try
        {
            return (await read(), null);
        }
        catch (Exception e) when (e is NotFoundException or InvalidInputException)
        {
            // A missing one keeps 200: a 404 would replace this page (and its message) with the not-found page.
            if (e is InvalidInputException) address.Answer(StatusCodes.Status400BadRequest);
            return (null, e.Message);
        }
    }
}
