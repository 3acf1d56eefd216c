using System.Text.Json.Nodes;
using PromptVault.Server.Tests;
using PromptVault.Server.Tests.Postgres;

namespace PromptVault.Cli.Tests;

/// <summary>`export` / `import` between the engines (issue 12): a registry leaves SQLite for PostgreSQL and comes back unchanged.</summary>
public sealed partial class ExportImportCommandTests
{
    [Fact]
    public async Task ExportImport_SqliteToPostgresToSqlite_EverythingReadsTheSame_AndExportsTheSameDocument()
    {
        using var folder = new TempFolder();
        await using var sqlite = await RunningServer.StartAsync(TestContext.Current.CancellationToken);
        var registry = await FillAsync(sqlite);
        var fromSqlite = folder.File("sqlite.json");
        Assert.Equal(0, (await Cli.RunAsync(sqlite, null, "export", "--out", fromSqlite)).ExitCode);

        await using var postgres = await SharedDatabaseServers.StartAsync(count: 1, cancellationToken: TestContext.Current.CancellationToken);
        var imported = await Cli.RunAsync(Remote(postgres.BaseAddress(0), postgres.AdminKey), "import", fromSqlite, "--json");
        Assert.True(imported.ExitCode == 0, imported.ToString());
        Assert.Equal(registry.Prompts.Order(StringComparer.Ordinal), JsonNode.Parse(imported.Out)!["addedPrompts"]!.AsArray().Select(n => n!.GetValue<string>()));
        var onPostgres = Remote(postgres.BaseAddress(0), sqlite.AdminKey); // the SQLite registry's keys came along
        var fromPostgres = folder.File("postgres.json");
        var exported = await Cli.RunAsync(onPostgres, "export", "--out", fromPostgres);
        Assert.True(exported.ExitCode == 0, exported.ToString());

        await using var back = await RunningServer.StartAsync(TestContext.Current.CancellationToken);
        Assert.Equal(0, (await Cli.RunAsync(back, null, "import", fromPostgres)).ExitCode);
        var fromBack = folder.File("back.json");
        Assert.Equal(0, (await Cli.RunAsync(back, sqlite.AdminKey, "export", "--out", fromBack)).ExitCode);

        using var sqliteClient = sqlite.CreateClient();
        using var postgresClient = new HttpClient { BaseAddress = postgres.BaseAddress(0) };
        postgresClient.DefaultRequestHeaders.Authorization = new("Bearer", sqlite.AdminKey);
        using var backClient = back.CreateClient(sqlite.AdminKey);
        foreach (var path in ReadPaths(registry))
        {
            var expected = path + " " + await ReadAsync(sqliteClient, path);
            Assert.Equal(expected, path + " " + await ReadAsync(postgresClient, path));
            Assert.Equal(expected, path + " " + await ReadAsync(backClient, path));
        }
        var document = WithoutExportTime(await File.ReadAllTextAsync(fromSqlite, TestContext.Current.CancellationToken));
        Assert.Equal(document, WithoutExportTime(await File.ReadAllTextAsync(fromPostgres, TestContext.Current.CancellationToken)));
        Assert.Equal(document, WithoutExportTime(await File.ReadAllTextAsync(fromBack, TestContext.Current.CancellationToken)));
    }

    private static Dictionary<string, string?> Remote(Uri server, string apiKey) =>
        new() { ["PROMPTVAULT_URL"] = server.ToString(), ["PROMPTVAULT_API_KEY"] = apiKey };
}
