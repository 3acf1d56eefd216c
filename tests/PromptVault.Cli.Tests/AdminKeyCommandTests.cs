using System.Net;
using System.Security.Cryptography;
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

    /// <summary>
    /// A misspelt setting (<c>PROMPTVAULT__POSTGRESS</c>) left admin-key on serve's default SQLite file, silently, where serve refused
    /// to start: admin-key refuses it as serve does, naming the variable as set, before opening a database or creating one.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task NoOption_AMisspeltSetting_IsRefusedAsServeRefusesIt_AndNoDatabaseIsTouched(bool servesDefaultFileExists)
    {
        using var folder = new TempFolder();
        if (servesDefaultFileExists)
            await ServeCommandTests.MigratedDatabaseAsync(folder.File("promptvault.db"));
        var before = Files(folder);

        var result = await RunAsync(folder, new Dictionary<string, string> { ["PROMPTVAULT__POSTGRESS"] = "Host=127.0.0.1;Database=promptvault" });

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Equal("error: configuration PromptVault:POSTGRESS (set in the environment as PROMPTVAULT__POSTGRESS) is not a setting of the server; " +
            "did you mean PromptVault:Postgres? docs/deployment.md lists the settings.\n", result.Error.ReplaceLineEndings("\n"));
        Assert.Equal(before, Files(folder));
        Assert.Equal(servesDefaultFileExists, File.Exists(folder.File("promptvault.db")));
    }

    /// <summary>Each file in <paramref name="folder"/> with a hash of its bytes, to see that nothing was written.</summary>
    private static List<string> Files(TempFolder folder) =>
        [.. Directory.GetFiles(folder.Path).Order(StringComparer.Ordinal).Select(file => $"{Path.GetFileName(file)} {Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(file)))}")];

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
