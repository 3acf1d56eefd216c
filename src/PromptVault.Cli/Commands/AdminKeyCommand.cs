using PromptVault.Server.Hosting;

namespace PromptVault.Cli.Commands;

/// <summary>
/// <c>admin-key --db FILE | --postgres CONNSTRING</c>: run on the server's machine when every admin key is lost or revoked.
/// Creates a new admin key directly in the database (audited as <c>api_key.admin_recovered</c>) and prints it once. Running
/// servers accept it at once.
/// </summary>
internal sealed class AdminKeyCommand(CliContext context)
{
    public async Task<int> InvokeAsync(string? database, string? postgres, bool json, CancellationToken cancellationToken)
    {
        context.JsonErrors = json;
        if (database is not null && postgres is not null)
        {
            context.WriteError("give --db FILE or --postgres CONNSTRING, not both.");
            return ExitCodes.Usage;
        }
        if (database is null && postgres is null)
        {
            context.WriteError("give the server's database: --db FILE or --postgres CONNSTRING.");
            return ExitCodes.Usage;
        }
        if (database is not null && DatabaseFiles.Check(database, mustExist: true) is { } problem)
        {
            context.WriteError(problem);
            return ExitCodes.Usage;
        }

        ServerOptions storage;
        try
        {
            storage = postgres is null
                ? new ServerOptions { DatabasePath = Path.GetFullPath(database!) }
                : new ServerOptions { Postgres = ServerStorage.ParsePostgres(postgres, "--postgres") };
        }
        catch (InvalidOperationException e)
        {
            context.WriteError(e.Message);
            return ExitCodes.Usage;
        }
        var where = ServerStorage.Describe(storage);
        Core.Contracts.CreatedApiKeyResponse created;
        try
        {
            created = await PromptVaultServer.CreateRecoveryAdminKeyAsync(storage, cancellationToken);
        }
        catch (Exception e) when (ServerStorage.IsDatabaseFailure(e) || e is InvalidOperationException)
        {
            context.WriteError($"{where}: {e.Message.ReplaceLineEndings(" ")}");
            return ExitCodes.Refused;
        }
        return context.Print(json, created, () =>
        {
            context.Out.WriteLine($"Created admin API key '{created.Name}', id {created.Id}, in {where}.");
            context.Out.WriteLine($"Key (shown once, store it now): {created.Key}");
        });
    }
}
