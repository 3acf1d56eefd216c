using PromptVault.Core;
using PromptVault.Core.Auth;

namespace PromptVault.Cli.Commands;

/// <summary><c>keys create --role R [--name N]</c>: creates an API key and prints it, the only time it is shown.</summary>
internal sealed class KeysCreateCommand(CliContext context)
{
    public Task<int> InvokeAsync(RemoteSettings remote, string? name, ApiKeyRole role, CancellationToken cancellationToken) =>
        context.CallServerAsync(remote, async client =>
        {
            var created = await client.CreateKeyAsync(string.IsNullOrWhiteSpace(name) ? Names.Of(role) : name, role, cancellationToken);
            return context.Print(remote.Json, created, () =>
            {
                context.Out.WriteLine($"Created API key '{created.Name}' ({Names.Of(created.Role)}), id {created.Id}.");
                context.Out.WriteLine($"Key (shown once, store it now): {created.Key}");
            });
        }, cancellationToken);
}
