using PromptVault.Core;
using PromptVault.Core.Prompts;

namespace PromptVault.Cli.Commands;

/// <summary><c>status NAME VERSION STATUS [--expect V|none]</c>: moves a version through the lifecycle; <c>approved</c> by a key other than its author's.</summary>
internal sealed class StatusCommand(CliContext context)
{
    public Task<int> InvokeAsync(RemoteSettings remote, string name, string version, VersionStatus status, LabelExpectation? expect, CancellationToken cancellationToken) =>
        context.CallServerAsync(remote, async client =>
        {
            var moved = await client.ChangeStatusAsync(name, version, status, expect, cancellationToken);
            return context.Print(remote.Json, moved, () => context.Out.WriteLine($"{moved.PromptName} {moved.Version} is {Names.Of(moved.Status)}" +
                (status == VersionStatus.Approved ? $", approved by {moved.ApprovedBy}." : ".")));
        }, cancellationToken, new TargetVersion(name, version) { Expect = expect });
}
