using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using PromptVault.Server.Hosting;

namespace PromptVault.Cli.Commands;

/// <summary>
/// <c>serve [--db FILE] [--urls URL]</c>: runs the server until Ctrl+C. When the database holds no active admin key (a new
/// database) it creates one and prints it, the only time it is ever shown. Every start-up failure is one line on stderr
/// and exit code 2; a bad --urls or setting is refused before the database is created.
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
        if (DatabaseFiles.Check(database) is { } problem)
        {
            context.WriteError(problem);
            return ExitCodes.Usage;
        }
        var path = Path.GetFullPath(database);

        WebApplication app;
        try
        {
            app = PromptVaultServer.Build(new ServerOptions { DatabasePath = path, Urls = urls });
        }
        catch (InvalidOperationException e)
        {
            context.WriteError(e.Message);
            return ExitCodes.Usage;
        }
        await using (app)
        {
            try
            {
                // Listen before creating the first admin key, so a port in use never costs a key that was never shown.
                await PromptVaultServer.MigrateAsync(app, cancellationToken);
                await app.StartAsync(cancellationToken);
                var admin = await PromptVaultServer.CreateFirstAdminKeyAsync(app, cancellationToken);
                if (admin is not null)
                    context.Out.WriteLine($"Created the first admin API key (shown once, store it now): {admin.Key}");
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Start-up failures (address in use, a file that is not a database, ...) are for people: one line, no stack trace.
                context.WriteError(StartupFailure(e, path, urls));
                return ExitCodes.Usage;
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

    private static string StartupFailure(Exception e, string path, string urls) => e switch
    {
        // Kestrel reports an address in use or not available this way.
        IOException when e.Message.Contains("bind", StringComparison.OrdinalIgnoreCase) => $"cannot listen on {urls}: {OneLine(e.Message)}",
        Microsoft.Data.Sqlite.SqliteException or IOException or UnauthorizedAccessException => $"--db {path}: {OneLine(e.Message)}",
        _ => OneLine(e.Message),
    };

    private static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();
}
