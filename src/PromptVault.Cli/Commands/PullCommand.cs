using PromptVault.Cli.PromptFiles;

namespace PromptVault.Cli.Commands;

/// <summary>
/// <c>pull NAME [--version V] [-o FILE]</c>: writes a version (the latest by default) as a prompt file, to FILE or stdout.
/// With --json, stdout has the version's JSON instead: the file is written all the same when -o names one.
/// </summary>
internal sealed class PullCommand(CliContext context)
{
    public Task<int> InvokeAsync(RemoteSettings remote, string name, string? version, string? output, CancellationToken cancellationToken) =>
        context.CallServerAsync(remote, async client =>
        {
            var prompt = await client.GetPromptAsync(name, cancellationToken);
            var pulled = version is null ? prompt.LatestVersion : await client.GetVersionAsync(name, version, cancellationToken);
            if (remote.Json && output is null)
            {
                context.WriteJson(pulled);
                return ExitCodes.Success;
            }

            if (pulled.ApprovedBy is not null && !remote.Json)
                context.Error.WriteLine($"{prompt.Name} {pulled.Version} was approved by {pulled.ApprovedBy} at {pulled.ApprovedAt:u}.");
            var tests = await client.GetTestsAsync(name, pulled.Id, cancellationToken);
            var text = PromptFileWriter.Write(prompt, pulled, tests.Tests);
            if (output is null)
            {
                context.Out.Write(text);
                return ExitCodes.Success;
            }

            CliException.ThrowIfFolderMissing("-o", output);
            await File.WriteAllTextAsync(output, text, cancellationToken);
            return context.Print(remote.Json, pulled, () => context.Error.WriteLine($"Wrote {prompt.Name} {pulled.Version} to {output}."));
        }, cancellationToken);
}
