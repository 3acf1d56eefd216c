using System.Diagnostics;
using System.Text;

namespace PromptVault.Cli.Tests;

/// <summary><c>dotnet promptvault.dll serve --db FILE --urls http://127.0.0.1:0</c> as a real child process.</summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private const string ListeningLine = "PromptVault is listening on ";
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource<string> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private bool _disposed;

    private ServerProcess(Process process) => _process = process;

    /// <summary>Where the server listens, as its "listening on" line says.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>
    /// What the process printed so far: stdout, and stderr lines prefixed <c>stderr: </c>. Once started, it holds the lines
    /// printed before the "listening on" line (the first admin key's).
    /// </summary>
    public string Output
    {
        get { lock (_output) return _output.ToString().Replace("\r\n", "\n", StringComparison.Ordinal); }
    }

    /// <summary>Starts the server on <paramref name="database"/> and waits until it says it is listening (60 s at most).</summary>
    public static Task<ServerProcess> StartAsync(string database) => StartAsync(["--db", database], Path.GetDirectoryName(database)!);

    /// <summary>Starts <c>serve</c> with <paramref name="storage"/> options (none: from the environment) in <paramref name="workingDirectory"/>.</summary>
    /// <param name="environment">Variables added to the process's environment (DATABASE_URL, PromptVault__Postgres).</param>
    /// <remarks>
    /// The server binds port 0 and the port the system gave it is read from its "listening on" line: a port picked free here,
    /// or one a killed server released, could be taken by another test process before the server bound it.
    /// </remarks>
    public static async Task<ServerProcess> StartAsync(IEnumerable<string> storage, string workingDirectory,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = StartInfo(["serve", .. storage, "--urls", "http://127.0.0.1:0"]);
        start.WorkingDirectory = workingDirectory;
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        var server = new ServerProcess(new Process { StartInfo = start });
        server._process.OutputDataReceived += (_, e) => server.Append(e.Data, "");
        server._process.ErrorDataReceived += (_, e) => server.Append(e.Data, "stderr: ");
        server._process.Start();
        server._process.BeginOutputReadLine();
        server._process.BeginErrorReadLine();
        try
        {
            server.BaseAddress = await server.ListeningAddressAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Ends the process with SIGKILL: no shutdown code runs, as in a crash.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync(CancellationToken.None);
    }

    /// <summary>Kills the process; again, it does nothing (a test that restarts its server disposes the last one on every path).</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        await KillAsync();
        _process.Dispose();
    }

    private void Append(string? line, string prefix)
    {
        if (line is null) return;
        lock (_output) _output.Append(prefix).AppendLine(line);
        if (prefix.Length == 0 && line.StartsWith(ListeningLine, StringComparison.Ordinal))
            _listening.TrySetResult(line[ListeningLine.Length..].Split(' ', ',')[0]);
    }

    /// <summary>
    /// The address in the line <c>serve</c> prints once it listens (after migrating and binding), the first address there
    /// being the one of <c>--urls</c>.
    /// </summary>
    private async Task<Uri> ListeningAddressAsync()
    {
        var ct = TestContext.Current.CancellationToken;
        try
        {
            await Task.WhenAny(_listening.Task, _process.WaitForExitAsync(ct)).WaitAsync(TimeSpan.FromSeconds(60), ct);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"serve did not say it listens within 60 s:\n{Output}");
        }
        Assert.True(_listening.Task.IsCompleted, $"serve exited early:\n{Output}");
        return new Uri(await _listening.Task);
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
