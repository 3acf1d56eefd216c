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
            if (remote.Json)
            {
                context.WriteJson(list);
                return ExitCodes.Success;
            }
            if (list.Prompts.Count == 0)
            {
                context.Error.WriteLine("No prompts yet: create one with 'promptvault push FILE'.");
                return ExitCodes.Success;
            }

            var table = Tables.Create("Name", "Type", "Latest", "Labels", "Updated", "Description");
            foreach (var prompt in list.Prompts.OrderBy(p => p.Name, StringComparer.Ordinal))
            {
                table.AddRow(Tables.Cells(prompt.Name, Names.Of(prompt.Type), prompt.LatestVersion.Version,
                    string.Join(", ", prompt.Labels.Select(l => $"{l.Key}={l.Value}")), Tables.Time(prompt.UpdatedAt), prompt.Description));
            }
            context.Console.Write(table);
            return ExitCodes.Success;
        }, cancellationToken);
}
