namespace PromptVault.Cli.Commands;

/// <summary><c>keys revoke ID</c>: revokes an API key; requests with it are refused from then on.</summary>
internal sealed class KeysRevokeCommand(CliContext context)
{
    public Task<int> InvokeAsync(RemoteSettings remote, string id, CancellationToken cancellationToken) =>
        context.CallServerAsync(remote, async client =>
        {
            await client.RevokeKeyAsync(id, cancellationToken);
            return context.Print(remote.Json, new Dictionary<string, string?> { ["revoked"] = id }, () => context.Out.WriteLine($"Revoked API key {id}."));
        }, cancellationToken);
}
