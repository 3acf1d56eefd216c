using Spectre.Console;

namespace PromptVault.Cli.Commands;

/// <summary><c>audit [NAME] [--limit N]</c>: the audit log (of one prompt): who did what, when, before and after.</summary>
internal sealed class AuditCommand(CliContext context)
{
    public Task<int> InvokeAsync(RemoteSettings remote, string? name, int? limit, CancellationToken cancellationToken) =>
        context.CallServerAsync(remote, async client =>
        {
            var audit = limit is { } newest ? await client.ListAuditAsync(name, newest, cancellationToken) : await client.ListAuditAsync(name, cancellationToken);
            return context.Print(remote.Json, audit, () =>
            {
                var table = Tables.Create("Time", "Actor", "Action", "Prompt", "Subject", "Change");
                foreach (var entry in audit.Entries)
                    table.AddRow(Tables.Cells(Tables.Time(entry.Timestamp), entry.Actor, entry.Action, entry.PromptName, entry.Subject, entry.Change()));
                context.Console.Write(table);
                Tables.WriteShown(context, audit.Entries.Count, audit.Total, "entries");
            });
        }, cancellationToken);
}
