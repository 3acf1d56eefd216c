using PromptVault.Client;
using PromptVault.Core.Storage;
using Spectre.Console;

namespace PromptVault.Cli.Commands;

/// <summary><c>import FILE [--merge]</c>: loads an export document into the server, all or nothing.</summary>
internal sealed class ImportCommand(CliContext context)
{
    public Task<int> InvokeAsync(RemoteSettings remote, string path, bool merge, CancellationToken cancellationToken) =>
        context.CallServerAsync(remote, async client =>
        {
            if (CliException.NotAFile(path) is { } why) throw CliException.Usage(why);
            await using var file = CliException.OpenRead(path);
            RegistryImportReport report;
            try
            {
                report = await client.ImportAsync(file, merge, cancellationToken);
            }
            catch (PromptVaultApiException e) when (e.Code == "payload_too_large")
            {
                // The server's own setting bounds a document, which the detail names; no edit of the file makes it fit.
                context.WriteError(e, path, hint: "nothing was imported; the document is sent in one request, which the server's setting named above bounds: whoever runs the server can raise it.");
                return ExitCodes.Refused;
            }
            return context.Print(remote.Json, report, () =>
            {
                WriteReport(report);
            });
        }, cancellationToken);

    private void WriteReport(RegistryImportReport report)
    {
        var table = Tables.Create("Section", "Imported");
        foreach (var (section, count) in report.Counts.Where(c => c.Value > 0))
            table.AddRow(Tables.Cells(section, count.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Tables.Write(context, table, "Imported nothing: the document holds nothing this registry lacks.");
        context.Console.MarkupLineInterpolated($"Added prompts: {(report.AddedPrompts.Count == 0 ? "none" : string.Join(", ", report.AddedPrompts))}");
        if (report.Merge)
        {
            context.Console.MarkupLineInterpolated(
                $"Skipped prompts (a prompt of that name exists; nothing of theirs was imported): {(report.SkippedPrompts.Count == 0 ? "none" : string.Join(", ", report.SkippedPrompts))}");
            context.Console.MarkupLineInterpolated($"Skipped API keys (already present): {report.SkippedKeys.Count}; skipped audit entries: {report.SkippedAuditEntries}");
        }
        else if (report.ReplacedKeys + report.ReplacedAuditEntries > 0)
        {
            context.Console.MarkupLineInterpolated(
                $"Replaced this server's own {report.ReplacedKeys} API key(s) and {report.ReplacedAuditEntries} audit entries with the document's: use the exported keys from now on.");
        }
    }
}
