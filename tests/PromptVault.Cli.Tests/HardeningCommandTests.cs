using System.Net;
using System.Text.Json;
using PromptVault.Server.Tests;
using static PromptVault.Server.Tests.ApiCalls;

namespace PromptVault.Cli.Tests;

/// <summary>admin-key recovery, JSON errors for scripts, and the audit of an unknown prompt.</summary>
public sealed class HardeningCommandTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task AdminKey_CreatesAnAdminKeyARunningServerAccepts_AndAuditsIt()
    {
        var result = await Cli.RunAsync(Cli.NoEnvironment, "admin-key", "--db", fixture.Server.DatabasePath);

        Assert.True(result.ExitCode == 0, result.ToString());
        var key = Assert.Single(result.Out.Split('\n'), line => line.StartsWith("Key (shown once, store it now): pv_", StringComparison.Ordinal))
            ["Key (shown once, store it now): ".Length..].Trim();
        using var recovered = fixture.Server.CreateClient(key);
        var (keys, _) = await GetAsync(recovered, "/api/keys");
        var (_, audit) = await GetAsync(recovered, "/api/audit");
        Assert.Equal(HttpStatusCode.OK, keys);
        Assert.Contains(audit!["entries"]!.AsArray(), entry =>
            entry.Str("action") == "api_key.admin_recovered" && entry.Str("actor") == "promptvault admin-key");
    }

    [Fact]
    public async Task AdminKey_MissingDatabase_ExitsTwoAndCreatesNothing()
    {
        using var folder = new TempFolder();
        var database = folder.File("nothing-here.db");

        var result = await Cli.RunAsync(Cli.NoEnvironment, "admin-key", "--db", database);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("no database file", result.Error);
        Assert.False(File.Exists(database));
    }

    /// <summary>The refusal named PromptVault:Postgres and DATABASE_URL but not where they are read, so a setting made elsewhere went unexplained.</summary>
    [Fact]
    public async Task AdminKey_WithoutADatabase_ExitsTwo_SayingWhereTheSettingsAreRead()
    {
        var result = await Cli.RunAsync(Cli.NoEnvironment, "admin-key");

        Assert.Equal(2, result.ExitCode);
        var directory = Directory.GetCurrentDirectory();
        Assert.Equal("error: give the server's database: --db FILE or --postgres CONNSTRING (none was given, nor PromptVault:Postgres or DATABASE_URL in " +
            $"appsettings.json or appsettings.{{Environment}}.json in {directory}, or the environment as PromptVault__Postgres or DATABASE_URL (names in any case); " +
            $"and serve's default file {Path.Combine(directory, "promptvault.db")} does not exist).\n", result.Error.ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task Audit_UnknownPrompt_ExitsOneNamingIt()
    {
        var result = await Cli.RunAsync(fixture.Server, null, "audit", "no-such-prompt");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("", result.Out);
        Assert.Contains("prompt 'no-such-prompt' does not exist", result.Error);
    }

    [Fact]
    public async Task Json_RefusedRequest_PrintsTheErrorAsJsonOnStderr()
    {
        var result = await Cli.RunAsync(fixture.Server, null, "render", "no-such-prompt", "--json");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("", result.Out);
        var error = JsonDocument.Parse(result.Error).RootElement.GetProperty("error");
        Assert.Equal(404, error.GetProperty("status").GetInt32());
        Assert.Equal("Not Found", error.GetProperty("title").GetString());
        Assert.Equal("prompt_not_found", error.GetProperty("code").GetString());
        Assert.Contains("no-such-prompt", error.GetProperty("detail").GetString());
        Assert.Contains("prompt 'no-such-prompt' does not exist", result.Error); // as readable as the API's, not \u0027
        Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries)); // one line, for line-based tools
    }

    [Fact]
    public async Task Json_WrongKey_PrintsTheErrorAndHintAsJson()
    {
        var result = await Cli.RunAsync(fixture.Server, "pv_wrong", "list", "--json");

        Assert.Equal(1, result.ExitCode);
        var error = JsonDocument.Parse(result.Error).RootElement.GetProperty("error");
        Assert.Equal(401, error.GetProperty("status").GetInt32());
        Assert.StartsWith("invalid or revoked API key", error.GetProperty("detail").GetString());
        Assert.Contains("PROMPTVAULT_API_KEY", error.GetProperty("hint").GetString());
    }

    [Theory]
    [InlineData("list", "--json", "--no-such-option")]
    [InlineData("list", "--json", "--server", "ftp://example")]
    [InlineData("push", "--json", "/no/such/prompt.md")]
    public async Task Json_UsageErrors_AreJsonToo(params string[] args)
    {
        var result = await Cli.RunAsync(fixture.Server, null, args);

        Assert.Equal(2, result.ExitCode);
        foreach (var line in result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            Assert.Equal("cli_error", JsonDocument.Parse(line).RootElement.GetProperty("error").GetProperty("code").GetString());
    }
}
