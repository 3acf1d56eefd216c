using PromptVault.Core.Prompts;

namespace PromptVault.Cli.Commands;

/// <summary><c>promote NAME VERSION [--label L] [--expect V|none]</c>: points a label (default <c>production</c>) at a version.</summary>
internal sealed class PromoteCommand(CliContext context)
{
    public Task<int> InvokeAsync(RemoteSettings remote, string name, string version, string label, LabelExpectation? expect, CancellationToken cancellationToken) =>
        context.CallServerAsync(remote, async client =>
        {
            var moved = await client.MoveLabelAsync(name, label, version, expect, cancellationToken);
            return context.Print(remote.Json, moved, () => context.Out.WriteLine(label == Label.Production
                ? $"Promoted {moved.PromptName} {moved.Version} to production."
                : $"Moved label {label} of {moved.PromptName} to {moved.Version}."));
        }, cancellationToken, new TargetVersion(name, version) { Label = label, Expect = expect });
}
