using PromptVault.Core;
using PromptVault.Core.Versioning;
using Spectre.Console;

namespace PromptVault.Cli.Commands;

/// <summary><c>history NAME [--limit N]</c>: the versions of a prompt, newest first.</summary>
internal sealed class HistoryCommand(CliContext context)
{
    public Task<int> InvokeAsync(RemoteSettings remote, string name, int? limit, CancellationToken cancellationToken) =>
        context.CallServerAsync(remote, async client =>
        {
            var history = limit is { } newest ? await client.ListVersionsAsync(name, newest, cancellationToken) : await client.ListVersionsAsync(name, cancellationToken);
            return context.Print(remote.Json, history, () =>
            {
                var table = Tables.Create("Version", "Status", "Labels", "Author", "Approved by", "Created", "Change");
                var newestFirst = history.Versions
                    .OrderByDescending(v => SemanticVersion.TryParse(v.Version, out var number) ? number : default)
                    .ThenByDescending(v => v.CreatedAt);
                foreach (var version in newestFirst)
                {
                    table.AddRow(Tables.Cells(version.Version, Names.Of(version.Status), string.Join(", ", version.Labels),
                        version.CreatedBy, version.ApprovedBy ?? "", Tables.Time(version.CreatedAt), version.ChangeDescription));
                }
                context.Console.Write(table);
                Tables.WriteShown(context, history.Versions.Count, history.Total, "versions");
            });
        }, cancellationToken);
}
