using Microsoft.AspNetCore.Http;
using PromptVault.Core;

namespace PromptVault.Server.Dashboard;

/// <summary>The one rule for a choice typed into a <see cref="Shared.ChoiceInput"/>: one that is invalid or not found is a
/// message for the input that names it, not a fault. One read from the page's address (<c>address</c> is the static render's
/// context) makes the page answer 400 if invalid, as the deploy page's bad parameters do. If not found, a page that is for
/// the chosen thing (<paramref name="pageIsForIt"/>: a compare page's versions) is for a missing thing, and its load
/// (<see cref="MissingPage.LoadAsync"/>) answers 404 with the not-found page naming it (a 404 page's own content would not be
/// sent: the framework leaves a 404's body to the not-found page); a page for something else that takes the choice as a
/// filter (the prompt page's metrics version) keeps 200 and shows the message by its input.</summary>
internal static class Choice
{
    public static async Task<(T? Found, string? Error)> FindAsync<T>(Func<Task<T>> read, HttpContext? address = null, bool pageIsForIt = true) where T : class
    {
        try
        {
            return (await read(), null);
        }
        catch (NotFoundException) when (address is not null && pageIsForIt)
        {
            throw;
        }
        catch (Exception e) when (e is NotFoundException or InvalidInputException)
        {
            if (e is InvalidInputException) address.Answer(StatusCodes.Status400BadRequest);
            return (null, e.Message);
        }
    }
}
