using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using PromptVault.Server.Hosting;

namespace PromptVault.Cli.Commands;

/// <summary>
/// <c>serve [--db FILE] [--urls URL]</c>: runs the server until Ctrl+C. On an empty database it creates the first admin
/// key and prints it, the only time it is ever shown.
/// </summary>
internal sealed class ServeCommand(CliContext context)
{
    public async Task<int> InvokeAsync(string database, string urls, string? postgres, CancellationToken cancellationToken)
    {
        if (postgres is not null)
        {
            context.WriteError("PostgreSQL storage is not available yet; use --db FILE to serve from a SQLite database.");
            return ExitCodes.Usage;
        }
        var path = Path.GetFullPath(database);
        var folder = Path.GetDirectoryName(path);
        if (folder is not null && !Directory.Exists(folder))
        {
            context.WriteError($"--db {database}: the folder {folder} does not exist.");
            return ExitCodes.Usage;
        }

        await using var app = PromptVaultServer.Build(new ServerOptions { DatabasePath = path, Urls = urls });
        var admin = await PromptVaultServer.InitializeAsync(app, cancellationToken);
        if (admin is not null)
            context.Out.WriteLine($"Created the first admin API key (shown once, store it now): {admin.Key}");

        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (IOException e)
        {
            // Kestrel reports an address in use or not available this way.
            context.WriteError($"cannot listen on {urls}: {e.Message}");
            return ExitCodes.Refused;
        }

        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses;
        var listening = addresses is { Count: > 0 } ? string.Join(", ", addresses) : urls;
        context.Out.WriteLine($"PromptVault is listening on {listening} (database {path}). Press Ctrl+C to stop.");
        await context.Out.FlushAsync(cancellationToken);

        // Returns when Ctrl+C (or the token) stops the host, after a graceful stop.
        await app.WaitForShutdownAsync(cancellationToken);
        return ExitCodes.Success;
    }
}
