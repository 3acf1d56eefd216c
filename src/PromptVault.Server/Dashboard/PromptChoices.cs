using PromptVault.Core;
using PromptVault.Core.Contracts;
using PromptVault.Core.Registry;
using PromptVault.Core.Storage;

namespace PromptVault.Server.Dashboard;

/// <summary>
/// The prompts a page offers in a <see cref="Shared.ChoiceInput"/> without reading every one (a registry may hold thousands):
/// the first by name that contain the text typed so far are suggested, any other is typed and read on its own.
/// </summary>
public sealed class PromptChoices(PromptRegistry registry, IReadOnlyList<PromptResponse> first)
{
    private IReadOnlyList<PromptResponse> _first = first;
    private int _asked; // the latest FollowAsync: an earlier read still awaiting the registry leaves the suggestions to it

    public static async Task<PromptChoices> ReadAsync(PromptRegistry registry) => new(registry, await ReadFirstAsync(registry, null));

    /// <summary>Suggests the first prompts whose names contain <paramref name="typed"/> (the prompts page's name search).</summary>
    public async Task FollowAsync(string? typed)
    {
        var asked = ++_asked;
        var read = await ReadFirstAsync(registry, typed);
        if (asked == _asked) _first = read;
    }

    public IEnumerable<(string Value, string Text)> Suggested() => _first.Select(p => (p.Name, ""));

    /// <summary>The prompt typed or linked; a missing (or malformed) one is a message for the input that names it.</summary>
    public async Task<(PromptResponse? Prompt, string? Error)> FindAsync(string name)
    {
        if (_first.FirstOrDefault(p => p.Name == name) is { } read) return (read, null);
        return await Choice.FindAsync(() => registry.GetPromptAsync(name));
    }

    private static async Task<IReadOnlyList<PromptResponse>> ReadFirstAsync(PromptRegistry registry, string? typed)
    {
        var part = string.IsNullOrWhiteSpace(typed) ? null : typed.Trim();
        try
        {
            return (await registry.ListPromptsAsync(new PromptFilter(Page: new PageRequest(Shared.ShowMore.DefaultStep), NameContains: part))).Prompts;
        }
        catch (InvalidInputException)
        {
            return []; // a NUL typed: nothing matches, and FindAsync names the problem when the value is chosen
        }
    }
}
