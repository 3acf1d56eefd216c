using System.Net;
using Npgsql;
using PromptVault.Storage.Testing;

namespace PromptVault.Cli.Tests;

/// <summary>
/// `admin-key` with neither --db nor --postgres, as a real process beside a running `serve`: it reads the configuration serve
/// reads, so the key it makes is one for the server's database, and it names that database before making the key.
/// </summary>
public sealed class AdminKeyCommandTests
{
    private const string Using = "warning: no --db or --postgres given, so using the database serve would use here: ";

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task NoOption_TakesServesDefaultFile_AndNamesIt()
    {
        using var folder = new TempFolder();
        await using var server = await ServerProcess.StartAsync([], folder.Path);

        var result = await RunAsync(folder, new Dictionary<string, string>());

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal($"{Using}database {folder.File("promptvault.db")}.\n", result.Error);
        Assert.Equal(HttpStatusCode.OK, await KeysStatusAsync(server, result));
    }

    /// <param name="setting">How the PostgreSQL connection string reaches both commands: a file in the working directory or a variable.</param>
    [Theory]
    [InlineData("appsettings.Production.json")]
    [InlineData("appsettings.json")]
    [InlineData("promptvault__postgres")]
    [InlineData("PromptVault__Postgres")]
    [InlineData("DATABASE_URL")]
    public async Task NoOption_TakesThePostgresServeRunsOn_FromTheSameConfiguration_AndNamesIt(string setting)
    {
        using var folder = new TempFolder();
        await using var database = await PostgresServer.CreateDatabaseAsync(migrated: false, Cancel);
        var environment = new Dictionary<string, string>();
        if (setting.EndsWith(".json", StringComparison.Ordinal))
        {
            folder.Write(setting, $$"""{ "PromptVault": { "Postgres": "{{database.ConnectionString}}" } }""");
            environment["DOTNET_ENVIRONMENT"] = "Production";
        }
        else
            environment[setting] = database.ConnectionString;
        await using var server = await ServerProcess.StartAsync([], folder.Path, environment);

        var result = await RunAsync(folder, environment);

        Assert.True(result.ExitCode == 0, result.ToString());
        var described = $"PostgreSQL database '{new NpgsqlConnectionStringBuilder(database.ConnectionString).Database}' on 127.0.0.1";
        Assert.StartsWith($"{Using}{described}", result.Error, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, await KeysStatusAsync(server, result));
        Assert.DoesNotContain(Directory.GetFiles(folder.Path), file => file.EndsWith(".db", StringComparison.Ordinal));
    }

    /// <summary>`promptvault admin-key` in <paramref name="folder"/>, with <paramref name="environment"/> added to the process's.</summary>
    private static Task<CliResult> RunAsync(TempFolder folder, IReadOnlyDictionary<string, string> environment)
    {
        var start = ServerProcess.StartInfo(["admin-key"]);
        start.WorkingDirectory = folder.Path;
        foreach (var (name, value) in environment) start.Environment[name] = value;
        return ServeCommandTests.RunToExitAsync(start);
    }

    /// <summary>What the running server answers GET /api/keys with the key admin-key printed.</summary>
    private static async Task<HttpStatusCode> KeysStatusAsync(ServerProcess server, CliResult adminKey)
    {
        const string keyLine = "Key (shown once, store it now): ";
        var key = Assert.Single(adminKey.Out.Split('\n'), line => line.StartsWith(keyLine, StringComparison.Ordinal))[keyLine.Length..].Trim();
        using var client = new HttpClient { BaseAddress = server.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new("Bearer", key);
        using var response = await client.GetAsync("/api/keys", Cancel);
        return response.StatusCode;
    }
}
