using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using PromptVault.Server.Hosting;

namespace PromptVault.Cli.Commands;

/// <summary>
/// <c>serve [--db FILE | --postgres CONNSTRING] [--urls URL]</c>: runs the server until Ctrl+C. Without either option the
/// configuration's <c>PromptVault:Postgres</c> or the environment's <c>DATABASE_URL</c> names a PostgreSQL database, else the
/// SQLite file <c>promptvault.db</c> is used (<see cref="ServerStorage.Resolve"/>). When the database holds no active admin key
/// (a new database) it creates one and prints it, the only time it is ever shown. Every start-up failure is one line on
/// stderr and exit code 2; a bad --urls or setting is refused before the database is created.
/// </summary>
internal sealed class ServeCommand(CliContext context)
{
    public async Task<int> InvokeAsync(string? database, string urls, string? postgres, CancellationToken cancellationToken)
    {
        if (database is not null && postgres is not null)
        {
            context.WriteError("give --db FILE or --postgres CONNSTRING, not both.");
            return ExitCodes.Usage;
        }
        var options = new ServerOptions { DatabasePath = database, Urls = urls };
        WebApplication app;
        try
        {
            if (postgres is not null)
                options.Postgres = ServerStorage.ParsePostgres(postgres, "--postgres");
            app = PromptVaultServer.Build(options);
        }
        catch (InvalidOperationException e)
        {
            context.WriteError(e.Message);
            return ExitCodes.Usage;
        }
        await using (app)
        {
            // The options now say which database; a SQLite file is checked before anything opens it.
            if (options.Postgres is null && DatabaseFiles.Check(options.DatabasePath!) is { } problem)
            {
                context.WriteError(problem);
                return ExitCodes.Usage;
            }
            var where = ServerStorage.Describe(options);
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
                var (message, hint) = StartupFailure(e, where, urls);
                context.WriteError(message, hint);
                return ExitCodes.Usage;
            }

            var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses;
            var listening = addresses is { Count: > 0 } ? string.Join(", ", addresses) : urls;
            context.Out.WriteLine($"PromptVault is listening on {listening} ({where}). Press Ctrl+C to stop.");
            await context.Out.FlushAsync(cancellationToken);

            // Returns when Ctrl+C (or the token) stops the host, after a graceful stop.
            await app.WaitForShutdownAsync(cancellationToken);
            return ExitCodes.Success;
        }
    }

    private static (string Message, string? Hint) StartupFailure(Exception e, string where, string urls) => e switch
    {
        // Kestrel reports an address in use or not available this way.
        IOException when e.Message.Contains("bind", StringComparison.OrdinalIgnoreCase) => ($"cannot listen on {urls}: {OneLine(e.Message)}",
            "is another program, such as another 'promptvault serve', listening there? Stop it, or give serve another address with --urls (e.g. --urls http://127.0.0.1:5181)."),
        _ when ServerStorage.IsDatabaseFailure(e) => ($"{where}: {ServerStorage.FailureMessage(e)}", null),
        _ => (OneLine(e.Message), null),
    };

    private static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();
}
