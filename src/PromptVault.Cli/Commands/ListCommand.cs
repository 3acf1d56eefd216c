using PromptVault.Core;
using PromptVault.Core.Prompts;
using Spectre.Console;

namespace PromptVault.Cli.Commands;

/// <summary><c>list [--type T] [--category C] [--tag T]</c>: the prompts with their latest version and labels.</summary>
internal sealed class ListCommand(CliContext context)
{
    public Task<int> InvokeAsync(RemoteSettings remote, PromptType? type, string? category, string? tag, CancellationToken cancellationToken) =>
        context.CallServerAsync(remote, async client =>
        {
            var list = await client.ListPromptsAsync(type, category, tag, cancellationToken);
            return context.Print(remote.Json, list, () =>
            {
                var table = Tables.Create("Name", "Type", "Latest", "Labels", "Updated", "Description");
                foreach (var prompt in list.Prompts.OrderBy(p => p.Name, StringComparer.Ordinal))
                {
                    table.AddRow(Tables.Cells(prompt.Name, Names.Of(prompt.Type), prompt.LatestVersion.Version,
                        string.Join(", ", prompt.Labels.Select(l => $"{l.Key}={l.Value}")), Tables.Time(prompt.UpdatedAt), prompt.Description));
                }
                string?[] filters = [type is null ? null : $"--type {Names.Of(type.Value)}", category is null ? null : $"--category {category}", tag is null ? null : $"--tag {tag}"];
                var given = string.Join(" ", filters.OfType<string>());
                Tables.Write(context, table, given.Length == 0
                    ? "No prompts yet: create one with 'promptvault push FILE'."
                    : $"No prompts match {given}; 'promptvault list' without it shows them all.");
            });
        }, cancellationToken);
}
