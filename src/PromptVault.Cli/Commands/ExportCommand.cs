using System.Globalization;
using Spectre.Console;

namespace PromptVault.Cli.Commands;

/// <summary><c>export [--out FILE]</c>: the whole registry as one document (docs/export-format.md), to FILE or stdout.</summary>
internal sealed class ExportCommand(CliContext context)
{
    public Task<int> InvokeAsync(RemoteSettings remote, string? output, CancellationToken cancellationToken) =>
        context.CallServerAsync(remote, async client =>
        {
            if (output is not null) CliException.ThrowIfFolderMissing("--out", output);
            // Streamed to a file next to the target and moved into place only when complete, so a failure never leaves half a document.
            // Without --out the file is a temporary one in the shared temporary folder: readable by this user only, and deleted
            // however the copy to stdout ends (a closed pipe, Ctrl+C), as it holds the whole registry.
            var temporary = output is null;
            var path = Path.GetFullPath(output ?? Path.Combine(Path.GetTempPath(), "promptvault-export-" + Path.GetRandomFileName()));
            var partial = path + ".partial";
            try
            {
                await using (var file = Create(partial, ownerOnly: temporary))
                    await client.ExportAsync(file, cancellationToken);
                File.Move(partial, path, overwrite: true);
                if (temporary) await CopyToOutAsync(path, cancellationToken);
            }
            finally
            {
                File.Delete(partial);
                if (temporary) File.Delete(path);
            }

            if (temporary) return ExitCodes.Success;
            var exported = new ExportResult(path, new FileInfo(path).Length);
            return context.Print(remote.Json, exported, () =>
                context.Console.MarkupLineInterpolated($"Exported the registry to {path} ({exported.Bytes.ToString("N0", CultureInfo.InvariantCulture)} bytes)."));
        }, cancellationToken);

    private static FileStream Create(string path, bool ownerOnly)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (ownerOnly && !OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        return new FileStream(path, options);
    }

    private async Task CopyToOutAsync(string path, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(path);
        var buffer = new char[64 * 1024];
        int read;
        while ((read = await reader.ReadAsync(buffer, cancellationToken)) > 0)
            await context.Out.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
        await context.Out.WriteLineAsync();
    }
}

internal sealed record ExportResult(string Path, long Bytes);
