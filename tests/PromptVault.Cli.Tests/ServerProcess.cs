using System.Diagnostics;
using System.Net;
using System.Text;
using PromptVault.Storage.Testing;

namespace PromptVault.Cli.Tests;

/// <summary><c>dotnet promptvault.dll serve --db FILE --urls http://127.0.0.1:PORT</c> as a real child process.</summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ServerProcess(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    /// <summary>What the process printed so far: stdout, and stderr lines prefixed <c>stderr: </c>.</summary>
    public string Output
    {
        get { lock (_output) return _output.ToString().Replace("\r\n", "\n", StringComparison.Ordinal); }
    }

    /// <summary>Starts the server on <paramref name="database"/> and waits until <c>/healthz</c> answers (60 s at most).</summary>
    /// <param name="port">The port to listen on; a free one when null.</param>
    public static Task<ServerProcess> StartAsync(string database, int? port = null) =>
        StartAsync(["--db", database], Path.GetDirectoryName(database)!, port: port);

    /// <summary>Starts <c>serve</c> with <paramref name="storage"/> options (none: from the environment) in <paramref name="workingDirectory"/>.</summary>
    /// <param name="environment">Variables added to the process's environment (DATABASE_URL, PromptVault__Postgres).</param>
    public static async Task<ServerProcess> StartAsync(IEnumerable<string> storage, string workingDirectory,
        IReadOnlyDictionary<string, string>? environment = null, int? port = null)
    {
        var baseAddress = new Uri($"http://127.0.0.1:{port ?? FreePorts.Pick()}");
        var start = StartInfo(["serve", .. storage, "--urls", baseAddress.ToString().TrimEnd('/')]);
        start.WorkingDirectory = workingDirectory;
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        var server = new ServerProcess(new Process { StartInfo = start }, baseAddress);
        server._process.OutputDataReceived += (_, e) => server.Append(e.Data, "");
        server._process.ErrorDataReceived += (_, e) => server.Append(e.Data, "stderr: ");
        server._process.Start();
        server._process.BeginOutputReadLine();
        server._process.BeginErrorReadLine();
        try
        {
            await server.WaitUntilHealthyAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Waits until <see cref="Output"/> holds <paramref name="text"/> (a line the server prints while starting, delivered through
    /// the pipe after <c>/healthz</c> may have answered), the process exits, or 30 s pass; returns the output. 5 s was a bound a
    /// loaded machine could break.
    /// </summary>
    public async Task<string> OutputOnceItHoldsAsync(string text)
    {
        var waited = Stopwatch.StartNew();
        while (!Output.Contains(text, StringComparison.Ordinal) && !_process.HasExited && waited.Elapsed < TimeSpan.FromSeconds(30))
            await Task.Delay(50, TestContext.Current.CancellationToken);
        return Output;
    }

    /// <summary>Ends the process with SIGKILL: no shutdown code runs, as in a crash.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync(CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
    }

    private void Append(string? line, string prefix)
    {
        if (line is null) return;
        lock (_output) _output.Append(prefix).AppendLine(line);
    }

    private async Task WaitUntilHealthyAsync()
    {
        var ct = TestContext.Current.CancellationToken;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            Assert.False(_process.HasExited, $"serve exited early:\n{Output}");
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(60), $"serve did not become healthy within 60 s:\n{Output}");
            try
            {
                using var response = await http.GetAsync(new Uri(BaseAddress, "/healthz"), ct);
                if (response.StatusCode == HttpStatusCode.OK) return;
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException) when (!ct.IsCancellationRequested)
            {
                // Slow first request.
            }
            await Task.Delay(100, ct);
        }
    }

    /// <summary><c>dotnet promptvault.dll ARGS</c>, its output redirected.</summary>
    internal static ProcessStartInfo StartInfo(IEnumerable<string> args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(PromptVaultDll());
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        return start;
    }

    /// <summary>The built CLI: copied beside the tests by the project reference.</summary>
    internal static string PromptVaultDll()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "promptvault.dll");
        Assert.True(File.Exists(path), $"{path} is missing: build src/PromptVault.Cli.");
        return path;
    }
}
