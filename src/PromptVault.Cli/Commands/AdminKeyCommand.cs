using Microsoft.Extensions.Configuration;
using PromptVault.Server.Hosting;

namespace PromptVault.Cli.Commands;

/// <summary>
/// <c>admin-key --db FILE | --postgres CONNSTRING</c>: run on the server's machine when every admin key is lost or revoked.
/// Without either it takes the database <c>serve</c> would (<c>PromptVault:Postgres</c>, <c>DATABASE_URL</c>, else an existing
/// <c>promptvault.db</c>), never a new SQLite file.
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
        // The database serve would use (ServerStorage.Resolve): a PostgreSQL deployment's setting, else SQLite's default file.
        var storage = new ServerOptions { DatabasePath = database };
        try
        {
            if (postgres is not null)
                storage.Postgres = ServerStorage.ParsePostgres(postgres, "--postgres");
            ServerStorage.Resolve(storage, Configuration());
        }
        catch (InvalidOperationException e)
        {
            context.WriteError(e.Message);
            return ExitCodes.Usage;
        }
        if (storage.Postgres is null && DatabaseFiles.Check(database ?? storage.DatabasePath!, mustExist: true) is { } problem)
        {
            context.WriteError(database is null
                ? $"give the server's database: --db FILE or --postgres CONNSTRING (none was given, nor {ServerStorage.PostgresKey} or {ServerStorage.DatabaseUrlKey}, and serve's default file {storage.DatabasePath} does not exist)."
                : problem);
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

    /// <summary>Where serve reads <see cref="ServerStorage.PostgresKey"/> and <see cref="ServerStorage.DatabaseUrlKey"/>: appsettings.json, then the environment.</summary>
    private IConfiguration Configuration()
    {
        var configuration = new ConfigurationManager();
        configuration.AddJsonFile(Path.GetFullPath("appsettings.json"), optional: true, reloadOnChange: false);
        configuration.AddInMemoryCollection(
        [
            new(ServerStorage.PostgresKey, context.GetEnvironmentVariable(ServerStorage.PostgresKey.Replace(":", "__", StringComparison.Ordinal))),
            new(ServerStorage.DatabaseUrlKey, context.GetEnvironmentVariable(ServerStorage.DatabaseUrlKey)),
        ]);
        return configuration;
    }
}
