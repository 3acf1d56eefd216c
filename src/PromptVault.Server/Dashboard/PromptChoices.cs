using PromptVault.Core;
using PromptVault.Core.Contracts;
using PromptVault.Core.Registry;
using PromptVault.Core.Storage;

namespace PromptVault.Server.Dashboard;

/// <summary>
/// The prompts a page offers in a <see cref="Shared.ChoiceInput"/> without reading every one (a registry may hold thousands):
/// the first by name are suggested, any other is typed and read on its own.
/// </summary>
public sealed class PromptChoices(PromptRegistry registry, IReadOnlyList<PromptResponse> first)
{
    public static async Task<PromptChoices> ReadAsync(PromptRegistry registry) =>
        new(registry, (await registry.ListPromptsAsync(new PromptFilter(Page: new PageRequest(Shared.ShowMore.DefaultStep)))).Prompts);

    public IEnumerable<(string Value, string Text)> Suggested() => first.Select(p => (p.Name, ""));

    /// <summary>The prompt typed or linked; a missing (or malformed) one is a message for the input that names it.</summary>
    public async Task<(PromptResponse? Prompt, string? Error)> FindAsync(string name)
    {
        if (first.FirstOrDefault(p => p.Name == name) is { } read) return (read, null);
        return await Choice.FindAsync(() => registry.GetPromptAsync(name));
    }
}
