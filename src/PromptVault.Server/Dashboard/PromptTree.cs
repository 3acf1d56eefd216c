using PromptVault.Core.Contracts;

namespace PromptVault.Server.Dashboard;

/// <summary>Prompts arranged by folder: each '/' in a name opens a folder (<c>support/billing/reply</c>).</summary>
public sealed class PromptTree
{
    public string Name { get; }

    public SortedDictionary<string, PromptTree> Folders { get; } = new(StringComparer.Ordinal);

    public List<PromptResponse> Prompts { get; } = [];

    private PromptTree(string name) => Name = name;

    public static PromptTree Of(IEnumerable<PromptResponse> prompts)
    {
        var root = new PromptTree("");
        foreach (var prompt in prompts.OrderBy(p => p.Name, StringComparer.Ordinal))
        {
            var node = root;
            var parts = prompt.Name.Split('/');
            foreach (var folder in parts[..^1])
            {
                if (!node.Folders.TryGetValue(folder, out var child))
                    node.Folders[folder] = child = new PromptTree(folder);
                node = child;
            }
            node.Prompts.Add(prompt);
        }
        return root;
    }

    /// <summary>The last segment of a prompt's name, shown inside its folder.</summary>
    public static string Leaf(string name) => name[(name.LastIndexOf('/') + 1)..];
}
