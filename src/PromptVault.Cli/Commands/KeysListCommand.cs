using PromptVault.Core;
using Spectre.Console;

namespace PromptVault.Cli.Commands;

/// <summary><c>keys list</c>: the API keys (never their secrets), revoked ones included.</summary>
internal sealed class KeysListCommand(CliContext context)
{
    public Task<int> InvokeAsync(RemoteSettings remote, CancellationToken cancellationToken) =>
        context.CallServerAsync(remote, async client =>
        {
            var keys = await client.ListKeysAsync(cancellationToken);
            return context.Print(remote.Json, keys, () =>
            {
                var table = Tables.Create("Id", "Name", "Role", "Prefix", "Created", "Created by", "Revoked");
                foreach (var key in keys.Keys.OrderBy(k => k.CreatedAt))
                {
                    table.AddRow(Tables.Cells(key.Id, key.Name, Names.Of(key.Role), key.Prefix, Tables.Time(key.CreatedAt), key.CreatedBy,
                        key.RevokedAt is { } revoked ? Tables.Time(revoked) : ""));
                }
                context.Console.Write(table);
            });
        }, cancellationToken);
}
