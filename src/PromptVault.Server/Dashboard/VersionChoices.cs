using PromptVault.Core;
using PromptVault.Core.Contracts;
using PromptVault.Core.Registry;
using PromptVault.Core.Storage;

namespace PromptVault.Server.Dashboard;

/// <summary>
/// The versions a page offers in a <see cref="Shared.ChoiceInput"/> without reading every one (a prompt may have thousands):
/// the newest and the labelled ones are suggested, any other is typed and read on its own.
/// </summary>
public sealed class VersionChoices(PromptRegistry registry, PromptResponse prompt, IReadOnlyList<VersionResponse> newest, int total)
{
    public PromptResponse Prompt => prompt;

    /// <summary>The newest versions read, newest first.</summary>
    public IReadOnlyList<VersionResponse> Newest => newest;

    public int Total => total;

    /// <summary>Reads the prompt and its newest <paramref name="count"/> versions (at least as many as are suggested).</summary>
    public static async Task<VersionChoices> ReadAsync(PromptRegistry registry, string name, int count = Shared.ShowMore.DefaultStep) =>
        await ReadAsync(registry, await registry.GetPromptAsync(name), count);

    /// <summary>Reads the newest <paramref name="count"/> versions of <paramref name="prompt"/>, which the page has already read.</summary>
    public static async Task<VersionChoices> ReadAsync(PromptRegistry registry, PromptResponse prompt, int count = Shared.ShowMore.DefaultStep)
    {
        var list = await registry.ListVersionsAsync(prompt, new PageRequest(Math.Max(count, Shared.ShowMore.DefaultStep)));
        return new(registry, prompt, list.Versions, list.Total);
    }

    /// <summary>The suggested versions: the newest, then each labelled one, with its labels.</summary>
    public IEnumerable<(string Version, string Labels)> Suggested() =>
        newest.Take(Shared.ShowMore.DefaultStep).Select(v => v.Version)
            .Concat(prompt.Labels.Values)
            .Distinct()
            .Select(v => (v, string.Join(", ", prompt.Labels.Where(l => l.Value == v).Select(l => l.Key))));

    /// <summary>
    /// The version typed or linked (a number or a label). A missing one is a message for the input that names it, or, read from
    /// the page's address, the not-found page naming it (<see cref="Choice"/>).
    /// </summary>
    public async Task<(VersionResponse? Version, string? Error)> FindAsync(string version, Microsoft.AspNetCore.Http.HttpContext? address = null, bool pageIsForIt = true)
    {
        if (prompt.Labels.TryGetValue(version, out var labelled)) version = labelled;
        if (newest.FirstOrDefault(v => v.Version == version) is { } read) return (read, null);
        return await Choice.FindAsync(() => registry.GetVersionAsync(prompt.Name, version), address, pageIsForIt);
    }
}
