using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Npgsql;
using PromptVault.Server.Tests;
using PromptVault.Server.Tests.Postgres;
using PromptVault.Storage.Testing;
using static PromptVault.Server.Tests.ApiCalls;
using static PromptVault.Server.Tests.Postgres.SharedDatabaseTests;

namespace PromptVault.Cli.Tests;

/// <summary>`serve --postgres`, DATABASE_URL, PromptVault:Postgres and `admin-key --postgres` (SPEC §6, issue 12), on a real PostgreSQL.</summary>
public sealed class PostgresCommandTests
{
    private const string KeyLine = "Created the first admin API key (shown once, store it now): ";

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AdminKey_Postgres_CreatesAnAdminKeyThatTheRunningServerAcceptsAtOnce()
    {
        await using var servers = await SharedDatabaseServers.StartAsync(count: 1, cancellationToken: Cancel);

        var result = await Cli.RunAsync(Cli.NoEnvironment, "admin-key", "--postgres", servers.ConnectionString, "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        var created = JsonNode.Parse(result.Out)!;
        Assert.Equal("admin", created.Str("role"));
        using var client = servers.CreateClient(0, created.Str("key"));
        var (status, audit) = await GetAsync(client, "/api/audit");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("api_key.admin_recovered", audit!.ToJsonString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("postgresql://pv:s3cret@db/promptvault?sslmode=sometimes", "sslmode")]
    [InlineData("Host=db;Username=pv;Colour=blue", "colour")]
    [InlineData("Host=db;Password=s3cret;Colour=blue", "Quote a value that contains ';'")]
    public async Task AdminKey_MalformedPostgres_IsAUsageErrorNamingIt_WithoutThePassword(string postgres, string named)
    {
        var result = await Cli.RunAsync(Cli.NoEnvironment, "admin-key", "--postgres", postgres);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("--postgres", result.Error, StringComparison.Ordinal);
        Assert.Contains(named, result.Error, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("s3cret", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AdminKey_UnreachableDatabase_IsRefusedNamingIt()
    {
        using var refused = new RefusedPort();

        var result = await Cli.RunAsync(Cli.NoEnvironment, "admin-key", "--postgres", $"Host=127.0.0.1;Port={refused.Port};Database=gone;Username=pv;Timeout=3");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("PostgreSQL database 'gone' on 127.0.0.1", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AdminKeyAndServe_BothDbAndPostgres_AreRefused()
    {
        using var folder = new TempFolder();

        var adminKey = await Cli.RunAsync(Cli.NoEnvironment, "admin-key", "--db", folder.File("x.db"), "--postgres", "Host=db");
        var serve = await Cli.RunAsync(Cli.NoEnvironment, "serve", "--db", folder.File("x.db"), "--postgres", "Host=db");

        Assert.All([adminKey, serve], r => Assert.True(r.ExitCode == 2 && r.Error.Contains("not both", StringComparison.Ordinal), r.ToString()));
        Assert.False(File.Exists(folder.File("x.db")));
    }

    /// <summary>
    /// Also `serve --postgres` itself: the first process prints the first admin key and names the database, the second (started
    /// once the first listens, so the key is stored) prints no key, and neither leaves a SQLite file beside it.
    /// </summary>
    [Fact]
    public async Task TwoServeProcesses_OnOneDatabase_ServeALabelMovedThroughTheOther_AndRefuseAKeyRevokedThroughIt()
    {
        using var folder = new TempFolder();
        await using var database = await PostgresServer.CreateDatabaseAsync(migrated: false, Cancel);
        await using var first = await ServerProcess.StartAsync(["--postgres", database.ConnectionString], folder.Path);
        var adminKey = first.Output.Split('\n').Single(l => l.StartsWith(KeyLine, StringComparison.Ordinal))[KeyLine.Length..].Trim();
        await using var second = await ServerProcess.StartAsync(["--postgres", database.ConnectionString], folder.Path);
        Assert.Contains($"PostgreSQL database '{new NpgsqlConnectionStringBuilder(database.ConnectionString).Database}' on 127.0.0.1", first.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(KeyLine, second.Output, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(folder.Path)); // no SQLite file beside them
        using var a = Client(first, adminKey);
        using var b = Client(second, adminKey);
        var name = await CreateSupportPromptAsync(a);
        Assert.Equal(1L, await ScalarAsync(database, $"SELECT count(*) FROM prompts WHERE name = '{name}'"));
        Assert.Equal(HttpStatusCode.OK, (await PutAsync(a, $"/api/prompts/{name}/labels/production", new { version = "1.0.0" })).Status);
        await Eventually(() => RenderAsync(b, name), r => r.Str("version") == "1.0.0"); // B has the prompt cached now
        var (status, writer) = await PostAsync(a, "/api/keys", new { name = "writer-bot", role = "writer" });
        Assert.Equal(HttpStatusCode.Created, status);
        using var bAsWriter = Client(second, writer.Str("key"));
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(bAsWriter, "/api/prompts")).Status); // and the key

        await NewVersionAsync(a, name, new { content = "Version two for {{company_name}}.", changeDescription = "two" });
        Assert.Equal(HttpStatusCode.OK, (await PutAsync(a, $"/api/prompts/{name}/labels/production", new { version = "1.0.1" })).Status);
        var moved = Stopwatch.StartNew();
        var rendered = await Eventually(() => RenderAsync(b, name), r => r.Str("version") == "1.0.1");
        var renderedAfter = moved.Elapsed;
        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(a, HttpMethod.Delete, $"/api/keys/{writer.Str("id")}")).Status);
        var revoked = Stopwatch.StartNew();
        await Eventually(async () => (await GetAsync(bAsWriter, "/api/prompts")).Status, s => s == HttpStatusCode.Unauthorized);
        var refusedAfter = revoked.Elapsed;

        Assert.Equal("Version two for Acme.", rendered.Str("content"));
        Assert.True(renderedAfter < TimeSpan.FromSeconds(1), $"the second process rendered the new version {renderedAfter} after the move");
        Assert.True(refusedAfter < TimeSpan.FromSeconds(1), $"the second process accepted the revoked key for {refusedAfter}");
    }

    [Theory]
    [InlineData("DATABASE_URL")]
    [InlineData("PromptVault__Postgres")]
    public async Task Serve_WithoutOptions_TakesPostgresFromTheEnvironment(string variable)
    {
        using var folder = new TempFolder();
        await using var database = await PostgresServer.CreateDatabaseAsync(migrated: false, Cancel);
        var settings = new NpgsqlConnectionStringBuilder(database.ConnectionString);
        var url = $"postgresql://{settings.Username}@{settings.Host}:{settings.Port}/{settings.Database}?sslmode=disable&application_name=pv-test";

        await using var server = await ServerProcess.StartAsync([], folder.Path, new Dictionary<string, string> { [variable] = url });
        var output = server.Output;

        Assert.Contains(KeyLine, output, StringComparison.Ordinal);
        Assert.Contains($"PostgreSQL database '{settings.Database}'", output, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(folder.Path));
        Assert.Equal(1L, await ScalarAsync(database, "SELECT count(*) FROM api_keys"));
    }

    [Theory]
    [InlineData("DATABASE_URL", "postgresql://pv:s3cret@db/promptvault?sslmode=sometimes", "DATABASE_URL: sslmode 'sometimes'")]
    [InlineData("DATABASE_URL", "mysql://pv:s3cret@db/promptvault", "DATABASE_URL: a PostgreSQL URL starts with postgresql://")]
    [InlineData("PromptVault__Postgres", "Host=db;Password=s3cret;Colour=blue", "configuration PromptVault:Postgres")]
    public async Task Serve_MalformedPostgresSetting_FailsInOneLineNamingIt(string variable, string value, string named)
    {
        using var folder = new TempFolder();

        var result = await ServeCommandTests.RunToExitAsync(["serve", "--urls", "http://127.0.0.1:0"], (variable, value));

        ServeCommandTests.AssertOneLineFailure(result, named);
        Assert.DoesNotContain("s3cret", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_UnreachablePostgres_FailsInOneLineNamingTheDatabase()
    {
        using var refused = new RefusedPort();

        var result = await ServeCommandTests.RunToExitAsync(["serve", "--postgres", $"Host=127.0.0.1;Port={refused.Port};Database=gone;Username=pv;Timeout=3",
            "--urls", "http://127.0.0.1:0"]);

        ServeCommandTests.AssertOneLineFailure(result, $"PostgreSQL database 'gone' on 127.0.0.1:{refused.Port}");
    }

    /// <summary>
    /// Before, serve printed the migration's refusal without the database's host and port in front (admin-key with them), and
    /// both gave a role at its connection limit PostgreSQL's words alone ("too many connections for role"), not the pool-size
    /// formula a running server gives.
    /// </summary>
    [Theory]
    [InlineData("LOGIN; REVOKE CREATE ON SCHEMA public FROM PUBLIC", "role '{role}' may not create", "ALTER DATABASE {database} OWNER TO {role}")]
    [InlineData("LOGIN CONNECTION LIMIT 0", "53300: too many connections for role",
        "keep servers × (Maximum Pool Size + 1) below the server's max_connections and the role's and database's CONNECTION LIMIT")]
    public async Task ServeAndAdminKey_ARoleTheDatabaseRefuses_FailInTheSameLine_NamingTheDatabaseAndTheFix(string roleOptions, string refusal, string fix)
    {
        await using var database = await PostgresServer.CreateDatabaseAsync(migrated: false, Cancel);
        var role = "server_" + Guid.NewGuid().ToString("N");
        await using (var connection = await database.DataSource.OpenConnectionAsync(Cancel))
        await using (var command = new NpgsqlCommand($"CREATE ROLE {role} {roleOptions}", connection))
            await command.ExecuteNonQueryAsync(Cancel);
        var asRole = new NpgsqlConnectionStringBuilder(database.ConnectionString) { Username = role };
        string Named(string text) => text.Replace("{role}", role, StringComparison.Ordinal).Replace("{database}", asRole.Database, StringComparison.Ordinal);

        var serve = await ServeCommandTests.RunToExitAsync(["serve", "--postgres", asRole.ConnectionString, "--urls", "http://127.0.0.1:0"]);
        var adminKey = await Cli.RunAsync(Cli.NoEnvironment, "admin-key", "--postgres", asRole.ConnectionString);

        ServeCommandTests.AssertOneLineFailure(serve, $"PostgreSQL database '{asRole.Database}' on {asRole.Host}:{asRole.Port}: {Named(refusal)}");
        Assert.Contains(Named(fix), serve.Error, StringComparison.Ordinal);
        Assert.True(adminKey.ExitCode == 1, adminKey.ToString());
        Assert.Equal(serve.Error.Trim(), adminKey.Error.Trim());
    }

    private static HttpClient Client(ServerProcess server, string key)
    {
        var client = new HttpClient { BaseAddress = server.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new("Bearer", key);
        return client;
    }

    private static async Task<long> ScalarAsync(PostgresTestDatabase database, string sql)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync(Cancel);
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync(Cancel))!;
    }
}
