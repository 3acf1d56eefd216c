using PromptVault.Server.Hosting;

namespace PromptVault.Cli.Commands;

/// <summary>
/// <c>admin-key --db FILE | --postgres CONNSTRING</c>: run on the server's machine when every admin key is lost or revoked.
/// Without either it takes the database <c>serve</c> would, from the same configuration (<see cref="PromptVaultServer.ResolveStorage"/>:
/// <c>PromptVault:Postgres</c>, <c>DATABASE_URL</c>, else an existing <c>promptvault.db</c>), never a new SQLite file, and says which;
/// a key there that <c>serve</c> would refuse as unknown is refused before any database is opened.
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
        var storage = new ServerOptions { DatabasePath = database };
        try
        {
            if (postgres is not null)
                storage.Postgres = ServerStorage.ParsePostgres(postgres, "--postgres");
            PromptVaultServer.ResolveStorage(storage);
        }
        catch (InvalidOperationException e)
        {
            context.WriteError(e.Message);
            return ExitCodes.Usage;
        }
        if (storage.Postgres is null && DatabaseFiles.Check(database ?? storage.DatabasePath!, mustExist: true) is { } problem)
        {
            context.WriteError(database is null
                ? $"give the server's database: --db FILE or --postgres CONNSTRING (none was given, nor {ServerStorage.PostgresKey} or {ServerStorage.DatabaseUrlKey} in {PromptVaultServer.StorageSettingSources}; and serve's default file {storage.DatabasePath} does not exist)."
                : problem);
            return ExitCodes.Usage;
        }
        var where = ServerStorage.Describe(storage);
        // Named before the key is made, so an operator sees a database other than the server's in time.
        if (database is null && postgres is null)
            context.WriteWarning($"no --db or --postgres given, so using the database serve would use here: {where}.");
        Core.Contracts.CreatedApiKeyResponse created;
        try
        {
            created = await PromptVaultServer.CreateRecoveryAdminKeyAsync(storage, cancellationToken);
        }
        catch (Exception e) when (ServerStorage.IsDatabaseFailure(e) || e is InvalidOperationException)
        {
            context.WriteError($"{where}: {ServerStorage.FailureMessage(e)}");
            return ExitCodes.Refused;
        }
        return context.Print(json, created, () =>
        {
            context.Out.WriteLine($"Created admin API key '{created.Name}', id {created.Id}, in {where}.");
            context.Out.WriteLine($"Key (shown once, store it now): {created.Key}");
        });
    }
}
