using PromptVault.Core.Audit;
using Spectre.Console;

namespace PromptVault.Cli.Commands;

/// <summary><c>audit [NAME] [--limit N]</c>: the audit log (of one prompt): who did what, when, before and after.</summary>
internal sealed class AuditCommand(CliContext context)
{
    public Task<int> InvokeAsync(RemoteSettings remote, string? name, int? limit, CancellationToken cancellationToken) =>
        context.CallServerAsync(remote, async client =>
        {
            var audit = limit is { } newest ? await client.ListAuditAsync(name, newest, cancellationToken) : await client.ListAuditAsync(name, cancellationToken);
            if (remote.Json)
            {
                context.WriteJson(audit);
                return ExitCodes.Success;
            }
            var table = Tables.Create("Time", "Actor", "Action", "Prompt", "Subject", "Change");
            foreach (var entry in audit.Entries)
                table.AddRow(Tables.Cells(Tables.Time(entry.Timestamp), entry.Actor, entry.Action, entry.PromptName, entry.Subject, Change(entry)));
            context.Console.Write(table);
            Tables.WriteShown(context, audit.Entries.Count, audit.Total, "entries");
            return ExitCodes.Success;
        }, cancellationToken);

    /// <summary><c>field: before → after</c> for each field that moved, <c>field=value</c> for what was only set.</summary>
    private static string Change(AuditEntry entry)
    {
        var before = entry.Before ?? new Dictionary<string, string?>();
        var after = entry.After ?? new Dictionary<string, string?>();
        var fields = before.Keys.Union(after.Keys).Select(key =>
            before.ContainsKey(key) && after.ContainsKey(key) ? $"{key}: {before[key] ?? "(none)"} → {after[key] ?? "(none)"}"
            : after.TryGetValue(key, out var value) ? $"{key}={value}"
            : $"{key} was {before[key]}");
        return string.Join("; ", fields);
    }
}
