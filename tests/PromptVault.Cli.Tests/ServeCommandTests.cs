namespace PromptVault.Cli.Tests;

/// <summary>`promptvault serve` as a real child process: the first admin key is printed once, on an empty database only.</summary>
public sealed class ServeCommandTests
{
    private const string KeyLine = "Created the first admin API key (shown once, store it now): pv_";

    [Fact]
    public async Task Serve_NewThenExistingDatabase_PrintsTheAdminKeyOnlyTheFirstTime()
    {
        using var folder = new TempFolder();
        var database = folder.File("x.db");

        var first = await RunUntilHealthyAsync(database);
        var second = await RunUntilHealthyAsync(database);

        Assert.Single(first.Split('\n'), line => line.StartsWith(KeyLine, StringComparison.Ordinal));
        Assert.Contains("PromptVault is listening on http://127.0.0.1:", first);
        Assert.DoesNotContain("pv_", second);
        Assert.Contains("PromptVault is listening on http://127.0.0.1:", second);
        Assert.True(File.Exists(database));
    }

    /// <summary>Starts `dotnet promptvault.dll serve`, waits for /healthz, kills it and returns its stdout.</summary>
    private static async Task<string> RunUntilHealthyAsync(string database)
    {
        await using var server = await ServerProcess.StartAsync(database);
        // The listening line is printed right after start; give the pipe a moment to deliver it.
        for (var i = 0; i < 50 && !server.Output.Contains("PromptVault is listening", StringComparison.Ordinal); i++)
            await Task.Delay(100, TestContext.Current.CancellationToken);
        return server.Output;
    }
}
