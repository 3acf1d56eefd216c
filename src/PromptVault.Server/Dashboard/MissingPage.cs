using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Http;
using PromptVault.Core;

namespace PromptVault.Server.Dashboard;

/// <summary>
/// The one way a page says that what its address names (a prompt, version, experiment, evaluation run) does not exist: status
/// 404 and the dashboard's not-found page, which shows <see cref="Message"/>, the registry's words naming what is missing.
/// Scoped: the not-found page is rendered in the same request (or circuit) as the page that found nothing.
/// </summary>
internal sealed class MissingPage(NavigationManager navigation)
{
    /// <summary>What is missing, in words; null for an address with no page at all.</summary>
    public string? Message { get; private set; }

    public void Show(NotFoundException missing)
    {
        Message = missing.Message;
        navigation.NotFound();
    }

    /// <summary>
    /// Runs a page's load of what its address names: a missing one is <see cref="Show"/>n; another shown failure is returned
    /// as the message the page shows instead, and one the registry refuses as invalid (a prompt name no prompt may have, a bad
    /// query parameter) is a bad address: the page answers 400 (<paramref name="address"/> is the static render's context), as
    /// the API does, not 200.
    /// </summary>
    public async Task<string?> LoadAsync(Func<Task> load, HttpContext? address)
    {
        try
        {
            await load();
            return null;
        }
        catch (NotFoundException e)
        {
            Show(e);
            return null;
        }
        catch (Exception e) when (ShownErrors.Shown(e))
        {
            if (e is InvalidInputException) address.Answer(StatusCodes.Status400BadRequest);
            return e.Message;
        }
    }
}
