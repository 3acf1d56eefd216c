using PromptVault.Server.Tests;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using PromptVault.Core.Audit;
using PromptVault.Core.Auth;
using PromptVault.Storage.Sqlite;
using PromptVault.Storage.Testing;

namespace PromptVault.Cli.Tests;

/// <summary>
/// `promptvault serve` as a real child process. That the first admin key is printed once, on an empty database only, is
/// proved on a restart in <see cref="DashboardKeyRingTests"/>, which starts serve on a new file and again on it.
/// </summary>
public sealed class ServeCommandTests
{
    [Fact]
    public void Serve_RunsWithTheServerGarbageCollector_WithoutItsDynamicAdaptation()
    {
        // Workstation GC's small gen0 budget promoted every metric batch waiting for its commit to gen2, and DATAS's small
        // budget collected gen0 five times as often under render load (docs/benchmarks.md).
        var runtimeConfig = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.ChangeExtension(ServerProcess.PromptVaultDll(), ".runtimeconfig.json")));
        var properties = runtimeConfig?["runtimeOptions"]?["configProperties"];

        Assert.True(properties?["System.GC.Server"]?.GetValue<bool>());
        Assert.Equal(0, properties?["System.GC.DynamicAdaptationMode"]?.GetValue<int>());
    }

    [Theory]
    [InlineData("http://127.0.0.1:notaport", "notaport")]
    [InlineData("127.0.0.1:5180", "no scheme")]
    public async Task Serve_BadUrls_FailsInOneLine_BeforeCreatingTheDatabase(string urls, string named)
    {
        using var folder = new TempFolder();
        var database = folder.File("x.db");

        var result = await RunToExitAsync(["serve", "--db", database, "--urls", urls]);

        AssertOneLineFailure(result, named);
        Assert.False(File.Exists(database), "serve created the database before checking --urls");
    }

    [Fact]
    public async Task Serve_PortInUse_FailsInOneLine_WithAHintToChooseAnotherAddress_WithoutPrintingAKey()
    {
        using var folder = new TempFolder();
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;

        var result = await RunToExitAsync(["serve", "--db", folder.File("x.db"), "--urls", $"http://127.0.0.1:{port}"]);

        Assert.True(result.ExitCode == 2, result.ToString());
        var lines = result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith($"error: cannot listen on http://127.0.0.1:{port}: ", lines[0]);
        Assert.Equal("hint: is another program, such as another 'promptvault serve', listening there? Stop it, or give serve another address with --urls (e.g. --urls http://127.0.0.1:5181).", lines[1]);
        Assert.DoesNotContain("Exception", result.Error);
        Assert.DoesNotContain("pv_", result.Out);
    }

    [Fact]
    public async Task Serve_BadPriceSetting_FailsInOneLineNamingIt()
    {
        using var folder = new TempFolder();

        var result = await RunToExitAsync(["serve", "--db", folder.File("x.db"), "--urls", "http://127.0.0.1:0"],
            ("PromptVault__Prices__house-model__InputPerMillion", "cheap"));

        AssertOneLineFailure(result, "PromptVault:Prices:house-model:InputPerMillion");
    }

    /// <summary>The refusal spelt the variable in the case configuration hands the key back in (<c>PromptVault__WEBHOOKS__…</c>), not as set.</summary>
    [Fact]
    public async Task Serve_UnknownKeyInTheEnvironment_FailsInOneLine_NamingTheVariableAsSet_BeforeCreatingTheDatabase()
    {
        using var folder = new TempFolder();
        var database = folder.File("x.db");

        var result = await RunToExitAsync(["serve", "--db", database, "--urls", "http://127.0.0.1:0"], ("PROMPTVAULT__WEBHOOKS__MAXATTEMPT", "3"));

        AssertOneLineFailure(result, "configuration PromptVault:WEBHOOKS:MAXATTEMPT (set in the environment as PROMPTVAULT__WEBHOOKS__MAXATTEMPT) " +
            "is not a setting of the server; did you mean PromptVault:Webhooks:MaxAttempts?");
        Assert.False(File.Exists(database), "serve created the database before refusing the setting");
    }

    [Fact]
    public async Task Serve_FileThatIsNotADatabase_FailsInOneLineNamingIt()
    {
        using var folder = new TempFolder();
        var database = folder.Write("notes.db", new string('x', 4096));

        var result = await RunToExitAsync(["serve", "--db", database, "--urls", "http://127.0.0.1:0"]);

        AssertOneLineFailure(result, database);
    }

    [Fact]
    public async Task Serve_ReadOnlyDatabaseFile_FailsInOneLineNamingIt_InsteadOfServingWritesAs500()
    {
        using var folder = new TempFolder();
        var database = folder.File("x.db");
        await MigratedDatabaseAsync(database); // a database with its schema: nothing to migrate, so no write at start

        using (ReadOnlyFile.Make(database))
        {
            var result = await RunToExitAsync(["serve", "--db", database, "--urls", "http://127.0.0.1:0"]);

            AssertOneLineFailure(result, database);
            Assert.Contains("is read-only", result.Error);
            Assert.DoesNotContain("listening", result.Out);
        }
    }

    [Fact]
    public async Task Serve_NoPostgresListeningThere_FailsInOneLine_SayingTheConnectionWasRefused()
    {
        // Before, only Npgsql's "Failed to connect to 127.0.0.1:PORT": down, or a firewall dropping the packets?
        var free = new TcpListener(IPAddress.Loopback, 0);
        free.Start();
        var port = ((IPEndPoint)free.LocalEndpoint).Port;
        free.Stop();

        var result = await RunToExitAsync(["serve", "--postgres", $"Host=127.0.0.1;Port={port};Database=pv;Username=pv", "--urls", "http://127.0.0.1:0"]);

        AssertOneLineFailure(result, $"PostgreSQL database 'pv' on 127.0.0.1:{port}: Failed to connect to 127.0.0.1:{port}: Connection refused");
    }

    internal static void AssertOneLineFailure(CliResult result, string named)
    {
        Assert.True(result.ExitCode == 2, result.ToString());
        var lines = result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, result.ToString());
        Assert.StartsWith("error: ", lines[0]);
        Assert.Contains(named, lines[0]);
        Assert.DoesNotContain("   at ", result.Out + result.Error);
        Assert.DoesNotContain("Exception", result.Out + result.Error);
    }

    /// <summary>Runs `dotnet promptvault.dll ARGS` to its exit (at most 60 s) and returns its exit code, stdout and stderr.</summary>
    internal static Task<CliResult> RunToExitAsync(string[] args, params (string Name, string Value)[] environment)
    {
        var start = ServerProcess.StartInfo(args);
        foreach (var (name, value) in environment) start.Environment[name] = value;
        return RunToExitAsync(start);
    }

    /// <summary>Runs <paramref name="start"/> (from <see cref="ServerProcess.StartInfo"/>) to its exit, at most 60 s.</summary>
    internal static async Task<CliResult> RunToExitAsync(ProcessStartInfo start)
    {
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        return new CliResult(process.ExitCode, (await stdout).Replace("\r\n", "\n", StringComparison.Ordinal),
            (await stderr).Replace("\r\n", "\n", StringComparison.Ordinal));
    }

    /// <summary>
    /// A SQLite file at <paramref name="path"/> as a server leaves it after its first start, made in this process without the
    /// seconds of CPU a serve process takes to start: PromptVault's schema and a first admin key, so that a serve started on
    /// it has nothing to write.
    /// </summary>
    internal static async Task MigratedDatabaseAsync(string path)
    {
        var cancel = TestContext.Current.CancellationToken;
        using var connections = new SqliteConnectionFactory(path);
        await new SqliteDatabase(connections).MigrateAsync(cancel);
        await using var store = new SqlitePromptStore(connections);
        var admin = new ApiKey(Samples.NewId(), "admin", ApiKeyRole.Admin, "pv_first", Samples.Now, "serve", null);
        Assert.True(await store.CreateFirstAdminKeyAsync(admin, "hash", Samples.Audit(AuditActions.ApiKeyCreated, null, admin.Id), cancel));
    }
}
