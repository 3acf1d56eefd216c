using PromptVault.Server.Hosting;

namespace PromptVault.Cli.Commands;

/// <summary>
/// <c>admin-key --db FILE</c>: run on the server's machine when every admin key is lost or revoked. Creates a new admin key
/// directly in the database (audited as <c>api_key.admin_recovered</c>) and prints it once. A running server accepts it at once.
/// </summary>
internal sealed class AdminKeyCommand(CliContext context)
{
    public async Task<int> InvokeAsync(string? database, string? postgres, bool json, CancellationToken cancellationToken)
    {
        context.JsonErrors = json;
        if (postgres is not null)
        {
            context.WriteError("PostgreSQL storage is not available yet; use --db FILE with the server's SQLite database.");
            return ExitCodes.Usage;
        }
        if (database is null)
        {
            context.WriteError("give the server's database: --db FILE.");
            return ExitCodes.Usage;
        }
        if (DatabaseFiles.Check(database, mustExist: true) is { } problem)
        {
            context.WriteError(problem);
            return ExitCodes.Usage;
        }

        var path = Path.GetFullPath(database);
        Core.Contracts.CreatedApiKeyResponse created;
        try
        {
            created = await PromptVaultServer.CreateRecoveryAdminKeyAsync(path, cancellationToken);
        }
        catch (Exception e) when (e is Microsoft.Data.Sqlite.SqliteException or IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            context.WriteError($"--db {path}: {e.Message.ReplaceLineEndings(" ")}");
            return ExitCodes.Refused;
        }
        if (json)
        {
            context.WriteJson(created);
            return ExitCodes.Success;
        }
        context.Out.WriteLine($"Created admin API key '{created.Name}', id {created.Id}, in {path}.");
        context.Out.WriteLine($"Key (shown once, store it now): {created.Key}");
        return ExitCodes.Success;
    }
}
