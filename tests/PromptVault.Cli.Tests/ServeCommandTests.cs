using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

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
        var ct = TestContext.Current.CancellationToken;
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { PromptVaultDll(), "serve", "--db", database, "--urls", $"http://127.0.0.1:{port}" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(database)!,
        };
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        var output = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine("stderr: " + e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
            var deadline = Stopwatch.StartNew();
            while (true)
            {
                Assert.False(process.HasExited, $"serve exited early:\n{Snapshot(output)}");
                Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(60), $"serve did not become healthy within 60 s:\n{Snapshot(output)}");
                try
                {
                    using var response = await http.GetAsync($"http://127.0.0.1:{port}/healthz", ct);
                    if (response.StatusCode == HttpStatusCode.OK) break;
                }
                catch (HttpRequestException)
                {
                    // Not listening yet.
                }
                catch (TaskCanceledException) when (!ct.IsCancellationRequested)
                {
                    // Slow first request.
                }
                await Task.Delay(200, ct);
            }
            // The listening line is printed right after start; give the pipe a moment to deliver it.
            for (var i = 0; i < 50 && !Snapshot(output).Contains("PromptVault is listening", StringComparison.Ordinal); i++)
                await Task.Delay(100, ct);
            return Snapshot(output);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
        }
    }

    private static string Snapshot(StringBuilder output)
    {
        lock (output) return output.ToString().Replace("\r\n", "\n", StringComparison.Ordinal);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The built CLI: copied beside the tests by the project reference.</summary>
    private static string PromptVaultDll()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "promptvault.dll");
        Assert.True(File.Exists(path), $"{path} is missing: build src/PromptVault.Cli.");
        return path;
    }
}
