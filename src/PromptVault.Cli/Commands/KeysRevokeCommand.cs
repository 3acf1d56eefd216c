namespace PromptVault.Cli.Commands;

/// <summary><c>keys revoke ID</c>: revokes an API key; requests with it are refused from then on.</summary>
internal sealed class KeysRevokeCommand(CliContext context)
{
    public Task<int> InvokeAsync(RemoteSettings remote, string id, CancellationToken cancellationToken) =>
        context.CallServerAsync(remote, async client =>
        {
            await client.RevokeKeyAsync(id, cancellationToken);
            if (remote.Json)
                context.Out.WriteLine(CliJson.Serialize(new Dictionary<string, string?> { ["revoked"] = id }));
            else
                context.Out.WriteLine($"Revoked API key {id}.");
            return ExitCodes.Success;
        }, cancellationToken);
}
