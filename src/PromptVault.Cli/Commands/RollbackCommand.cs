using PromptVault.Core.Prompts;

namespace PromptVault.Cli.Commands;

/// <summary><c>rollback NAME VERSION [--reason R] [--expect V|none]</c>: a new version with an earlier version's content, promoted to production.</summary>
internal sealed class RollbackCommand(CliContext context)
{
    public Task<int> InvokeAsync(RemoteSettings remote, string name, string version, string? reason, LabelExpectation? expect, CancellationToken cancellationToken) =>
        context.CallServerAsync(remote, async client =>
        {
            var created = await client.RollbackAsync(name, version, reason, expect, cancellationToken);
            return context.Print(remote.Json, created, () => context.Out.WriteLine($"Rolled back {created.PromptName} to {version}: new version {created.Version} is in production."));
        }, cancellationToken, new TargetVersion(name, version) { Expect = expect });
}
